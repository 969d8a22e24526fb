"""Counter roll-ups: V(t1) - V(t0) at period boundaries, across DST, gaps and no data."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ledger.consumption import CounterCount
from ledger.counters import CounterPoint, to_decimal
from ledger.memory import MemorySource, QualityBits
from ledger.periods import Interval, Period
from ledger.ports import MeterEvent, Reading
from ledger.rollup import (
    COUNTER_BOUNDARY,
    COUNTER_EXTRAPOLATED,
    COUNTER_INTERPOLATED,
    NO_DATA,
    ActivityLine,
    roll_up_counter,
)
from store.quality import REJECTED, Quality

BITS = QualityBits(int(REJECTED), int(Quality.COUNTER_WRAP), int(Quality.COUNTER_RESET))
BERLIN = "Europe/Berlin"
HOURLY = timedelta(hours=1)


def at(text: str, zone: str = BERLIN) -> datetime:
    """A local wall-clock time in ``zone``, as the UTC instant the store holds."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def reading(text: str, value: float, quality: int = 0, zone: str = BERLIN) -> Reading:
    return Reading(at(text, zone), value, quality)


def source(rows: list[Reading], events: list[MeterEvent] | None = None) -> MemorySource:
    return MemorySource(BITS, {1: rows}, {1: events or []})


def trace(line: ActivityLine) -> CounterCount:
    """The counter evidence of a line."""
    assert isinstance(line.trace, CounterCount)
    return line.trace


def month(text: str, zone: str = BERLIN) -> Interval:
    return Period.parse(zone, text).interval


async def test_rollup_splits_delta_at_month_boundary() -> None:
    rows = [
        reading("2026-01-31 23:30", 0.0),
        reading("2026-02-01 00:30", 2.0),
        reading("2026-02-28 23:30", 100.0),
        reading("2026-03-01 00:30", 102.0),
        reading("2026-03-31 23:30", 500.0),
        reading("2026-04-01 00:30", 504.0),
    ]
    point = CounterPoint(1, "kWh", expected_interval=HOURLY)
    feb = await roll_up_counter(source(rows), point, month("2026-02"))
    mar = await roll_up_counter(source(rows), point, month("2026-03"))
    both = await roll_up_counter(
        source(rows), point, Interval(feb.interval.start, mar.interval.end)
    )
    assert (feb.quantity, mar.quantity) == (Decimal(100), Decimal(401))
    assert feb.quantity + mar.quantity == both.quantity
    assert mar.method == COUNTER_INTERPOLATED
    assert mar.estimated_share == 0  # a one-hour step is no gap at an hourly meter
    start = trace(mar).start
    assert start.value == Decimal(101)
    assert start.how == "interpolated"
    assert [(r.ts, r.value, r.quality) for r in start.readings] == [
        (at("2026-02-28 23:30"), 100.0, 0),
        (at("2026-03-01 00:30"), 102.0, 0),
    ]


@pytest.mark.parametrize(
    ("zone", "name", "hours"),
    [
        (BERLIN, "2026-03", 743),
        (BERLIN, "2026-10", 745),
        ("Asia/Shanghai", "2026-03", 744),
        ("Asia/Shanghai", "2026-10", 744),
    ],
)
async def test_dst_months_count_their_real_hours(zone: str, name: str, hours: int) -> None:
    # One kWh an hour, read on every UTC hour: a month's kWh is its length in hours.
    first = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [Reading(first + timedelta(hours=h), float(h)) for h in range(24 * 365)]
    point = CounterPoint(1, "kWh", expected_interval=HOURLY)
    line = await roll_up_counter(source(rows), point, month(name, zone))
    assert line.quantity == hours
    assert line.coverage == 1


async def test_gap_at_the_boundary_is_estimated_and_lowers_coverage() -> None:
    quarter = timedelta(minutes=15)
    first, gap_from, gap_to = at("2026-02-20 00:00"), at("2026-02-28 20:00"), at("2026-03-01 04:00")
    times = [first + quarter * i for i in range(4 * 24 * 45)]
    rows = [Reading(t, i * 0.25) for i, t in enumerate(times) if not gap_from < t < gap_to]
    point = CounterPoint(1, "kWh", expected_interval=quarter)
    line = await roll_up_counter(source(rows), point, month("2026-03"))
    assert line.quantity == 743  # 1 kWh/h: steady, so the split of the gap is right
    assert 0 < line.estimated_share < 1
    assert line.estimated_share == Decimal(4) / 743  # the four gap hours inside March
    assert line.coverage == Decimal(743 - 4) / 743
    assert line.longest_gap == timedelta(hours=4)
    assert [f.code for f in line.findings] == ["BOUNDARY_GAP"]


