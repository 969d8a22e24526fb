"""What the scheduler must do now, derived from state rather than remembered.

Each run asks: which months of this site have ended, have readings, and have no
statement yet? Those are closed, oldest first. A scheduler that was down, or a trigger
that fired twice on a DST night (STACK.md: APScheduler repeats a 02:30 job on the
October change), therefore catches up or does nothing, by itself.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from zoneinfo import ZoneInfo

from ledger.periods import Month, months_ended_by


def months_due(
    zone: str, now: datetime, first_reading: datetime | None, closed: Collection[str]
) -> list[Month]:
    """Months from the first reading's month that ended by ``now`` and are not closed."""
    if first_reading is None:
        return []
    since = Month.of(first_reading.astimezone(ZoneInfo(zone)).date())
    return [m for m in months_ended_by(zone, now, since) if str(m) not in closed]
