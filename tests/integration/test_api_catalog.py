"""Catalog routes against the real database: pages, the meter tree, problems for bad input."""

from datetime import UTC, datetime
from typing import Any

import httpx
from api_reads import read_api

from store.events import MeterEvent, record_event

PROBLEM = "application/problem+json"


async def all_pages(client: httpx.AsyncClient, url: str, **params: Any) -> list[list[Any]]:
    """Follow ``next_cursor`` to the end; return each page's items."""
    pages, cursor = [], None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        body = (await client.get(url, params=query)).raise_for_status().json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_sites_page_by_cursor_until_the_last_page(database_url: str) -> None:
    async with read_api(database_url) as api:
        pages = await all_pages(api.client, "/api/v1/sites", limit=1)
    assert [[s["key"] for s in page] for page in pages] == [["berlin"], ["shanghai"]]
    assert pages[0][0]["timezone"] == "Europe/Berlin"


async def test_points_page_through_every_point_once(database_url: str) -> None:
    async with read_api(database_url) as api:
        pages = await all_pages(api.client, "/api/v1/points", limit=2)
        expected = sorted(api.ids.values())
    ids = [p["id"] for page in pages for p in page]
    assert ids == expected
    assert all(len(page) <= 2 for page in pages)


async def test_page_size_beyond_the_bound_is_a_problem_naming_limit(database_url: str) -> None:
    async with read_api(database_url) as api:
        response = await api.client.get("/api/v1/sites", params={"limit": 5000})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert (problem["field"], problem["value"]) == ("limit", "5000")
    assert problem["errors"][0]["location"] == "query"
    assert "limit" in problem["detail"]


async def test_a_cursor_we_did_not_issue_is_refused(database_url: str) -> None:
    async with read_api(database_url) as api:
        response = await api.client.get("/api/v1/points", params={"cursor": "not-ours!"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert (response.json()["field"], response.json()["value"]) == ("cursor", "not-ours!")


async def test_meters_carry_their_place_in_the_tree(database_url: str) -> None:
    async with read_api(database_url) as api:
        meters = (await api.client.get("/api/v1/sites/berlin/meters")).json()["items"]
        one = (await api.client.get("/api/v1/sites/berlin/meters/grid-main")).json()
    by_key = {m["key"]: m for m in meters}
    assert by_key["line-2"]["path"] == ["grid-main", "workshop-1", "line-2"]
    assert by_key["line-2"]["parent"] == "workshop-1"
    assert by_key["line-2"]["installed_at"] == "2025-01-01T00:00:00Z"
    assert (one["role"], one["serial"], one["ct_ratio"]) == ("main", "SDM630-0001", "40")
    assert by_key["boiler-gas"]["path"] == ["boiler-gas"]


async def test_points_say_quantity_unit_kind_and_wrap(database_url: str) -> None:
    async with read_api(database_url) as api:
        pid = api.point("berlin", "grid-main", "energy_import")
        point = (await api.client.get(f"/api/v1/points/{pid}")).json()
        listed = (await api.client.get("/api/v1/points", params={"meter": "grid-main"})).json()
    assert point == {
        "id": pid,
        "site": "berlin",
        "meter": "grid-main",
        "key": "energy_import",
        "quantity": "energy_import",
        "unit": "kWh",
        "kind": "counter",
        "wrap_value": 100000.0,
    }
    assert {p["key"] for p in listed["items"]} == {"energy_import", "power"}


async def test_unknown_things_are_404_problems_naming_them(database_url: str) -> None:
    async with read_api(database_url) as api:
        point = await api.client.get("/api/v1/points/999999")
        site = await api.client.get("/api/v1/sites/nowhere/meters")
        meter = await api.client.get("/api/v1/sites/berlin/meters/nothing")
    for response, field, value in (
        (point, "point", "999999"),
        (site, "site", "nowhere"),
        (meter, "meter", "nothing"),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        assert (response.json()["field"], response.json()["value"]) == (field, value)


async def test_meter_events_are_listed_in_recording_order(database_url: str) -> None:
    async with read_api(database_url) as api:
        at = datetime(2026, 3, 10, 12, tzinfo=UTC)
        for kind, hour in (("replacement", 12), ("reset", 14)):
            event = MeterEvent(
                "berlin",
                "grid-main",
                at.replace(hour=hour),
                kind,  # type: ignore[arg-type]
                point="energy_import",
                old_value=900.5,
                new_value=0.0,
                recorded_by="tester",
            )
            await record_event(api.pool, event)
        url = "/api/v1/sites/berlin/meters/grid-main/events"
        pages = await all_pages(api.client, url, limit=1)
        window = await api.client.get(
            url, params={"from": "2026-03-10T13:00:00Z", "to": "2026-03-11T00:00:00Z"}
        )
    events = [e for page in pages for e in page]
    assert [(e["kind"], e["ts"]) for e in events] == [
        ("replacement", "2026-03-10T12:00:00Z"),
        ("reset", "2026-03-10T14:00:00Z"),
    ]
    assert (events[0]["old_value"], events[0]["new_value"], events[0]["point"]) == (
        900.5,
        0.0,
        "energy_import",
    )
    assert [e["kind"] for e in window.json()["items"]] == ["reset"]
