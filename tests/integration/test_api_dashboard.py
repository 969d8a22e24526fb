"""The reads the dashboard needs beyond the others, and the page itself: who is calling,
the live meter tree with its unmetered remainders, device health, months side by side."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from api_harness import MARCH, SITE, api
from api_reads import read_api

from collector.metrics import CollectorMetrics
from store.readings import Reading, write_readings


def _meter(key: str, role: str, parent: str | None = None) -> dict[str, Any]:
    return {
        "id": key,
        "carrier": "electricity",
        "role": role,
        **({"parent": parent} if parent else {}),
        "points": [{"id": "power", "quantity": "power", "unit": "kW", "kind": "gauge"}],
    }


TREE = {
    "sites": [
        {
            "id": "works",
            "timezone": "Europe/Berlin",
            "meters": [
                _meter("grid", "main"),
                _meter("pv", "generation"),  # no parent: behind the only main meter
                _meter("ws-a", "sub", "grid"),
                _meter("ws-b", "sub", "grid"),
                _meter("line-x", "sub", "ws-a"),
                {
                    "id": "water",
                    "carrier": "water",
                    "role": "main",
                    "points": [{"id": "flow", "quantity": "flow", "unit": "m3/h", "kind": "gauge"}],
                },
            ],
        }
    ]
}


async def test_me_lists_only_the_actions_the_policy_gives_the_role(database_url: str) -> None:
    answers = {}
    async with api(database_url, readings=False) as harness:
        for role in ("viewer", "operator", "manager", "auditor", "admin", "other-manager"):
            async with harness.client(role) as client:
                answers[role] = (await client.get("/api/v1/me")).json()
    assert answers["viewer"]["may"] == []
    assert answers["operator"]["may"] == ["record_event"]
    assert answers["manager"]["may"] == [
        "close",
        "review",
        "approve",
        "restate",
        "record_event",
        "lineage",
    ]
    assert answers["auditor"]["may"] == ["lineage", "audit"], "an auditor changes nothing"
    assert answers["admin"]["may"][-1] == "audit"
    assert (answers["other-manager"]["role"], answers["other-manager"]["site"]) == (
        "manager",
        "other-site",
    )


async def test_flow_adds_back_the_pv_behind_the_main_meter_and_subtracts_each_levels_sub_meters(
    database_url: str,
) -> None:
    async with read_api(database_url, TREE) as reads:
        now = datetime.now(UTC)
        rates = {"grid": 100.0, "pv": 20.0, "ws-a": 70.0, "ws-b": 30.0, "line-x": 50.0}
        await write_readings(
            reads.pool,
            [Reading(reads.point("works", m, "power"), now, v) for m, v in rates.items()],
        )
        flow = (await reads.client.get("/api/v1/sites/works/flow")).json()
    electricity, water = flow["carriers"]
    assert (electricity["carrier"], water["carrier"]) == ("electricity", "water")
    (grid,) = electricity["roots"]
    assert [g["meter"] for g in grid["generation"]] == ["pv"]
    assert (grid["value"], grid["served"], grid["unmetered"]) == (100.0, 120.0, 20.0)
    assert grid["unmetered_share"] == 20.0 / 120.0
    ws_a = next(c for c in grid["children"] if c["meter"] == "ws-a")
    assert (ws_a["unit"], ws_a["unmetered"]) == ("kW", 20.0)
    assert [c["meter"] for c in ws_a["children"]] == ["line-x"]
    assert ws_a["children"][0]["unmetered"] is None, "no sub-meters, no remainder"
    (intake,) = water["roots"]
    assert (intake["value"], intake["unmetered"]) == (None, None), "no reading yet"


async def test_devices_are_offline_after_three_missed_readings_and_carry_the_collectors_counts(
    database_url: str,
) -> None:
    async with read_api(database_url, TREE) as reads:
        now = datetime.now(UTC)
        await write_readings(
            reads.pool,
            [
                Reading(reads.point("works", "grid", "power"), now - timedelta(seconds=5), 1.0),
                Reading(reads.point("works", "ws-a", "power"), now - timedelta(hours=1), 1.0, 2),
            ],
        )
        alone = (await reads.client.get("/api/v1/sites/works/devices")).json()
        metrics = CollectorMetrics(reads.registry)
        metrics.device_errors.labels("gw", "grid").inc(3)
        metrics.last_success.labels("gw", "grid").set(now.timestamp())
        metrics.last_success.labels("gw", "ws-a").set(0)  # polled, never answered
        metrics.device_poll_seconds.labels("gw", "grid").observe(0.010)
        metrics.device_poll_seconds.labels("gw", "grid").observe(0.030)
        metrics.device_poll_seconds.labels("gw", "ws-a").observe(0.5)
        devices = (await reads.client.get("/api/v1/sites/works/devices")).json()
    assert alone["collector"] is False
    assert {d["meter"]: d["errors"] for d in alone["items"]}["grid"] is None
    by_meter = {d["meter"]: d for d in devices["items"]}
    assert devices["collector"] is True
    grid, ws_a, pv = by_meter["grid"], by_meter["ws-a"], by_meter["pv"]
    assert (grid["online"], ws_a["online"], pv["online"]) == (True, False, False)
    assert pv["last_seen"] is None
    assert (grid["source"], grid["errors"], ws_a["errors"]) == ("gw", 3, 0)
    assert abs(grid["poll_latency_ms"] - 20.0) < 1e-9, "per device, not per source"
    assert abs(ws_a["poll_latency_ms"] - 500.0) < 1e-9
    assert ws_a["last_success"] is None
    assert ws_a["points"][0]["quality"] != ["good"], "the newest reading's flags"
    assert grid["points"][0]["quality"] == ["good"]


async def test_history_gives_each_months_latest_statement_by_scope_and_carrier(
    database_url: str,
) -> None:
    async with api(database_url) as harness, harness.client("manager") as client:
        before = (await client.get(f"/api/v1/sites/{SITE}/history?from=2026-01&to=2026-06")).json()
        await client.post(f"/api/v1/sites/{SITE}/periods/{MARCH}/close")
        await client.post(
            f"/api/v1/sites/{SITE}/periods/{MARCH}/close", json={"reason": "second look"}
        )
        history = (await client.get(f"/api/v1/sites/{SITE}/history?from=2026-01&to=2026-06")).json()
        statement = (await client.get(f"/api/v1/sites/{SITE}/periods/{MARCH}")).json()
        backwards = await client.get(f"/api/v1/sites/{SITE}/history?from=2026-06&to=2026-01")
        too_long = await client.get(f"/api/v1/sites/{SITE}/history?from=2010-01&to=2026-01")
    assert before["months"] == []
    (month,) = history["months"]
    assert (month["period"], month["version"], month["status"]) == (MARCH, 2, "closed")
    assert Decimal(month["total_location"]) == Decimal(statement["total_location"])
    assert {b["by"] for b in month["breakdown"]} == {"scope", "carrier"}
    scopes = [b for b in month["breakdown"] if b["by"] == "scope"]
    assert sum(Decimal(b["location"]) for b in scopes) == Decimal(month["total_location"])
    assert (backwards.status_code, too_long.status_code) == (422, 422)
    target = history["target"]
    assert (target["base_year"], target["basis"]) == (2025, "location")
    allowance = {m["period"]: Decimal(m["tco2e"]) for m in target["months"]}
    assert list(allowance) == [f"2026-0{m}" for m in range(1, 7)]
    # 2026 is a year on: 1,200 x (1 - 0.042), spread by days; March has 31 of 365
    assert allowance["2026-03"] == Decimal(1200) * (1 - Decimal("0.042")) * 31 / 365


async def test_the_page_is_open_and_loads_nothing_from_another_origin(database_url: str) -> None:
    async with api(database_url, readings=False) as harness, harness.client() as anonymous:
        page = await anonymous.get("/")
        licence = await anonymous.get("/static/vendor/uplot/LICENSE")
        script = await anonymous.get("/static/js/main.js")
        data = await anonymous.get("/api/v1/me")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert page.headers["referrer-policy"] == "no-referrer"
    references = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert references
    assert [r for r in references if not r.startswith(("/static/", "#", "data:"))] == []
    assert "MIT" in licence.text
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert data.status_code == 401, "the page is open, the data is not"
