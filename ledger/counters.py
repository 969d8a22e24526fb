"""The counter rule: consumption over ``[t0, t1)`` is V(t1) - V(t0), corrected.

V(t) is the counter at instant t: the reading at t if there is one, else the straight line
between the readings either side of it (BRIEF.md, "Formulas"). Between those two values
the register may have wrapped, been replaced or reset, or changed its CT/PT multiplier;
those few places (`Break`, `MeterEvent`) are all the ledger needs besides the boundaries,
because between two readings with no break in between the counter's advance is simply
their difference, however many readings the store skipped.

So the arithmetic runs over a short *timeline*: the boundary readings, each break with the
reading before it, each event as one or two points of its own, and the readings around it.
Consecutive points of the timeline are differenced (`step`); a fall is a wrap when the
point has a wrap value; a replacement contributes ``(final - previous) + (next - initial)``
because the timeline passes through the old register's final and the new one's initial
value; a ratio change ends one multiplier's segment and starts the next. The period's
quantity is the sum over its segments of ``multiplier x advance``.

Readings arrive as floats and become ``Decimal(repr(x))``: the shortest decimal that reads
back as the same float, which is the value the meter sent (10462.5, not the binary
expansion 10462.50000000000035...); `Decimal(x)` would book that binary noise. Values made
by interpolation are rounded to `QUANTUM`, so the value at an instant is the same whichever
period asks for it and consecutive periods add up to the whole exactly.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Context, Decimal
from enum import IntEnum
from typing import Literal

from ledger.ports import Bracket, Break, MeterEvent, RatioChange, Reading, Splice

#: Interpolated and extrapolated counter values are rounded to this many units (1e-9 kWh
#: is 3.6 mJ): far below any meter's resolution, and it keeps sums exact.
QUANTUM = Decimal("1e-9")

#: Enough digits for a register of 10^15 units at `QUANTUM` resolution, times a ratio, so
#: that sums and differences are exact whatever the caller's own decimal context.
ARITHMETIC = Context(prec=40)

#: A step between readings longer than this many expected intervals is a gap: a value
#: interpolated across it is an estimate. One lost poll is not yet a gap.
GAP_TOLERANCE = 2

How = Literal["reading", "event", "interpolated", "extrapolated", "none"]


def to_decimal(value: float) -> Decimal:
    """Return the shortest decimal that reads back as ``value``; refuse NaN and infinities."""
    if not math.isfinite(value):
        raise ValueError(f"a reading must be finite, not {value!r}")
    return Decimal(repr(value))


@dataclass(frozen=True, slots=True)
class CounterPoint:
    """A cumulative counter as the roll-up needs it.

    ``multiplier`` turns an advance of the stored value into the quantity (the CT/PT
    ratio where the collector stores secondary values, else 1), as in force at the start
    of the period asked for; `RatioChange` events change it from there on.
    """

    point_id: int
    unit: str
    multiplier: Decimal = Decimal(1)
    wrap_value: Decimal | None = None
    expected_interval: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if not self.multiplier > 0:
            raise ValueError(f"point {self.point_id}: multiplier must be positive")
        if self.wrap_value is not None and not self.wrap_value > 0:
            raise ValueError(f"point {self.point_id}: wrap_value must be positive")
        if self.expected_interval <= timedelta(0):
            raise ValueError(f"point {self.point_id}: expected_interval must be positive")

    @property
    def max_gap(self) -> timedelta:
        return self.expected_interval * GAP_TOLERANCE


@dataclass(frozen=True, slots=True)
class CounterEvidence:
    """All the readings and events one counter line rests on: a few, whatever the rate."""

    start: Bracket
    end: Bracket
    breaks: tuple[Break, ...] = ()
    events: tuple[MeterEvent, ...] = ()
    neighbours: tuple[Reading, ...] = ()  # the readings around each event

    def readings(self) -> tuple[Reading, ...]:
        """Every reading in the evidence, oldest first, each once."""
        found = {r.ts: r for r in (*self.start.readings(), *self.end.readings())}
        for brk in self.breaks:
            found.update({r.ts: r for r in (brk.previous, brk.reading) if r is not None})
        found.update({r.ts: r for r in self.neighbours})
        return tuple(found[ts] for ts in sorted(found))


class Role(IntEnum):
    """What a timeline point is; at one instant, events sort before readings."""

    FINAL = 0  # an old register's final value at a splice
    INITIAL = 1  # the new register's initial value
    RATIO = 2  # the stored value where the multiplier changes
    READING = 3
    BOUNDARY = 4  # a period boundary that falls between two timeline points


@dataclass(frozen=True, slots=True)
class Knot:
    """One point of the counter's timeline: an instant and the stored value there."""

    ts: datetime
    role: Role
    value: Decimal
    order: int = 0  # the event's position, for several events at one instant
    reading: Reading | None = None
    event: MeterEvent | None = None
    reset: bool = False  # a reading flagged COUNTER_RESET: do not difference across it
    estimated: bool = False  # the value rests on a gap or an extrapolation

    @property
    def key(self) -> tuple[datetime, int, int, int]:
        at_event = 0 if self.role < Role.READING else 1
        return (self.ts, at_event, self.order, self.role)


