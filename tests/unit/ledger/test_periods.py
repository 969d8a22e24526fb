"""Periods are half-open UTC intervals between local midnights, whatever DST does."""

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from ledger.periods import Interval, Month, Period, day_interval, months_ended_by


@pytest.mark.parametrize(
    ("zone", "month", "hours"),
    [
        ("Europe/Berlin", "2026-03", 743),
        ("Europe/Berlin", "2026-10", 745),
        ("Europe/Berlin", "2026-06", 720),
        ("Asia/Shanghai", "2026-03", 744),
        ("Asia/Shanghai", "2026-10", 744),
    ],
)
def test_month_lasts_its_real_hours(zone: str, month: str, hours: int) -> None:
    assert Period.parse(zone, month).interval.duration == timedelta(hours=hours)


def test_month_runs_from_local_midnight_to_local_midnight_in_utc() -> None:
    interval = Period.parse("Europe/Berlin", "2026-03").interval
    assert interval.start == datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert interval.end == datetime(2026, 3, 31, 22, tzinfo=UTC)


def test_consecutive_months_share_their_boundary() -> None:
    march = Period.parse("Asia/Shanghai", "2026-03")
    assert march.interval.end == march.next().interval.start
    assert str(march.next()) == "2026-04 (Asia/Shanghai)"


def test_days_tile_the_month_with_a_23_hour_dst_day() -> None:
    period = Period.parse("Europe/Berlin", "2026-03")
    days = period.days()
    assert len(days) == 31
    assert days[0].start == period.interval.start
    assert days[-1].end == period.interval.end
    assert all(a.end == b.start for a, b in pairwise(days))
    assert days[28].duration == timedelta(hours=23)  # 29 March


def test_day_begins_at_the_jump_where_a_zone_skips_midnight() -> None:
    # Chile springs forward at 00:00: 6 September 2026 begins at 01:00 -03, 04:00 UTC.
    day = day_interval("America/Santiago", date(2026, 9, 6))
    assert day.start == datetime(2026, 9, 6, 4, tzinfo=UTC)
    assert day.duration == timedelta(hours=23)


@pytest.mark.parametrize("text", ["2026-3", "2026-13", "March 2026", "2026-00", ""])
def test_month_parse_rejects_anything_but_yyyy_mm(text: str) -> None:
    with pytest.raises(ValueError, match="month"):
        Month.parse(text)


def test_month_parse_and_print_round_trip() -> None:
    assert str(Month.parse("2026-03")) == "2026-03"
    assert Month.parse("2026-12").next() == Month(2027, 1)
    assert Month(2026, 2) < Month(2026, 11) < Month(2027, 1)


def test_unknown_zone_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        Period.parse("Mars/Olympus", "2026-03")


def test_months_ended_by_counts_a_month_ending_exactly_then() -> None:
    april_first = datetime(2026, 4, 1, tzinfo=ZoneInfo("Europe/Berlin"))
    since = Month(2026, 1)
    assert months_ended_by("Europe/Berlin", april_first, since) == (
        Month(2026, 1),
        Month(2026, 2),
        Month(2026, 3),
    )
    just_before = april_first - timedelta(microseconds=1)
    assert months_ended_by("Europe/Berlin", just_before, since)[-1] == Month(2026, 2)


def test_months_ended_by_uses_the_site_zone_not_utc() -> None:
    # 1 April 00:30 in Shanghai is still 31 March in UTC: March has ended there.
    instant = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)
    assert months_ended_by("Asia/Shanghai", instant, Month(2026, 3)) == (Month(2026, 3),)
    assert months_ended_by("Europe/Berlin", instant, Month(2026, 3)) == ()


def test_months_ended_by_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="aware"):
        months_ended_by("Europe/Berlin", datetime(2026, 4, 1), Month(2026, 1))


def test_interval_refuses_naive_local_or_empty_spans() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="UTC"):
        Interval(datetime(2026, 3, 1), start)
    with pytest.raises(ValueError, match="UTC"):
        Interval(start.astimezone(ZoneInfo("Europe/Berlin")), start + timedelta(days=1))
    with pytest.raises(ValueError, match="before"):
        Interval(start, start)


def test_interval_is_half_open() -> None:
    interval = Period.parse("Asia/Shanghai", "2026-03").interval
    assert interval.start in interval
    assert interval.end not in interval
    left, right = interval.split(interval.start + timedelta(days=10))
    assert left.end == right.start
    assert left.duration + right.duration == interval.duration