async def test_no_readings_give_zero_with_coverage_zero_and_a_blocking_finding() -> None:
    line = await roll_up_counter(source([]), CounterPoint(1, "kWh"), month("2026-03"))
    assert [line.quantity, line.coverage, line.estimated_share] == [0, 0, 1]
    assert line.method == NO_DATA
    assert [f.code for f in line.blocking] == ["NO_READINGS"]


async def test_readings_only_before_the_period_give_no_value() -> None:
    rows = [reading("2026-01-10 00:00", 1.0), reading("2026-02-10 00:00", 9.0)]
    line = await roll_up_counter(source(rows), CounterPoint(1, "kWh"), month("2026-03"))
    assert line.quantity == 0
    assert [f.code for f in line.blocking] == ["NO_READINGS"]


async def test_period_between_two_distant_readings_is_all_estimated_and_blocking() -> None:
    # 1415 hours apart (one lost to DST), 1 kWh/h
    rows = [reading("2026-02-15 00:00", 0.0), reading("2026-04-15 00:00", 1415.0)]
    line = await roll_up_counter(source(rows), CounterPoint(1, "kWh"), month("2026-03"))
    assert line.quantity == 743
    assert line.estimated_share == 1
    assert line.coverage == 0
    assert [f.code for f in line.blocking] == ["NO_READINGS_IN_PERIOD"]


async def test_first_reading_inside_the_period_is_extrapolated_back_and_flagged() -> None:
    start = at("2026-03-03 00:00")  # readings stop at 31 March 23:00
    rows = [Reading(start + timedelta(hours=h), 500.0 + h) for h in range(695)]
    point = CounterPoint(1, "kWh", expected_interval=HOURLY)
    line = await roll_up_counter(source(rows), point, month("2026-03"))
    assert line.method == COUNTER_EXTRAPOLATED
    assert line.quantity == 743  # two days and the last hour at the rate of the rest
    assert line.estimated_share == Decimal(49) / 743
    assert {f.code for f in line.findings} == {"EXTRAPOLATED_START", "EXTRAPOLATED_END"}
    assert not line.blocking


async def test_a_lone_reading_gives_no_rate_to_extrapolate_with() -> None:
    rows = [reading("2026-03-10 00:00", 42.0)]
    line = await roll_up_counter(source(rows), CounterPoint(1, "kWh"), month("2026-03"))
    assert line.quantity == 0
    assert line.estimated_share == 0
    assert {f.code for f in line.findings} == {"EXTRAPOLATED_START", "EXTRAPOLATED_END"}


async def test_rejected_readings_are_never_differenced() -> None:
    rows = [
        reading("2026-03-01 00:00", 800.0),
        reading("2026-03-10 00:00", 0.0, int(Quality.GLITCH)),
        reading("2026-03-11 00:00", 1e9, int(Quality.SPIKE)),
        reading("2026-04-01 00:00", 900.0),
    ]
    line = await roll_up_counter(source(rows), CounterPoint(1, "kWh"), month("2026-03"))
    assert line.quantity == 100
    assert line.findings == ()


async def test_brief_monthly_billing_meter_with_ct_40() -> None:
    registers = [
        "10000.00", "10462.50", "10892.50", "11390.00", "11860.00", "12312.50", "12752.50",
        "13237.50", "13745.00", "14212.50", "14662.50", "15110.00", "15567.25",
    ]  # fmt: skip
    zone = "Asia/Shanghai"
    periods = [Period.parse(zone, f"2023-{m:02d}") for m in range(1, 13)]
    edges = [p.interval.start for p in periods] + [periods[-1].interval.end]
    rows = [Reading(ts, float(v)) for ts, v in zip(edges, registers, strict=True)]
    point = CounterPoint(1, "kWh", multiplier=Decimal(40), expected_interval=timedelta(days=1))
    lines = [await roll_up_counter(source(rows), point, p.interval) for p in periods]
    assert [line.quantity for line in lines] == [
        18_500, 17_200, 19_900, 18_800, 18_100, 17_600, 19_400, 20_300, 18_700, 18_000, 17_900,
        18_290,
    ]  # fmt: skip
    year = await roll_up_counter(source(rows), point, Interval(edges[0], edges[-1]))
    assert year.quantity == Decimal(222_690)
    assert year.quantity == sum((line.quantity for line in lines), Decimal(0))
    assert {line.method for line in lines} == {COUNTER_BOUNDARY}


def test_readings_become_the_shortest_decimal_that_reads_back() -> None:
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal(10462.5) == Decimal("10462.5")
    with pytest.raises(ValueError, match="finite"):
        to_decimal(float("nan"))
