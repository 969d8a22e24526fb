"""Calendar periods of a site as half-open UTC intervals between local midnights.

A month or a day of the ledger is ``[start, end)`` in UTC, where both ends are local
midnight in the site's time zone. Everything downstream compares and subtracts these UTC
instants only: Python subtracts two aware datetimes that share one ``ZoneInfo`` by wall
clock, so March in Berlin would come out as 744 hours instead of 743 (STACK.md, "Time").
Converting each local midnight to UTC once, here, keeps that mistake out of the ledger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open span of time ``[start, end)`` between two UTC instants."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() != timedelta(0):
                raise ValueError(f"{name} must be an aware UTC datetime, not {value!r}")
        if not self.start < self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")

    @property
    def duration(self) -> timedelta:
        """The elapsed time, DST shifts included."""
        return self.end - self.start

    def __contains__(self, instant: object) -> bool:
        return isinstance(instant, datetime) and self.start <= instant < self.end

    def split(self, at: datetime) -> tuple[Interval, Interval]:
        """Return ``[start, at)`` and ``[at, end)``; ``at`` must lie strictly inside."""
        return Interval(self.start, at), Interval(at, self.end)


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month, written ``2026-03``; ordered by time."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9999:
            raise ValueError(f"no such month: {self.year:04d}-{self.month:02d}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """Read ``YYYY-MM``; raise ValueError naming the text for anything else."""
        match = _MONTH.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"month must look like 2026-03, not {text!r}")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> Month:
        """Return the month a local date falls in."""
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Month:
        """Return the month after this one."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)


def local_midnight(zone: str, day: date) -> datetime:
    """Return the UTC instant at which ``day`` begins in ``zone``.

    Where a zone skips midnight (clocks jump forward at 00:00, as in America/Santiago),
    the day begins at the jump: ``fold=0`` reads the missing wall time with the offset in
    force before it, which lands on the first instant that exists.
    """
    wall = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))
    return wall.astimezone(UTC)


def day_interval(zone: str, day: date) -> Interval:
    """Return one local day of a site as ``[midnight, next midnight)`` in UTC."""
    return Interval(local_midnight(zone, day), local_midnight(zone, day + timedelta(days=1)))


@dataclass(frozen=True, slots=True)
class Period:
    """One month of one site's ledger, in the site's time zone (an IANA key)."""

    zone: str
    month: Month

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.zone)  # fail here, loudly, not at the first use
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.zone!r}") from exc

    @classmethod
    def parse(cls, zone: str, text: str) -> Period:
        """Build a period from a zone key and ``YYYY-MM``."""
        return cls(zone, Month.parse(text))

    def __str__(self) -> str:
        return f"{self.month} ({self.zone})"

    @property
    def interval(self) -> Interval:
        """The month as ``[local midnight of the 1st, local midnight of the next 1st)``."""
        start = local_midnight(self.zone, self.month.first_day)
        return Interval(start, local_midnight(self.zone, self.month.next().first_day))

    def days(self) -> tuple[Interval, ...]:
        """Return each local day of the month, in order; together they tile the month."""
        day, end = self.month.first_day, self.month.next().first_day
        out = []
        while day < end:
            out.append(day_interval(self.zone, day))
            day += timedelta(days=1)
        return tuple(out)

    def next(self) -> Period:
        return Period(self.zone, self.month.next())


def months_ended_by(zone: str, instant: datetime, since: Month) -> tuple[Month, ...]:
    """Return every month from ``since`` on whose last local day is over at ``instant``.

    A month ends at the local midnight that starts the next one; a month ending exactly
    at ``instant`` counts as ended (its interval is half-open). The scheduler asks this
    on each run and drops the months already closed, so a run it missed is made up.
    """
    if instant.tzinfo is None:
        raise ValueError(f"instant must be timezone-aware, not {instant!r}")
    out = []
    month = since
    while Period(zone, month).interval.end <= instant:
        out.append(month)
        month = month.next()
    return tuple(out)
