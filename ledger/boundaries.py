"""The counter's value at a period boundary: read, interpolated, or extrapolated.

At the start ``t0`` the value is the state *at* t0, after anything that happens there (a
reading or a meter swap at t0 belongs to the period it starts); at the end ``t1`` it is the
state just *before* t1, when the old register still counts. Between two timeline points
the value lies on the straight line joining them. Where the timeline has nothing on one
side, the value is extrapolated at the rate of the readings on the other side, and the
line says so: the scheduler may run before the first reading of a new month has arrived,
and a meter may start or stop mid-month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from ledger.counters import (
    QUANTUM,
    CounterPoint,
    How,
    Knot,
    Role,
    first_at_or_after,
    interpolate,
    last_at_or_before,
    span_us,
    step,
)
from ledger.findings import Finding
from ledger.ports import Reading

_SOURCE = "ledger.boundaries"
_HOUR_US = 3_600_000_000


@dataclass(frozen=True, slots=True)
class BoundaryValue:
    """The stored value at one boundary and how it was found: the line's evidence."""

    instant: datetime
    value: Decimal
    how: How
    readings: tuple[Reading, ...]  # the readings it rests on
    event_id: int | None  # the meter event it rests on, if any
    estimated: bool  # across a gap or extrapolated
    note: str = ""

    def findings(self, point: CounterPoint, side: Literal["start", "end"]) -> list[Finding]:
        """Warn of a boundary value that is an estimate."""
        subject = f"point {point.point_id}"
        if self.how == "extrapolated":
            text = f"no reading on the far side of the period {side} {self.instant}: {self.note}"
            return [Finding(f"EXTRAPOLATED_{side.upper()}", subject, text, _SOURCE)]
        if self.how == "interpolated" and self.estimated:
            text = f"the period {side} {self.instant} falls in a gap: {self.note}"
            return [Finding("BOUNDARY_GAP", subject, text, _SOURCE)]
        return []


def start_value(
    knots: Sequence[Knot], t0: datetime, point: CounterPoint
) -> tuple[Knot, BoundaryValue] | None:
    """Value the period start: the last timeline point at ``t0``, or the line through it."""
    i = last_at_or_before(knots, t0)
    if i >= 0 and knots[i].ts == t0:
        return _exact(knots[i], t0)
    if 0 <= i < len(knots) - 1:
        found = _between(knots[i], knots[i + 1], t0, point)
        if found is not None:
            return found
    return _extrapolate(knots, i + 1, t0, point, forward=True)


def end_value(
    knots: Sequence[Knot], t1: datetime, point: CounterPoint
) -> tuple[Knot, BoundaryValue] | None:
    """Value the period end: the first timeline point at ``t1``, or the line through it."""
    j = first_at_or_after(knots, t1)
    if j < len(knots) and knots[j].ts == t1:
        return _exact(knots[j], t1)
    if 0 < j < len(knots):
        found = _between(knots[j - 1], knots[j], t1, point)
        if found is not None:
            return found
    return _extrapolate(knots, j - 1, t1, point, forward=False)


def _exact(knot: Knot, at: datetime) -> tuple[Knot, BoundaryValue]:
    if knot.role is Role.READING and knot.reading is not None:
        value = BoundaryValue(at, knot.value, "reading", (knot.reading,), None, False)
        return knot, value
    event_id = knot.event.event_id if knot.event is not None else None
    note = f"{knot.role.name.lower()} value of meter event {event_id}"
    return knot, BoundaryValue(at, knot.value, "event", (), event_id, knot.estimated, note)


def _between(
    prev: Knot, nxt: Knot, at: datetime, point: CounterPoint
) -> tuple[Knot, BoundaryValue] | None:
    value = interpolate(prev, nxt, at, point.wrap_value)
    if value is None:
        return None  # a reset with no event between them: use one side only
    gap = nxt.ts - prev.ts > point.max_gap or prev.estimated or nxt.estimated
    sources = tuple(k.reading for k in (prev, nxt) if k.reading is not None)
    note = f"interpolated between {_describe(prev)} and {_describe(nxt)}"
    knot = Knot(at, Role.BOUNDARY, value, estimated=gap)
    return knot, BoundaryValue(at, value, "interpolated", sources, None, gap, note)


def _extrapolate(
    knots: Sequence[Knot], i: int, at: datetime, point: CounterPoint, *, forward: bool
) -> tuple[Knot, BoundaryValue] | None:
    """Carry the rate of the run of readings at ``knots[i]`` out to ``at``.

    ``forward`` means the run lies after ``at`` (a period start with nothing before it).
    A run of one reading has no rate: the value stays flat at that reading.
    """
    if not 0 <= i < len(knots):
        return None
    anchor = knots[i]
    advance, other = _run(knots, i, point.wrap_value, forward=forward)
    elapsed = span_us(other.ts, anchor.ts) if forward else span_us(anchor.ts, other.ts)
    rate = advance / elapsed if elapsed else Decimal(0)
    moved = rate * (span_us(anchor.ts, at) if forward else span_us(at, anchor.ts))
    value = _fold(anchor.value - moved if forward else anchor.value + moved, point)
    sources = tuple(k.reading for k in _distinct(anchor, other) if k.reading is not None)
    per_hour = (rate * _HOUR_US).normalize()
    note = f"from {_describe(anchor)} at {per_hour} per hour (from {_describe(other)})"
    knot = Knot(at, Role.BOUNDARY, value, estimated=True)
    return knot, BoundaryValue(at, value, "extrapolated", sources, None, True, note)


def _run(
    knots: Sequence[Knot], i: int, wrap: Decimal | None, *, forward: bool
) -> tuple[Decimal, Knot]:
    """Follow the timeline from ``knots[i]`` while it can be differenced; return the advance
    and the point where it stopped. A swap or a reset ends the run."""
    advance, k, direction = Decimal(0), i, 1 if forward else -1
    while 0 <= k + direction < len(knots):
        later, earlier = (knots[k + 1], knots[k]) if forward else (knots[k], knots[k - 1])
        delta = None if later.role is Role.INITIAL else step(earlier, later, wrap)
        if delta is None:
            break
        advance += delta
        k += direction
    return advance, knots[k]


def _fold(value: Decimal, point: CounterPoint) -> Decimal:
    """Bring an extrapolated value back into the register's range."""
    value = value.quantize(QUANTUM)
    wrap = point.wrap_value
    if wrap is None:
        return max(value, Decimal(0))  # a counter that would be below zero had not started
    folded = value % wrap  # Decimal's remainder takes the sign of the dividend
    return folded + wrap if folded < 0 else folded


def _distinct(first: Knot, second: Knot) -> tuple[Knot, ...]:
    return (first,) if first is second else (first, second)


def _describe(knot: Knot) -> str:
    what = "reading" if knot.role is Role.READING else knot.role.name.lower()
    return f"{what} {knot.value} at {knot.ts.isoformat()}"
