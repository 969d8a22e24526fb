"""Bucket boundaries of a series, in the site's time zone, DST days included.

Minutes and hours are a fixed grid aligned on local midnight; days and months run from
local midnight to local midnight (`ledger.periods.local_midnight`), so a Berlin day in
March has 23 hours and one in October 25. The first and last buckets are clipped to the
``[from, to)`` asked for, so the buckets tile exactly that range: consumption per bucket
adds up to the consumption over the range.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import count, islice, pairwise
from typing import Literal
from zoneinfo import ZoneInfo

from ledger.periods import Month, local_midnight

Resolution = Literal["raw", "1m", "15m", "1h", "1d", "1mo"]
Bucketed = Literal["1m", "15m", "1h", "1d", "1mo"]

FIXED: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
}


@dataclass(frozen=True, slots=True)
class Window:
    """The boundaries of one page of buckets, and where the next page starts (or None)."""

    bounds: tuple[datetime, ...]  # b0 < b1 < ... < bn: buckets [b_i, b_i+1)
    next_start: datetime | None

    @property
    def buckets(self) -> list[tuple[datetime, datetime]]:
        return list(pairwise(self.bounds))


def window(resolution: Bucketed, zone: str, start: datetime, end: datetime, limit: int) -> Window:
    """At most ``limit`` buckets of ``[start, end)``, from ``start`` on, in UTC."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    inner = [b for b in islice(_grid(resolution, zone, start), limit) if b < end]
    bounds = (start, *inner)
    if len(inner) < limit:
        return Window((*bounds, end), None)
    return Window(bounds, inner[-1])


def grid_origin(zone: str, instant: datetime) -> datetime:
    """Local midnight of the day ``instant`` falls in: what fixed grids align on."""
    return local_midnight(zone, instant.astimezone(ZoneInfo(zone)).date())


def _grid(resolution: Bucketed, zone: str, start: datetime) -> Iterator[datetime]:
    """Every bucket boundary strictly after ``start``, in order, without end."""
    if resolution in FIXED:
        width = FIXED[resolution]
        origin = grid_origin(zone, start)
        first = (start - origin) // width + 1
        return (origin + k * width for k in count(first))
    local = start.astimezone(ZoneInfo(zone)).date()
    if resolution == "1d":
        return (
            b
            for b in (local_midnight(zone, local + timedelta(days=k)) for k in count(0))
            if b > start
        )
    month = Month.of(local)
    return (b for b in (local_midnight(zone, m) for m in _months(month)) if b > start)


def _months(month: Month) -> Iterator[date]:
    while True:
        yield month.first_day
        month = month.next()