def final_below(prev: Knot, knot: Knot) -> bool:
    """Whether ``knot`` is a replacement's final reading noted below the reading before it."""
    return knot.role is Role.FINAL and knot.value < prev.value


def step(prev: Knot, knot: Knot, wrap: Decimal | None) -> Decimal | None:
    """Return how far the register advanced from ``prev`` to ``knot``; None if unknown.

    A final reading below the reading before it advances nothing (see `final_below`).
    A fall is one wrap when there is a wrap value (the validator has judged it plausible,
    and no step here spans another break). A reset reading right after another reading
    has no delta: collector/validation.py books nothing across COUNTER_RESET.
    """
    if knot.role is Role.INITIAL:
        return Decimal(0)  # the swap itself: the old register ended, the new one starts
    if final_below(prev, knot):
        # A final reading noted below the register's last reading (read off a display
        # with fewer digits, or the true value against a float32 register): it is the
        # note that is imprecise, not the meter that ran back or wrapped in minutes.
        return Decimal(0)
    if knot.reset and prev.role is Role.READING:
        return None
    delta = knot.value - prev.value
    if delta >= 0:
        return delta
    return None if wrap is None else delta + wrap


def span_us(later: datetime, earlier: datetime) -> int:
    """Microseconds between two aware instants; exact, unlike float seconds."""
    return (later - earlier) // timedelta(microseconds=1)


def interpolate(prev: Knot, nxt: Knot, at: datetime, wrap: Decimal | None) -> Decimal | None:
    """Return the stored value at ``at`` on the line from ``prev`` to ``nxt``, or None.

    None when the step between them has no delta (a reset without an event). A value past
    the wrap value is folded back, so the wrap falls on the side of ``at`` it happened.
    """
    advance = step(prev, nxt, wrap)
    if advance is None:
        return None
    whole = span_us(nxt.ts, prev.ts)
    if not whole:
        return nxt.value  # two points at one instant: ``at`` is that instant
    share = Decimal(span_us(at, prev.ts)) / Decimal(whole)
    value = (prev.value + advance * share).quantize(QUANTUM)
    return value - wrap if wrap is not None and value >= wrap else value


def build_timeline(evidence: CounterEvidence, point: CounterPoint) -> list[Knot]:
    """Order the evidence into knots: readings, splice ends and ratio changes."""
    resets = {b.reading.ts for b in evidence.breaks if b.kind == "reset"}
    readings = [
        Knot(r.ts, Role.READING, to_decimal(r.value), reading=r, reset=r.ts in resets)
        for r in evidence.readings()
    ]
    knots = list(readings)
    for order, event in enumerate(evidence.events):
        if isinstance(event, Splice):
            knots += _splice_knots(event, order, readings)
    knots.sort(key=lambda k: k.key)
    ratios = [
        _ratio_knot(event, order, knots, point)
        for order, event in enumerate(evidence.events)
        if isinstance(event, RatioChange)
    ]
    return sorted(knots + ratios, key=lambda k: k.key)


def _splice_knots(event: Splice, order: int, readings: Sequence[Knot]) -> list[Knot]:
    """The old register's final and the new one's initial value, from the readings if unset."""
    before = [k for k in readings if k.ts < event.ts]
    after = [k for k in readings if k.ts >= event.ts]
    final = _recorded(event.final_value, before[-1] if before else None)
    initial = _recorded(event.initial_value, after[0] if after else None)
    return [
        Knot(event.ts, Role.FINAL, final, order, event=event),
        Knot(event.ts, Role.INITIAL, initial, order, event=event),
    ]


def _recorded(value: float | None, fallback: Knot | None) -> Decimal:
    if value is not None:
        return to_decimal(value)
    return fallback.value if fallback is not None else Decimal(0)


def _ratio_knot(event: RatioChange, order: int, knots: list[Knot], point: CounterPoint) -> Knot:
    """The stored value at a ratio change: as read, else interpolated between its neighbours."""
    probe = Knot(event.ts, Role.RATIO, Decimal(0), order, event=event)
    pos = bisect_left([k.key for k in knots], probe.key)
    prev = knots[pos - 1] if pos > 0 else None
    nxt = knots[pos] if pos < len(knots) else None
    if event.value is not None:
        return replace(probe, value=to_decimal(event.value))
    if prev is not None and nxt is not None:
        value = interpolate(prev, nxt, event.ts, point.wrap_value)
        if value is not None:
            gap = nxt.ts - prev.ts > point.max_gap
            return replace(probe, value=value, estimated=gap)
    near = nxt if prev is None else prev
    return replace(probe, value=near.value if near else Decimal(0), estimated=True)


def last_at_or_before(knots: Sequence[Knot], at: datetime) -> int:
    """Index of the last knot with ``ts <= at`` (-1 if none)."""
    return bisect_right([k.ts for k in knots], at) - 1


def first_at_or_after(knots: Sequence[Knot], at: datetime) -> int:
    """Index of the first knot with ``ts >= at`` (``len(knots)`` if none)."""
    return bisect_left([k.ts for k in knots], at)
