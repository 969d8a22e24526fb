"""Walk a counter's timeline over ``[t0, t1)`` into segments, corrections and findings.

`count` is pure: give it the same `CounterEvidence` and it gives the same quantity to the
last digit, which is how an auditor recomputes a line from what it carries. It values
both boundaries (`boundaries`), then walks the timeline between them, adding each step's
advance to the current segment; a splice, a ratio change or a step with no delta closes
the segment and opens the next. The quantity is the sum of ``multiplier x advance``.

The *estimated* part of the quantity is the advance of steps that touch a value resting
on a gap or an extrapolation: the share of a boundary gap that falls inside the period,
the stretch before the first or after the last reading, a ratio change interpolated across
a gap. A gap strictly inside the period estimates nothing: the counter kept counting, and
its two ends are real readings (DESIGN.md: gaps lower the coverage, not the kWh).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext
from itertools import pairwise
from typing import Literal

from ledger.boundaries import BoundaryValue, end_value, start_value
from ledger.counters import (
    ARITHMETIC,
    CounterEvidence,
    CounterPoint,
    Knot,
    Role,
    build_timeline,
    final_below,
    step,
)
from ledger.findings import Finding
from ledger.periods import Interval
from ledger.ports import RatioChange, Reading, Splice

_SOURCE = "ledger.consumption"

#: Codes of findings that must stop a period from closing: the quantity is a placeholder
#: or the data contradict themselves. The others are warnings that travel with the line.
BLOCKING = frozenset({"NO_READINGS", "NO_READINGS_IN_PERIOD", "COUNTER_DECREASE"})

CorrectionKind = Literal[
    "wrap", "replacement", "reset", "ratio_change", "reset_without_event", "decrease"
]


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of the period on one register and one multiplier.

    ``quantity == multiplier * advance`` and ``advance == end_value - start_value +
    wraps * wrap_value`` (less any step that had no delta, shown as a correction).
    """

    start: datetime
    end: datetime
    start_value: Decimal
    end_value: Decimal
    multiplier: Decimal
    wraps: int
    advance: Decimal

    @property
    def quantity(self) -> Decimal:
        return self.multiplier * self.advance


@dataclass(frozen=True, slots=True)
class Correction:
    """One place where the counter was not simply differenced, and what was done there."""

    kind: CorrectionKind
    ts: datetime
    event_id: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class CounterCount:
    """A counter's consumption over an interval, with everything it was computed from."""

    interval: Interval
    quantity: Decimal
    estimated: Decimal
    start: BoundaryValue
    end: BoundaryValue
    segments: tuple[Segment, ...]
    corrections: tuple[Correction, ...]
    findings: tuple[Finding, ...]
    evidence: CounterEvidence  # what `count` was given: rerun it to check the line

    @property
    def readings(self) -> tuple[Reading, ...]:
        """Every reading the line rests on, oldest first."""
        return self.evidence.readings()

    @property
    def estimated_share(self) -> Decimal:
        """The share of the quantity resting on estimates; 1 when there was nothing to go on."""
        if self.start.how == "none":
            return Decimal(1)
        if not self.estimated or not self.quantity:
            return Decimal(0)
        return self.estimated / self.quantity


def count(point: CounterPoint, interval: Interval, evidence: CounterEvidence) -> CounterCount:
    """Return the point's consumption over ``interval``, computed from the evidence alone.

    The quantity is in the point's unit (stored units x multiplier). It is zero, with a
    blocking NO_READINGS finding, when no reading falls in the interval or brackets it.
    """
    with localcontext(ARITHMETIC):
        knots = build_timeline(evidence, point)
        readings = evidence.readings()
        bounds = _bounds(knots, point, interval)
        if bounds is None:
            return _nothing(point, interval, evidence)
        (first, start), (last, end) = bounds
        inner = [k for k in knots if interval.start < k.ts < interval.end]
        walk = _Walk(point)
        walk.run([first, *inner, last])
        findings = [*start.findings(point, "start"), *end.findings(point, "end"), *walk.findings]
        if not any(r.ts in interval for r in readings):
            findings.append(_no_readings(point, interval, "NO_READINGS_IN_PERIOD"))
        return CounterCount(
            interval,
            sum((s.quantity for s in walk.segments), Decimal(0)),
            walk.estimated,
            start,
            end,
            tuple(walk.segments),
            tuple(walk.corrections),
            tuple(findings),
            evidence,
        )


def _bounds(
    knots: list[Knot], point: CounterPoint, interval: Interval
) -> tuple[tuple[Knot, BoundaryValue], tuple[Knot, BoundaryValue]] | None:
    """Value both boundaries; None when the data cannot speak for the period at all."""
    if not any(k.role is Role.READING for k in knots):
        return None
    start = start_value(knots, interval.start, point)
    end = end_value(knots, interval.end, point)
    if start is None or end is None:
        return None
    inside = any(k.role is Role.READING and k.ts in interval for k in knots)
    if not inside and "extrapolated" in (start[1].how, end[1].how):
        return None  # readings on one side only: nothing to interpolate between
    return start, end


