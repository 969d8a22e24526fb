"""Counter roll-ups across breaks: wraps, replacements, resets and CT/PT ratio changes."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ledger.consumption import CounterCount, count
from ledger.counters import CounterPoint
from ledger.memory import MemorySource, QualityBits
from ledger.periods import Interval, Period
from ledger.ports import MeterEvent, RatioChange, Reading, Splice
from ledger.rollup import COUNTER_BOUNDARY, ActivityLine, roll_up_counter
from store.quality import REJECTED, Quality

BITS = QualityBits(int(REJECTED), int(Quality.COUNTER_WRAP), int(Quality.COUNTER_RESET))
BERLIN = "Europe/Berlin"
WRAP = int(Quality.COUNTER_WRAP)
RESET = int(Quality.COUNTER_RESET)
HOURLY = timedelta(hours=1)
MARCH = Period.parse(BERLIN, "2026-03").interval


def at(text: str) -> datetime:
    """A Berlin wall-clock time, as the UTC instant the store holds."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(BERLIN)).astimezone(UTC)


def reading(text: str, value: float, quality: int = 0) -> Reading:
    return Reading(at(text), value, quality)


def source(rows: list[Reading], events: list[MeterEvent] | None = None) -> MemorySource:
    return MemorySource(BITS, {1: rows}, {1: events or []})


def trace(line: ActivityLine) -> CounterCount:
    assert isinstance(line.trace, CounterCount)
    return line.trace


def month(text: str) -> Interval:
    return Period.parse(BERLIN, text).interval


async def test_rollup_adds_the_wrap_value_for_a_wrap_inside_the_month() -> None:
    rows = [
        reading("2026-03-01 00:00", 99_900.0),
        reading("2026-03-15 12:00", 99_990.5),
        reading("2026-03-15 13:00", 10.5, WRAP),
        reading("2026-04-01 00:00", 50.0),
    ]
    point = CounterPoint(1, "kWh", wrap_value=Decimal(100_000), expected_interval=HOURLY)
    line = await roll_up_counter(source(rows), point, month("2026-03"))
    assert line.quantity == Decimal("150.0")
    assert line.method == COUNTER_BOUNDARY
    assert [c.kind for c in trace(line).corrections] == ["wrap"]
    assert trace(line).segments[0].wraps == 1


async def test_rollup_bridges_a_replacement_with_final_and_initial_readings() -> None:
    rows = [
        reading("2026-03-01 00:00", 5000.0),
        reading("2026-03-15 10:00", 5100.0),
        reading("2026-03-15 14:00", 20.0, RESET),
        reading("2026-04-01 00:00", 300.0),
    ]
    swap = Splice(7, at("2026-03-15 12:00"), "replacement", 5150.0, 0.0)
    point = CounterPoint(1, "kWh", multiplier=Decimal(40), expected_interval=HOURLY)
    line = await roll_up_counter(source(rows, [swap]), point, month("2026-03"))
    # (old final - old start) + (new end - new initial), times the CT ratio
    assert line.quantity == 40 * (Decimal(5150 - 5000) + Decimal(300 - 0))
    segments = trace(line).segments
    assert [(s.start_value, s.end_value) for s in segments] == [
        (Decimal(5000), Decimal(5150)),
        (Decimal(0), Decimal(300)),
    ]
    assert [(c.kind, c.event_id) for c in trace(line).corrections] == [("replacement", 7)]
    assert line.findings == ()


async def test_replacement_at_midnight_belongs_to_the_month_it_starts() -> None:
    rows = [
        reading("2026-02-01 00:00", 4000.0),
        reading("2026-03-01 00:00", 3.0, RESET),  # the new meter, read at the swap
        reading("2026-04-01 00:00", 203.0),
    ]
    swap = Splice(8, at("2026-03-01 00:00"), "replacement", 4500.0, 0.0)
    point = CounterPoint(1, "kWh", expected_interval=HOURLY)
    feb = await roll_up_counter(source(rows, [swap]), point, month("2026-02"))
    mar = await roll_up_counter(source(rows, [swap]), point, month("2026-03"))
    assert feb.quantity == Decimal(500)  # up to the old register's final 4500
    assert mar.quantity == Decimal(200)  # from the new register's reading at midnight
    assert trace(mar).corrections == ()


async def test_ratio_change_mid_month_splits_the_period_into_segments() -> None:
    rows = [reading("2026-03-01 00:00", 1000.0), reading("2026-04-01 00:00", 1500.0)]
    change = RatioChange(9, at("2026-03-15 00:00"), Decimal(40), Decimal(50), value=1200.0)
    point = CounterPoint(1, "kWh", multiplier=Decimal(40), expected_interval=HOURLY)
    line = await roll_up_counter(source(rows, [change]), point, month("2026-03"))
    assert line.quantity == 40 * 200 + 50 * 300
    segments = trace(line).segments
    assert [(s.multiplier, s.advance) for s in segments] == [
        (Decimal(40), Decimal(200)),
        (Decimal(50), Decimal(300)),
    ]
    assert line.findings == ()


async def test_ratio_change_without_a_reading_is_interpolated_from_its_neighbours() -> None:
    rows = [
        reading("2026-03-01 00:00", 1000.0),
        reading("2026-03-14 23:30", 1190.0),
        reading("2026-03-15 00:30", 1210.0),
        reading("2026-04-01 00:00", 1500.0),
    ]
    change = RatioChange(9, at("2026-03-15 00:00"), Decimal(40), Decimal(50))
    point = CounterPoint(1, "kWh", multiplier=Decimal(40), expected_interval=HOURLY)
    line = await roll_up_counter(source(rows, [change]), point, month("2026-03"))
    assert line.quantity == 40 * 200 + 50 * 300
    assert line.estimated_share == 0  # interpolated across one hour, not a gap


