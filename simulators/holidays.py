"""Public holidays per country: fixed-date ones every year, movable ones listed per year.

Plants run a weekend pattern (or less) on public holidays, so a month with Spring Festival
uses visibly less energy than the month before: the ledger must show it too. China also
moves working days onto weekends around its holidays (调休); those Saturdays and Sundays
are listed as working days.

Sources:
- CN 2026: 国务院办公厅关于2026年部分节假日安排的通知 (State Council General Office,
  4 Nov 2025): 元旦 1-3 Jan (work Sun 4 Jan); 春节 15-23 Feb (work Sat 14 and Sat 28 Feb);
  清明 4-6 Apr; 劳动节 1-5 May (work Sat 9 May); 端午 19-21 Jun; 中秋 25-27 Sep;
  国庆 1-7 Oct (work Sun 20 Sep and Sat 10 Oct).
- DE 2026: the nine nationwide holidays (Feiertagsgesetze of the Länder all keep them);
  Easter Sunday is 5 Apr 2026, so Karfreitag 3 Apr, Ostermontag 6 Apr, Christi
  Himmelfahrt 14 May, Pfingstmontag 25 May. Regional ones (e.g. Fronleichnam) are left out.

Years without a listed row get only the fixed-date holidays: add a row (or the plant file's
``simulation.holidays``) before simulating them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# (month, day) observed every year
_FIXED: dict[str, frozenset[tuple[int, int]]] = {
    "CN": frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)}),
    "DE": frozenset({(1, 1), (5, 1), (10, 3), (12, 25), (12, 26)}),
}


def _days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


# Movable holidays and bridge days, per country and year
_LISTED: dict[str, dict[int, frozenset[date]]] = {
    "CN": {
        2026: frozenset(
            _days(date(2026, 1, 1), 3)
            + _days(date(2026, 2, 15), 9)
            + _days(date(2026, 4, 4), 3)
            + _days(date(2026, 5, 1), 5)
            + _days(date(2026, 6, 19), 3)
            + _days(date(2026, 9, 25), 3)
            + _days(date(2026, 10, 1), 7)
        ),
    },
    "DE": {
        2026: frozenset({date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 14), date(2026, 5, 25)}),
    },
}

# Weekend days that are working days (China's 调休)
_WORKDAYS: dict[str, dict[int, frozenset[date]]] = {
    "CN": {
        2026: frozenset(
            {
                date(2026, 1, 4),
                date(2026, 2, 14),
                date(2026, 2, 28),
                date(2026, 5, 9),
                date(2026, 9, 20),
                date(2026, 10, 10),
            }
        ),
    },
}

COUNTRIES = tuple(sorted(_FIXED))


@dataclass(frozen=True, slots=True)
class Calendar:
    """Which local dates are working days, holidays or weekends at a site."""

    country: str | None = None
    extra: frozenset[date] = frozenset()

    def holiday(self, day: date) -> bool:
        """True on a public holiday (or an extra day off); False without a country."""
        if day in self.extra:
            return True
        if self.country is None:
            return False
        if (day.month, day.day) in _FIXED[self.country]:
            return True
        return day in _LISTED.get(self.country, {}).get(day.year, frozenset())

    def weekend(self, day: date) -> bool:
        """True on a Saturday or Sunday that is not moved to a working day."""
        if day.weekday() < 5 or self.country is None:
            return day.weekday() >= 5
        return day not in _WORKDAYS.get(self.country, {}).get(day.year, frozenset())

    @classmethod
    def of(cls, country: str | None, extra: Iterable[date] = ()) -> Calendar:
        return cls(country, frozenset(extra))
