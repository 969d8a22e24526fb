"""Public holiday tables: fixed dates every year, listed movable ones, moved working days."""

from datetime import date

import pytest

from simulators.holidays import COUNTRIES, Calendar

CN, DE = Calendar.of("CN"), Calendar.of("DE")


@pytest.mark.parametrize(
    "day",
    [date(2026, 1, 2), date(2026, 2, 15), date(2026, 2, 23), date(2026, 4, 6), date(2026, 5, 5),
     date(2026, 6, 19), date(2026, 9, 25), date(2026, 10, 7)],
)  # fmt: skip
def test_china_2026_holidays_follow_the_state_council_notice(day: date) -> None:
    assert CN.holiday(day)


def test_china_2026_moved_working_days_are_not_weekends() -> None:
    for day in (date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 10, 10)):
        assert day.weekday() >= 5
        assert not CN.weekend(day)
        assert not CN.holiday(day)
    assert CN.weekend(date(2026, 2, 7))


@pytest.mark.parametrize(
    "day",
    [date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 14),
     date(2026, 5, 25), date(2026, 10, 3), date(2026, 12, 25), date(2026, 12, 26)],
)  # fmt: skip
def test_germany_2026_has_its_nine_nationwide_holidays(day: date) -> None:
    assert DE.holiday(day)


def test_unlisted_years_keep_only_fixed_date_holidays() -> None:
    assert DE.holiday(date(2031, 12, 25))
    assert not DE.holiday(date(2031, 4, 11))  # Good Friday 2031 is not listed
    assert CN.holiday(date(2031, 10, 2))


def test_no_country_means_weekends_only_plus_extra_days() -> None:
    calendar = Calendar.of(None, [date(2026, 8, 14)])
    assert not calendar.holiday(date(2026, 1, 1))
    assert calendar.holiday(date(2026, 8, 14))
    assert calendar.weekend(date(2026, 8, 15))
    assert COUNTRIES == ("CN", "DE")
