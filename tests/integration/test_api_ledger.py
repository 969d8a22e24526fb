"""Ledger routes on the real database: month to date, periods, statements, diff, lineage."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from api_reads import ReadApi, read_api

from ledger import closing
from ledger.close import compute_statement
from ledger.periods import Month, Period
from ledger.statements import canonical
from meterledger.books import site_books
from store.ledger_inputs import StoreLedgerInputs
from store.readings import Reading, write_readings
from store.rollup_source import StoreRollupSource
from store.statements import StoreStatements

BERLIN = ZoneInfo("Europe/Berlin")
MARCH = Month(2026, 3)
GRID_LINE = "scope2/electricity/location/grid-main"
MARCH_URL = "/api/v1/sites/berlin/periods/2026-03"


async def fill(api: ReadApi, month: Month, hours: int) -> None:
    """Hourly counters from the month's start: grid 100 kWh/h, its sub-meters 60 and 20,
    gas 10 Nm3/h."""
    start = Period("Europe/Berlin", month).interval.start
    rates = {
        ("grid-main", "energy_import"): (5000.0, 100.0),
        ("workshop-1", "energy_import"): (0.0, 60.0),
        ("line-2", "energy_import"): (0.0, 20.0),
        ("boiler-gas", "volume"): (800.0, 10.0),
    }
    rows = [
        Reading(api.point("berlin", meter, point), start + timedelta(hours=h), base + rate * h)
        for h in range(hours)
        for (meter, point), (base, rate) in rates.items()
    ]
    await write_readings(api.pool, rows)


async def close_march(api: ReadApi, reason: str | None = None) -> None:
    book = site_books(api.config, api.ids)["berlin"]
    await closing.close(
        book,
        MARCH,
        StoreRollupSource(api.pool),
        StoreStatements(api.pool),
        reason=reason,
        inputs=StoreLedgerInputs(api.pool),
    )


async def get(api: ReadApi, url: str, **params: Any) -> Any:
    response = await api.client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def figures(doc: dict[str, Any]) -> dict[str, Any]:
    """What a statement states, without the instant it was computed."""
    return {k: doc[k] for k in ("lines", "activities", "kpis", "findings")}


async def test_month_to_date_is_what_compute_statement_states(database_url: str) -> None:
    async with read_api(database_url) as api:
        now = datetime.now(UTC)
        this_month = Month.of(now.astimezone(BERLIN).date())
        start = Period("Europe/Berlin", this_month).interval.start
        await fill(api, this_month, int((now - start) / timedelta(hours=1)) + 1)
        shown = await get(api, "/api/v1/sites/berlin/month-to-date")
        book = site_books(api.config, api.ids)["berlin"]
        statement = await compute_statement(
            book,
            this_month,
            StoreRollupSource(api.pool),
            inputs=StoreLedgerInputs(api.pool),
            until=datetime.fromisoformat(shown["as_of"]),
        )
    expected = json.loads(canonical(statement.content()))
    codes = {f["code"] for f in shown["findings"]}
    assert "PART_OF_PERIOD" in codes, "to date, not projected to the month's end"
    assert "EXTRAPOLATED_END" not in codes
    assert shown["period"] == str(this_month)
    assert shown["start"] == start.isoformat().replace("+00:00", "Z")
    lines = {line["key"]: line for line in shown["lines"]}
    assert lines == {line["key"]: line for line in expected["lines"]}
    assert shown["activities"][0]["quantity"] == expected["activities"][0]["quantity"]
    assert [f["code"] for f in shown["findings"]] == [f[0] for f in expected["findings"]]
    assert Decimal(shown["total_location"]) == statement.total("location")
    assert Decimal(shown["total_market"]) == statement.total("market")
    coverages = [Decimal(a["coverage"]) for a in expected["activities"]]
    assert Decimal(shown["coverage"]) == min(coverages)
    grid = next(f for f in shown["factors"] if f["carrier"] == "electricity_grid")
    assert grid["ref"] == lines[GRID_LINE]["factor_id"]
    assert grid["publisher"]
    assert grid["document"] or grid["url"]


async def test_month_to_date_of_a_given_month_equals_the_close(database_url: str) -> None:
    async with read_api(database_url) as api:
        await fill(api, MARCH, 743 + 24)
        shown = await get(api, "/api/v1/sites/berlin/month-to-date", month="2026-03")
        await close_march(api)
        stored = await get(api, "/api/v1/sites/berlin/periods/2026-03")
    assert figures(shown) == figures(stored)
    assert Decimal(shown["total_location"]) == Decimal(stored["total_location"]) > 0
    assert {k["name"] for k in shown["kpis"]} == {k["name"] for k in stored["kpis"]}


async def test_statement_breaks_down_by_scope_category_carrier_and_meter(
    database_url: str,
) -> None:
    async with read_api(database_url) as api:
        await fill(api, MARCH, 743 + 24)
        await close_march(api)
        shown = await get(api, "/api/v1/sites/berlin/periods/2026-03")
    assert (shown["status"], shown["version"]) == ("closed", 1)
    lines = {line["key"]: line for line in shown["lines"]}
    assert Decimal(lines[GRID_LINE]["activity"]) == 74300  # 743 h x 100 kWh
    by = {(b["by"], b["key"]): b for b in shown["breakdown"]}
    scope1 = sum(Decimal(x["tco2e"]) for x in shown["lines"] if x["scope"] == "1")
    assert Decimal(by[("scope", "1")]["location"]) == scope1 > 0
    assert Decimal(by[("scope", "2")]["location"]) == Decimal(lines[GRID_LINE]["tco2e"])
    assert Decimal(by[("meter", "grid-main")]["location"]) == Decimal(lines[GRID_LINE]["tco2e"])
    assert Decimal(shown["total_location"]) == scope1 + Decimal(lines[GRID_LINE]["tco2e"])
    kinds = {f["kind"] for f in shown["factors"]}
    assert {"factor", "NCV", "CC", "OF"} <= kinds  # the gas line's parameters too
    assert {f["code"] for f in shown["findings"]} >= {"MARKET_BASED_FALLBACK"}


async def test_periods_list_open_and_closed_months_newest_first(database_url: str) -> None:
    async with read_api(database_url) as api:
        await fill(api, MARCH, 743 + 24)
        await close_march(api)
        pages, cursor = [], None
        while True:
            body = await get(
                api,
                "/api/v1/sites/berlin/periods",
                limit=2,
                **({"cursor": cursor} if cursor else {}),
            )
            pages.append(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                break
    periods = [p for page in pages for p in page]
    assert [p["period"] for p in periods] == sorted((p["period"] for p in periods), reverse=True)
    assert periods[-1]["period"] == "2026-03"  # the first reading's month ends the list
    march = periods[-1]
    assert (march["status"], march["version"]) == ("closed", 1)
    assert len(march["hash"]) == 64
    assert all(p["status"] == "open" for p in periods[:-1])


async def test_restatement_versions_chain_and_diff_name_what_moved(database_url: str) -> None:
    async with read_api(database_url) as api:
        await fill(api, MARCH, 743 + 24)
        await close_march(api)
        swap = datetime(2026, 3, 15, 12, 30, tzinfo=BERLIN).astimezone(UTC)
        with psycopg.connect(api.pool.conninfo) as conn:
            conn.execute(
                """INSERT INTO meter_event (meter_id, ts, kind, old_value, new_value)
                   SELECT id, %s, 'replacement', %s, %s FROM meter WHERE key = 'grid-main'""",
                (swap, 5000.0 + 100 * 347 + 200, 5000.0 + 100 * 347 + 50),
            )
        await close_march(api, reason="meter swap recorded late")
        versions = await get(api, "/api/v1/sites/berlin/periods/2026-03/versions")
        diff = await get(api, "/api/v1/sites/berlin/periods/2026-03/diff")
        old = await get(api, "/api/v1/sites/berlin/periods/2026-03", version=1)
        chain = await get(api, "/api/v1/sites/berlin/chain")
        lineage_v1 = await get(
            api, "/api/v1/sites/berlin/periods/2026-03/lineage", line=GRID_LINE, version=1
        )
        lineage_v2 = await get(api, "/api/v1/sites/berlin/periods/2026-03/lineage", line=GRID_LINE)
    v1, v2 = versions["items"]
    assert (v1["version"], v2["version"]) == (1, 2)
    assert v2["previous_hash"] == v1["hash"]
    assert v2["reason"] == "meter swap recorded late"
    assert old["hash"] == v1["hash"]
    assert (diff["before"], diff["after"], diff["reason"]) == (1, 2, "meter swap recorded late")
    grid = {c["key"]: c for c in diff["changes"]}[GRID_LINE]
    assert "activity" in grid["fields"]
    assert Decimal(grid["delta"]) == Decimal(grid["after"]) - Decimal(grid["before"]) != 0
    assert chain == {"site": "berlin", "statements": 2, "intact": True, "findings": []}
    [event_v1] = lineage_v1["activities"][0]["events"]
    [event_v2] = lineage_v2["activities"][0]["events"]
    assert (event_v1["kind"], event_v1["applied"], event_v2["applied"]) == (
        "replacement",
        False,
        True,
    )
    assert "replacement" in " ".join(lineage_v2["activities"][0]["corrections"])


async def test_lineage_reaches_readings_factor_record_and_formula(database_url: str) -> None:
    async with read_api(database_url) as api:
        await fill(api, MARCH, 743 + 24)
        await close_march(api)
        lineage = await get(api, "/api/v1/sites/berlin/periods/2026-03/lineage", line=GRID_LINE)
    [activity] = lineage["activities"]
    assert activity["key"] == "grid-main/energy_import"
    assert (Decimal(activity["start_value"]), Decimal(activity["end_value"])) == (5000, 79300)
    instants = {e["ts"] for e in activity["evidence"]}
    assert {"2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z"} <= instants
    assert all(e["flags"] == ["good"] for e in activity["evidence"])
    [factor] = lineage["factors"]
    assert factor["ref"] == lineage["line"]["factor_id"]
    assert str(Decimal(factor["value"]).normalize()) in lineage["formula"]
    assert lineage["formula"] == lineage["line"]["formula"]
    # The auditor's arithmetic: activity x factor (tCO2 per MWh) = tCO2e.
    mwh = Decimal(lineage["line"]["activity"]) / 1000
    assert mwh * Decimal(factor["value"]) == Decimal(lineage["line"]["tco2e"])
    assert lineage["start"] == "2026-02-28T23:00:00Z"
    assert lineage["end"] == "2026-03-31T22:00:00Z"


async def test_bad_ledger_requests_are_problems_naming_the_field(database_url: str) -> None:
    async with read_api(database_url) as api:
        await fill(api, MARCH, 743 + 24)
        await close_march(api)
        cases = [
            ("/api/v1/sites/berlin/periods/2026-3", {}, 422, "period", "2026-3"),
            ("/api/v1/sites/berlin/periods/2026-04", {}, 404, "statement", "berlin 2026-04"),
            ("/api/v1/sites/berlin/periods/2026-03", {"version": 9}, 404, "version", "9"),
            (
                "/api/v1/sites/berlin/periods/2026-03/lineage",
                {"line": "no/such"},
                404,
                "line",
                "no/such",
            ),
            ("/api/v1/sites/berlin/periods/2026-03/diff", {}, 422, "before", "0"),
            ("/api/v1/sites/nowhere/month-to-date", {}, 404, "site", "nowhere"),
        ]
        for url, params, status, field, value in cases:
            response = await api.client.get(url, params=params)
            assert response.status_code == status, (url, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert (response.json()["field"], response.json()["value"]) == (field, value)