async def test_reset_without_an_event_counts_nothing_across_it_and_says_so() -> None:
    rows = [
        reading("2026-03-01 00:00", 800.0),
        reading("2026-03-10 00:00", 900.0),
        reading("2026-03-10 01:00", 5.0, RESET),
        reading("2026-04-01 00:00", 105.0),
    ]
    line = await roll_up_counter(source(rows), CounterPoint(1, "kWh"), month("2026-03"))
    assert line.quantity == 100 + 100
    assert [f.code for f in line.findings] == ["RESET_WITHOUT_EVENT"]
    assert [c.kind for c in trace(line).corrections] == ["reset_without_event"]


async def test_a_line_recomputes_from_the_evidence_it_carries() -> None:
    rows = [
        reading("2026-02-28 23:00", 99_950.0),
        reading("2026-03-01 01:00", 99_990.0),
        reading("2026-03-20 00:00", 20.0, WRAP),
        reading("2026-03-31 23:00", 400.0),
        reading("2026-04-01 01:00", 440.0),
    ]
    point = CounterPoint(1, "kWh", wrap_value=Decimal(100_000), expected_interval=HOURLY)
    line = await roll_up_counter(source(rows), point, month("2026-03"))
    again = count(point, line.interval, trace(line).evidence)
    assert again == line.trace
    assert line.quantity == Decimal(100_000 - 99_970 + 420)


async def test_replacement_without_a_final_value_is_flagged() -> None:
    rows = [
        reading("2026-03-01 00:00", 5000.0),
        reading("2026-03-15 10:00", 5100.0),
        reading("2026-03-15 14:00", 20.0, RESET),
        reading("2026-04-01 00:00", 300.0),
    ]
    swap = Splice(7, at("2026-03-15 12:00"), "replacement", None, 0.0)
    line = await roll_up_counter(source(rows, [swap]), CounterPoint(1, "kWh"), MARCH)
    assert line.quantity == 100 + 300  # the old meter's last hours are not known
    assert [f.code for f in line.findings] == ["SPLICE_VALUE_MISSING"]


async def test_ratio_change_that_disagrees_with_the_multiplier_in_force_is_flagged() -> None:
    rows = [reading("2026-03-01 00:00", 1000.0), reading("2026-04-01 00:00", 1500.0)]
    change = RatioChange(9, at("2026-03-15 00:00"), Decimal(30), Decimal(50), value=1200.0)
    point = CounterPoint(1, "kWh", multiplier=Decimal(40))
    line = await roll_up_counter(source(rows, [change]), point, MARCH)
    assert line.quantity == 40 * 200 + 50 * 300  # the catalog's ratio until the change
    assert [f.code for f in line.findings] == ["RATIO_MISMATCH"]


async def test_a_fall_with_no_wrap_value_is_not_booked_and_blocks() -> None:
    # Accepted readings never fall without a flag; if the store says they did, stop.
    rows = [
        reading("2026-03-01 00:00", 800.0),
        reading("2026-03-10 00:00", 900.0),
        reading("2026-03-10 01:00", 850.0, WRAP),
        reading("2026-04-01 00:00", 870.0),
    ]
    line = await roll_up_counter(source(rows), CounterPoint(1, "kWh"), MARCH)
    assert line.quantity == 100 + 20
    assert [f.code for f in line.blocking] == ["COUNTER_DECREASE"]


async def test_worked_example_of_docs_rollup_md() -> None:
    rows = [
        reading("2026-02-28 23:45", 99_990.0),
        reading("2026-03-01 00:15", 99_994.0),
        reading("2026-03-12 08:00", 99_999.0),
        reading("2026-03-12 08:15", 3.0, WRAP),
        reading("2026-03-20 09:45", 411.5),
        reading("2026-03-20 10:15", 0.5, RESET),
        reading("2026-03-31 23:45", 380.0),
        reading("2026-04-01 00:15", 384.0),
    ]
    swap = Splice(31, at("2026-03-20 10:00"), "replacement", 412.0, 0.0)
    point = CounterPoint(1, "kWh", Decimal(40), Decimal(100_000), timedelta(minutes=15))
    line = await roll_up_counter(source(rows, [swap]), point, MARCH)
    segments = trace(line).segments
    assert [(s.start_value, s.end_value, s.wraps, s.quantity) for s in segments] == [
        (Decimal("99992.0"), Decimal("412.0"), 1, Decimal("16800.0")),
        (Decimal("0.0"), Decimal("382.0"), 0, Decimal("15280.0")),
    ]
    assert line.quantity == Decimal(32_080)
    assert [c.kind for c in trace(line).corrections] == ["wrap", "replacement"]
    assert line.estimated_share == 0
    assert line.findings == ()


async def test_final_reading_noted_below_the_last_reading_ends_the_old_register_there() -> None:
    # The technician read 5100.4 off the display; the register had sent 5100.49 before
    # the swap. Neither a wrap (the point has a wrap value) nor a decrease to refuse.
    rows = [
        reading("2026-03-01 00:00", 5000.0),
        reading("2026-03-15 11:55", 5100.49),
        reading("2026-03-15 12:05", 1.0, RESET),
        reading("2026-04-01 00:00", 300.0),
    ]
    swap = Splice(7, at("2026-03-15 12:00"), "replacement", 5100.4, 0.0)
    point = CounterPoint(1, "kWh", wrap_value=Decimal(100_000), expected_interval=HOURLY)
    line = await roll_up_counter(source(rows, [swap]), point, MARCH)
    assert line.quantity == Decimal("100.49") + 300
    assert [f.code for f in line.findings] == ["SPLICE_FINAL_BELOW_READING"]
    assert [c.kind for c in trace(line).corrections] == ["replacement"]
