"""The store's roll-up ports agree with the in-memory reference on the same readings."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from ledger.counters import CounterPoint
from ledger.memory import MemorySource, QualityBits
from ledger.periods import Month, Period
from ledger.ports import Reading as LedgerReading
from ledger.ports import Splice
from ledger.rollup import GaugePoint, roll_up_counter, roll_up_gauge
from meterledger.config import load_config
from store import rollup_source
from store.catalog import PointRef, sync_catalog
from store.migrate import migrate
from store.pool import open_pool
from store.quality import REJECTED, Quality
from store.readings import Reading, write_readings
from store.rollup_source import StoreRollupSource

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"
MARCH = Period("Europe/Berlin", Month(2026, 3))
BITS = QualityBits(int(REJECTED), int(Quality.COUNTER_WRAP), int(Quality.COUNTER_RESET))
WRAP = 100_000.0


def counter_readings(point: int) -> list[Reading]:
    """A 15-minute counter across the end of March, with a wrap, a glitch, a gap, a swap,
    and two NaN readings with no flag on the last day's midnight (Berlin)."""
    start = MARCH.interval.end - timedelta(days=2)
    rows, value = [], 99_000.0
    for i in range(4 * 24 * 4):
        ts = start + timedelta(minutes=15 * i)
        if 100 <= i < 130:  # a gap of 7.5 h
            continue
        value += 12.5
        quality = 0
        if value >= WRAP:
            value -= WRAP
            quality = int(Quality.COUNTER_WRAP)
        if i == 250:
            rows.append(Reading(point, ts, 0.0, int(Quality.GLITCH)))
            continue
        if i in (191, 192):  # unflagged NaN, as a careless writer could store: not a reading
            rows.append(Reading(point, ts, math.nan, 0))
            continue
        if i == 300:  # replaced by a new meter starting at 5
            value = 5.0
            quality = int(Quality.COUNTER_RESET)
        rows.append(Reading(point, ts, value, quality))
    return rows


def gauge_readings(point: int) -> list[Reading]:
    start = MARCH.interval.end - timedelta(hours=30)
    return [Reading(point, start + timedelta(minutes=i), 100.0 + i % 60) for i in range(60 * 30)]


@pytest.fixture
async def sources(database_url: str) -> tuple[StoreRollupSource, MemorySource, int, int]:
    migrate(database_url)
    ids = sync_catalog(database_url, load_config(PLANT).sites)
    counter = ids[PointRef("test-site", "grid-main", "energy_import")]
    gauge = ids[PointRef("test-site", "grid-main", "power")]
    readings = counter_readings(counter) + gauge_readings(gauge)
    swap_at = counter_readings(counter)[0].ts + timedelta(minutes=15 * 300)
    with psycopg.connect(database_url) as conn:
        meter = conn.execute("SELECT meter_id FROM point WHERE id = %s", (counter,)).fetchone()
        conn.execute(
            "INSERT INTO meter_event (meter_id, ts, kind, old_value, new_value)"
            " VALUES (%s, %s, 'replacement', %s, 0)",
            (meter[0] if meter else None, swap_at, 2_737.5),
        )
        event_id = conn.execute("SELECT max(id) FROM meter_event").fetchone()
    pool = await open_pool(database_url)
    for i in range(0, len(readings), 500):
        await write_readings(pool, readings[i : i + 500])
    memory = MemorySource(
        BITS,
        {
            p: [LedgerReading(r.ts, r.value, r.quality) for r in readings if r.point_id == p]
            for p in (counter, gauge)
        },
        {
            counter: [
                Splice(int(event_id[0]) if event_id else 0, swap_at, "replacement", 2_737.5, 0.0)
            ]
        },
    )
    yield StoreRollupSource(pool), memory, counter, gauge
    await pool.close()


async def test_counter_lines_agree_with_the_reference(sources) -> None:  # type: ignore[no-untyped-def]
    store, memory, counter, _ = sources
    point = CounterPoint(counter, "kWh", wrap_value=Decimal(WRAP))
    april = Period("Europe/Berlin", Month(2026, 4))
    for period in (MARCH, april):
        ours = await roll_up_counter(store, point, period.interval)
        reference = await roll_up_counter(memory, point, period.interval)
        assert ours.quantity == reference.quantity
        assert ours.estimated_share == reference.estimated_share
        assert [f.code for f in ours.findings] == [f.code for f in reference.findings]
        assert ours.trace == reference.trace
        assert ours.quantity > 0