class _Walk:
    """The running state of one pass over the timeline; used once, by `count`."""

    def __init__(self, point: CounterPoint) -> None:
        self.point = point
        self.multiplier = point.multiplier
        self.segments: list[Segment] = []
        self.corrections: list[Correction] = []
        self.findings: list[Finding] = []
        self.estimated = Decimal(0)
        self._open: Knot | None = None
        self._advance = Decimal(0)
        self._wraps = 0

    def run(self, knots: list[Knot]) -> None:
        self._open = knots[0]
        for prev, knot in pairwise(knots):
            self._take(prev, knot)
        self._close(knots[-1])

    def _take(self, prev: Knot, knot: Knot) -> None:
        if knot.role is Role.INITIAL:
            self._splice(prev, knot)
            return
        advance = step(prev, knot, self.point.wrap_value)
        if final_below(prev, knot):
            self.findings.append(
                self._finding(
                    "SPLICE_FINAL_BELOW_READING",
                    f"the final reading {knot.value} noted at {knot.ts} is below the reading"
                    f" {prev.value} at {prev.ts}: the old register is taken to end there",
                )
            )
        if advance is None:
            self._no_delta(prev, knot)
            return
        if knot.value < prev.value and not final_below(prev, knot):
            self._wraps += 1
            text = f"{prev.value} -> {knot.value} across the wrap at {self.point.wrap_value}"
            self._correct("wrap", knot, None, text)
        self._advance += advance
        if prev.estimated or knot.estimated:
            self.estimated += self.multiplier * advance
        if knot.role is Role.RATIO and isinstance(knot.event, RatioChange):
            self._ratio(knot, knot.event)

    def _close(self, at: Knot) -> None:
        assert self._open is not None
        opened = self._open
        self.segments.append(
            Segment(
                opened.ts,
                at.ts,
                opened.value,
                at.value,
                self.multiplier,
                self._wraps,
                self._advance,
            )
        )
        self._advance, self._wraps = Decimal(0), 0

    def _reopen(self, at: Knot) -> None:
        self._open = at

    def _splice(self, final: Knot, initial: Knot) -> None:
        event = initial.event
        assert isinstance(event, Splice)
        self._close(final)
        self._reopen(initial)
        detail = f"old register final {final.value}, new register initial {initial.value}"
        self._correct(event.kind, initial, event.event_id, detail)
        if event.final_value is None or event.initial_value is None:
            self.findings.append(
                self._finding(
                    "SPLICE_VALUE_MISSING",
                    f"event {event.event_id} at {event.ts} lacks the old register's final "
                    "or the new one's initial value; the nearest reading stands in for it, "
                    "so the consumption between that reading and the swap is not counted",
                )
            )

    def _ratio(self, knot: Knot, event: RatioChange) -> None:
        if event.multiplier_before != self.multiplier:
            self.findings.append(
                self._finding(
                    "RATIO_MISMATCH",
                    f"event {event.event_id} at {event.ts} changes the multiplier from "
                    f"{event.multiplier_before}, but {self.multiplier} was in force",
                )
            )
        self._close(knot)
        self.multiplier = event.multiplier_after
        self._reopen(knot)
        detail = f"multiplier {event.multiplier_before} -> {event.multiplier_after} at {knot.value}"
        self._correct("ratio_change", knot, event.event_id, detail)

    def _no_delta(self, prev: Knot, knot: Knot) -> None:
        """End the segment at ``prev`` and restart at ``knot``: the step between is unknown."""
        self._close(prev)
        self._reopen(knot)
        gone = f"from {prev.ts} ({prev.value}) to {knot.ts} ({knot.value}) is not counted"
        if knot.reset:
            self._correct("reset_without_event", knot, None, gone)
            code = "RESET_WITHOUT_EVENT"
            text = f"a COUNTER_RESET reading with no meter event: the consumption {gone}"
        else:
            self._correct("decrease", knot, None, gone)
            code = "COUNTER_DECREASE"
            text = f"the counter fell and has no wrap value: the consumption {gone}"
        self.findings.append(self._finding(code, text))

    def _correct(self, kind: CorrectionKind, knot: Knot, event_id: int | None, text: str) -> None:
        self.corrections.append(Correction(kind, knot.ts, event_id, text))

    def _finding(self, code: str, detail: str) -> Finding:
        return Finding(code, f"point {self.point.point_id}", detail, _SOURCE)


def _no_readings(point: CounterPoint, interval: Interval, code: str) -> Finding:
    detail = f"no accepted reading from {interval.start} to {interval.end}; " + (
        "the value is interpolated across the whole period"
        if code == "NO_READINGS_IN_PERIOD"
        else "booked as zero"
    )
    return Finding(code, f"point {point.point_id}", detail, _SOURCE)


def _nothing(point: CounterPoint, interval: Interval, evidence: CounterEvidence) -> CounterCount:
    """Zero, covered by nothing: the period cannot be valued from this point's data."""
    start = BoundaryValue(interval.start, Decimal(0), "none", (), None, True)
    end = BoundaryValue(interval.end, Decimal(0), "none", (), None, True)
    finding = _no_readings(point, interval, "NO_READINGS")
    return CounterCount(interval, Decimal(0), Decimal(0), start, end, (), (), (finding,), evidence)
