"""Gauges: integrated by the trapezoid rule, and only where a quantity has no counter."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ledger.counters import CounterPoint
from ledger.gauges import Sample, trapezoid
from ledger.memory import MemorySource, QualityBits
from ledger.periods import Interval
from ledger.ports import Reading
from ledger.rollup import COUNTER_BOUNDARY, GAUGE_INTEGRATION, NO_DATA, GaugePoint, roll_up
from store.quality import REJECTED, Quality

BITS = QualityBits(int(REJECTED), int(Quality.COUNTER_WRAP), int(Quality.COUNTER_RESET))
DAY = Interval(datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC))
HOUR = timedelta(hours=1)


def minutes(start: datetime, count: int, kw: float) -> list[Reading]:
    return [Reading(start + timedelta(minutes=m), kw) for m in range(count)]


async def test_gauge_is_integrated_only_where_no_counter_exists() -> None:
    counter = [Reading(DAY.start, 100.0), Reading(DAY.end, 330.0)]
    source = MemorySource(BITS, {1: counter, 2: minutes(DAY.start, 24 * 60, 10.0)})
    both = await roll_up(source, DAY, counter=CounterPoint(1, "kWh"), gauge=GaugePoint(2, "kWh"))
    assert (both.point_id, both.method) == (1, COUNTER_BOUNDARY)
    assert both.quantity == 230
    alone = await roll_up(source, DAY, gauge=GaugePoint(2, "kWh"))
    assert (alone.point_id, alone.method) == (2, GAUGE_INTEGRATION)
    assert alone.quantity == 240
    assert [f.code for f in alone.findings] == ["GAUGE_INTEGRATED"]
    assert alone.coverage == 1
    assert alone.estimated_share == 0


async def test_roll_up_needs_a_counter_or_a_gauge() -> None:
    with pytest.raises(ValueError, match="counter or a gauge"):
        await roll_up(MemorySource(BITS, {}), DAY)


async def test_gauge_gap_lowers_coverage_and_is_the_estimated_part() -> None:
    rows = [
        r
        for r in minutes(DAY.start, 24 * 60, 10.0)
        if not 600 <= r.ts.minute + 60 * r.ts.hour < 660
    ]
    source = MemorySource(BITS, {2: rows})
    line = await roll_up(source, DAY, gauge=GaugePoint(2, "kWh", multiplier=Decimal(40)))
    assert line.quantity == 40 * 240  # a steady load: the bridge is right
    assert line.coverage == Decimal(23) / 24
    assert line.longest_gap == HOUR
    assert line.estimated_share == Decimal(1) / 24  # the missing hour, and nothing else


async def test_gauge_with_no_readings_is_zero_and_blocking() -> None:
    line = await roll_up(MemorySource(BITS, {}), DAY, gauge=GaugePoint(2, "kWh"))
    assert line.method == NO_DATA
    assert [line.quantity, line.coverage, line.estimated_share] == [0, 0, 1]
    assert [f.code for f in line.blocking] == ["NO_READINGS"]


def test_trapezoid_is_exact_for_a_linear_ramp() -> None:
    start = DAY.start
    samples = [Sample(start + HOUR * h, Decimal(5 * h)) for h in (0, 2, 4)]
    interval = Interval(start, start + 4 * HOUR)
    result = trapezoid(samples, interval, max_gap=2 * HOUR, per=HOUR)
    assert result.total == 40  # 0 -> 20 kW over 4 h
    assert result.estimated == 0


def test_trapezoid_counts_the_bridge_over_a_gap_as_estimated() -> None:
    start = DAY.start
    samples = [Sample(start, Decimal(0)), Sample(start + 2 * HOUR, Decimal(10))]
    interval = Interval(start, start + 2 * HOUR)
    result = trapezoid(samples, interval, max_gap=timedelta(minutes=15), per=HOUR)
    assert result.total == 10
    assert result.estimated == Decimal("8.75")  # all but the 15 min the samples vouch for


def test_trapezoid_holds_the_edges_flat_and_in_units_of_per() -> None:
    start = DAY.start
    samples = [Sample(start + HOUR, Decimal(6))]
    interval = Interval(start, start + 3 * HOUR)
    result = trapezoid(samples, interval, max_gap=HOUR, per=timedelta(minutes=1))
    assert result.total == 6 * 3 * 60  # 6 per minute, held for three hours
    # The sample vouches for 30 min each side: 30 of the 60 min before, 90 of the 120 after.
    assert result.estimated == 6 * (30 + 90)