async def test_coverage_and_gauge_means_follow_the_readings(sources) -> None:  # type: ignore[no-untyped-def]
    store, memory, counter, gauge = sources
    coverage = await store.coverage(counter, MARCH.interval, timedelta(minutes=15))
    reference = await memory.coverage(counter, MARCH.interval, timedelta(minutes=15))
    assert coverage.covered == reference.covered
    assert coverage.longest_gap == reference.longest_gap
    point = GaugePoint(gauge, "kWh", bucket=timedelta(hours=1))
    ours = await roll_up_gauge(store, point, MARCH.interval)
    assert ours.quantity == (await roll_up_gauge(memory, point, MARCH.interval)).quantity
    assert datetime(2026, 3, 31, 22, tzinfo=UTC) == MARCH.interval.end


async def test_many_breaks_in_a_month_are_all_read(database_url: str) -> None:
    # More wraps than one page of the store's break query holds: every one must come back.
    migrate(database_url)
    ids = sync_catalog(database_url, load_config(PLANT).sites)
    point = ids[PointRef("test-site", "grid-main", "energy_import")]
    start, rows, value = MARCH.interval.start, [], 90_000.0
    for i in range(31 * 24):
        value += 5_000.0
        quality = 0
        if value >= WRAP:
            value -= WRAP
            quality = int(Quality.COUNTER_WRAP)
        rows.append(Reading(point, start + timedelta(hours=i), value, quality))
    pool = await open_pool(database_url)
    try:
        await write_readings(pool, rows)
        store = StoreRollupSource(pool)
        memory = MemorySource(
            BITS, {point: [LedgerReading(r.ts, r.value, r.quality) for r in rows]}
        )
        first, last = rows[0].ts, rows[-1].ts
        ours = await store.breaks(point, first, last)
        assert ours == await memory.breaks(point, first, last)
        assert (
            len(ours) == sum(r.quality == Quality.COUNTER_WRAP for r in rows) == 38
        )  # one in 20 h
        line = await roll_up_counter(
            store, CounterPoint(point, "kWh", wrap_value=Decimal(WRAP)), MARCH.interval
        )
        assert line.quantity == Decimal(5_000 * (31 * 24 - 1))
    finally:
        await pool.close()


async def test_a_month_off_the_whole_hour_rolls_up_from_the_raw_readings(sources) -> None:  # type: ignore[no-untyped-def]
    # Kolkata is UTC+05:30: its March ends at 18:30 UTC, inside the readings.
    store, memory, counter, gauge = sources
    march = Period("Asia/Kolkata", Month(2026, 3))
    assert march.interval.end == datetime(2026, 3, 31, 18, 30, tzinfo=UTC)
    point = CounterPoint(counter, "kWh", wrap_value=Decimal(WRAP))
    ours = await roll_up_counter(store, point, march.interval)
    reference = await roll_up_counter(memory, point, march.interval)
    assert (ours.quantity, ours.estimated_share) == (reference.quantity, reference.estimated_share)
    assert ours.trace == reference.trace
    step = timedelta(minutes=15)
    coverage = await store.coverage(counter, march.interval, step)
    assert coverage == await memory.coverage(counter, march.interval, step)
    for bucket in (timedelta(hours=1), timedelta(minutes=15)):
        gauge_point = GaugePoint(gauge, "kWh", bucket=bucket)
        line = await roll_up_gauge(store, gauge_point, march.interval)
        assert line.quantity == (await roll_up_gauge(memory, gauge_point, march.interval)).quantity
        assert line.quantity > 0


async def test_the_raw_fallback_agrees_with_the_hourly_table_on_whole_hours(  # type: ignore[no-untyped-def]
    sources, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _, counter, gauge = sources
    step = timedelta(minutes=15)
    hourly_coverage = await store.coverage(counter, MARCH.interval, step)
    hourly_means = await store.bucket_means(gauge, MARCH.interval, timedelta(hours=1))
    monkeypatch.setattr(rollup_source, "whole_hours", lambda _interval: False)
    assert await store.coverage(counter, MARCH.interval, step) == hourly_coverage
    raw_means = await store.bucket_means(gauge, MARCH.interval, timedelta(hours=1))
    assert [(m.start, m.count) for m in raw_means] == [(m.start, m.count) for m in hourly_means]
    for raw, hourly in zip(raw_means, hourly_means, strict=True):
        assert math.isclose(raw.mean, hourly.mean, rel_tol=1e-12)
    assert len(raw_means) > 10
