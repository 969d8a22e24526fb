"""Series over the real database: counters by the ledger's rule, gauges, DST days, problems."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from api_reads import ReadApi, read_api

from api.schemas_series import SeriesBucket
from ledger.counters import CounterPoint
from ledger.periods import Interval
from ledger.rollup import roll_up_counter
from store.quality import Quality
from store.readings import Reading, write_readings
from store.rollup_source import StoreRollupSource

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 3, 28, tzinfo=BERLIN).astimezone(UTC)
END = datetime(2026, 3, 31, tzinfo=BERLIN).astimezone(UTC)
SWAP = datetime(2026, 3, 30, 10, 7, 30, tzinfo=BERLIN).astimezone(UTC)
STEP = timedelta(minutes=15)
PROBLEM = "application/problem+json"


async def counter_with_wrap_and_swap(api: ReadApi) -> int:
    """40 kWh/h from 28 to 31 March (Berlin), read every 15 min: the register wraps at
    100000 on the 29th and the meter is swapped at 10:07:30 on the 30th (new one at 0)."""
    pid = api.point("berlin", "grid-main", "energy_import")
    rows, value, swapped = [], 99_000.0, False
    ts = START - STEP
    while ts <= END + STEP:
        value += 10.0
        quality = 0
        if value >= 100_000:
            value -= 100_000
            quality = int(Quality.COUNTER_WRAP)
        if ts > SWAP and not swapped:
            swapped, value, quality = True, 5.0, int(Quality.COUNTER_RESET)
        rows.append(Reading(pid, ts, value, quality))
        ts += STEP
    final = next(r.value for r in reversed(rows) if r.ts < SWAP) + 5.0
    rows.append(Reading(pid, START + timedelta(hours=5, minutes=1), 0.0, int(Quality.GLITCH)))
    await write_readings(api.pool, rows)
    with psycopg.connect(api.pool.conninfo) as conn:
        conn.execute(
            """INSERT INTO meter_event (meter_id, ts, kind, old_value, new_value)
               SELECT id, %s, 'replacement', %s, 0 FROM meter WHERE key = 'grid-main'""",
            (SWAP, final),
        )
    return pid


async def series(api: ReadApi, pid: int, **params: Any) -> dict[str, Any]:
    response = await api.client.get(f"/api/v1/points/{pid}/series", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def amounts(body: dict[str, Any]) -> list[Decimal]:
    return [Decimal(b["consumption"]) for b in body["buckets"]]


@pytest.mark.parametrize(
    ("resolution", "per_bucket"), [("15m", "10"), ("1h", "40"), ("1m", "0.666666667")]
)
async def test_counter_buckets_are_the_true_consumption_across_wrap_and_swap(
    database_url: str, resolution: str, per_bucket: str
) -> None:
    async with read_api(database_url) as api:
        pid = await counter_with_wrap_and_swap(api)
        # The hours around the wrap and the swap, and a whole day at 15 minutes.
        body = await series(
            api,
            pid,
            **{"from": START.isoformat(), "to": END.isoformat()},
            resolution=resolution,
            limit=5000,
        )
    buckets = body["buckets"]
    assert body["unit"] == "kWh"
    assert body["zone"] == "Europe/Berlin"
    total = sum(amounts(body), Decimal(0))
    assert total == Decimal(40 * 71)  # 24 + 23 (DST) + 24 hours at 40 kWh/h
    if resolution != "1m":
        assert set(amounts(body)) == {Decimal(per_bucket)}
        assert all(b["coverage"] == 1.0 for b in buckets)
    corrected = {c for b in buckets for c in b["corrections"]}
    assert {"wrap", "replacement"} <= corrected
    # Written without a model per bucket (api.json_body), yet exactly as the model writes it.
    for bucket in buckets:
        assert SeriesBucket.model_validate(bucket).model_dump(mode="json") == bucket


async def test_counter_buckets_equal_the_ledgers_roll_up_of_each_bucket(database_url: str) -> None:
    async with read_api(database_url) as api:
        pid = await counter_with_wrap_and_swap(api)
        body = await series(
            api, pid, **{"from": START.isoformat(), "to": END.isoformat()}, resolution="1h"
        )
        source = StoreRollupSource(api.pool)
        point = CounterPoint(
            pid, "kWh", wrap_value=Decimal(100000), expected_interval=timedelta(minutes=15)
        )
        for bucket in body["buckets"]:
            interval = Interval(
                datetime.fromisoformat(bucket["start"]), datetime.fromisoformat(bucket["end"])
            )
            line = await roll_up_counter(source, point, interval)
            assert (Decimal(bucket["consumption"]), bucket["method"]) == (
                line.quantity,
                line.method,
            )
            assert Decimal(bucket["estimated_share"]) == line.estimated_share


async def test_day_buckets_follow_berlin_days_23_hours_in_march(database_url: str) -> None:
    async with read_api(database_url) as api:
        pid = await counter_with_wrap_and_swap(api)
        days = await series(
            api, pid, **{"from": START.isoformat(), "to": END.isoformat()}, resolution="1d"
        )
        month = await series(
            api, pid, **{"from": START.isoformat(), "to": END.isoformat()}, resolution="1mo"
        )
    spans = [
        (datetime.fromisoformat(b["end"]) - datetime.fromisoformat(b["start"])) / timedelta(hours=1)
        for b in days["buckets"]
    ]
    assert spans == [24, 23, 24]
    assert amounts(days) == [Decimal(960), Decimal(920), Decimal(960)]
    assert days["buckets"][1]["start"] == "2026-03-28T23:00:00Z"  # local midnight, CET
    assert days["buckets"][2]["start"] == "2026-03-29T22:00:00Z"  # local midnight, CEST
    assert amounts(month) == [Decimal(2840)]


async def test_day_buckets_on_the_october_change_last_25_hours(database_url: str) -> None:
    async with read_api(database_url) as api:
        pid = api.point("berlin", "workshop-1", "energy_import")
        first = datetime(2026, 10, 24, tzinfo=BERLIN).astimezone(UTC)
        rows = [Reading(pid, first + timedelta(hours=h), 500.0 + 4 * h) for h in range(24 * 4)]
        await write_readings(api.pool, rows)
        body = await series(
            api,
            pid,
            **{"from": "2026-10-24T00:00:00+02:00", "to": "2026-10-27T00:00:00+01:00"},
            resolution="1d",
        )
    starts = [b["start"] for b in body["buckets"]]
    assert starts == ["2026-10-23T22:00:00Z", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"]
    assert amounts(body) == [Decimal(96), Decimal(100), Decimal(96)]
    assert [b["readings"] for b in body["buckets"]] == [24, 25, 24]


async def test_gauge_buckets_give_mean_min_max_and_coverage(database_url: str) -> None:
    async with read_api(database_url) as api:
        pid = api.point("berlin", "grid-main", "power")
        first = datetime(2026, 3, 28, 10, tzinfo=BERLIN).astimezone(UTC)
        rows = [Reading(pid, first + timedelta(minutes=m), float(m % 60)) for m in range(120)]
        rows.append(Reading(pid, first + timedelta(seconds=30), 1e9, int(Quality.SPIKE)))
        await write_readings(api.pool, rows)
        window = {"from": first.isoformat(), "to": (first + timedelta(hours=3)).isoformat()}
        hours = await series(api, pid, **window, resolution="1h")
        quarters = await series(api, pid, **window, resolution="15m", limit=4)
        day = await series(api, pid, **window, resolution="1d")
    assert [(b["mean"], b["min"], b["max"], b["readings"]) for b in hours["buckets"]] == [
        (29.5, 0.0, 59.0, 60),
        (29.5, 0.0, 59.0, 60),
        (None, None, None, 0),
    ]
    assert [b["coverage"] for b in hours["buckets"]] == [1.0, 1.0, 0.0]
    assert [b["mean"] for b in quarters["buckets"]] == [7.0, 22.0, 37.0, 52.0]
    assert quarters["next_cursor"] is not None
    assert (day["buckets"][0]["mean"], day["buckets"][0]["max"]) == (29.5, 59.0)
    assert all(b["consumption"] is None for b in hours["buckets"])
    for bucket in hours["buckets"] + quarters["buckets"]:
        assert SeriesBucket.model_validate(bucket).model_dump(mode="json") == bucket


async def test_series_pages_continue_where_the_cursor_says(database_url: str) -> None:
    async with read_api(database_url) as api:
        pid = await counter_with_wrap_and_swap(api)
        params = {"from": START.isoformat(), "to": END.isoformat(), "resolution": "1h"}
        starts, cursor = [], None
        while True:
            body = await series(
                api, pid, **params, limit=30, **({"cursor": cursor} if cursor else {})
            )
            starts += [b["start"] for b in body["buckets"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        raw = await series(api, pid, **params | {"resolution": "raw"}, limit=21)
        raw2 = await series(
            api, pid, **params | {"resolution": "raw"}, limit=21, cursor=raw["next_cursor"]
        )
    assert len(starts) == len(set(starts)) == 71
    assert len(raw["readings"]) == 21
    assert raw["readings"][-1]["ts"] < raw2["readings"][0]["ts"]
    glitch = [r for r in raw["readings"] + raw2["readings"] if r["quality"] != ["good"]]
    assert glitch == [{"ts": "2026-03-28T04:01:00Z", "value": 0.0, "quality": ["glitch"]}]


async def test_bad_series_requests_are_problems_naming_the_field(database_url: str) -> None:
    async with read_api(database_url) as api:
        pid = api.point("berlin", "grid-main", "energy_import")
        url = f"/api/v1/points/{pid}/series"
        ok = {"from": "2026-03-28T00:00:00Z", "to": "2026-03-29T00:00:00Z"}
        cases = [
            ("/api/v1/points/424242/series", ok, 404, "point", "424242"),
            (url, ok | {"to": "2026-03-27T00:00:00Z"}, 422, "from", "2026-03-28T00:00:00+00:00"),
            (url, ok | {"resolution": "5m"}, 422, "resolution", "5m"),
            (url, ok | {"from": "2026-03-28T00:00:00"}, 422, "from", "2026-03-28T00:00:00"),
            (url, ok | {"limit": 0}, 422, "limit", "0"),
        ]
        for path, params, status, field, value in cases:
            response = await api.client.get(path, params=params)
            assert response.status_code == status, (params, response.text)
            assert response.headers["content-type"] == PROBLEM
            problem = response.json()
            assert (problem["field"], problem["value"]) == (field, value)
            assert problem["status"] == status
