"""Integrating a gauge (kW, Nm³/h, t/h) over a period, for points with no counter.

A counter is always preferred (`ledger.rollup` picks it): integrating samples loses every
excursion between them and every gap, where a counter loses nothing. Where a meter only
reports a rate, the integral is the area under the straight lines through the samples:
the trapezoid rule, exact for a rate that changes linearly between samples.

The store hands over bucket means (say 15-minute averages), not raw readings, so a month
costs a few thousand rows whatever the poll rate; each mean stands at its bucket's
midpoint. With every bucket present, trapezoids through the midpoints, held flat over the
half-buckets at the edges, add up to exactly ``sum(mean x bucket)``. Across missing buckets
the line bridges the gap, and that bridge is the estimated part of the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from itertools import pairwise

from ledger.counters import ARITHMETIC, to_decimal
from ledger.periods import Interval
from ledger.ports import BucketMean, Coverage

_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Sample:
    """A gauge value at an instant, already in Decimal."""

    ts: datetime
    value: Decimal


@dataclass(frozen=True, slots=True)
class Integral:
    """An area in value x ``per`` units, and the part of it bridging gaps or edges."""

    total: Decimal
    estimated: Decimal


def trapezoid(
    samples: Sequence[Sample], interval: Interval, *, max_gap: timedelta, per: timedelta
) -> Integral:
    """Integrate the line through ``samples`` over ``interval``, in value x ``per``.

    Samples must be in time order. Before the first and after the last sample the value
    is held flat. Each sample vouches for ``max_gap / 2`` on either side of it; whatever
    stretch of a step or an edge lies beyond that is estimated. No samples: zero.
    """
    with localcontext(ARITHMETIC):
        return _integrate(samples, interval, max_gap, per)


def _integrate(
    samples: Sequence[Sample], interval: Interval, max_gap: timedelta, per: timedelta
) -> Integral:
    inside = [s for s in samples if s.ts in interval]
    if not inside:
        return Integral(Decimal(0), Decimal(0))
    before = [s for s in samples if s.ts < interval.start][-1:]
    after = [s for s in samples if s.ts >= interval.end][:1]
    total = estimated = Decimal(0)
    for a, b in pairwise([*before, *inside, *after]):
        area = _clipped_area(a, b, interval)
        total += area
        estimated += area * _unvouched(b.ts - a.ts, max_gap)
    edges = [(inside[0], inside[0].ts - interval.start)] if not before else []
    edges += [(inside[-1], interval.end - inside[-1].ts)] if not after else []
    for held, stretch in edges:
        area = held.value * _ratio(stretch, _HOUR)
        total += area
        estimated += area * _unvouched(2 * stretch, max_gap)
    per_hour = _ratio(_HOUR, per)  # value x hours into value x per
    return Integral(total * per_hour, estimated * per_hour)


def _unvouched(span: timedelta, max_gap: timedelta) -> Decimal:
    """The share of a step of length ``span`` that its two samples do not vouch for."""
    return 1 - _ratio(max_gap, span) if span > max_gap else Decimal(0)


def _clipped_area(a: Sample, b: Sample, interval: Interval) -> Decimal:
    """The area, in value x hours, of the line from ``a`` to ``b`` inside the interval."""
    lo, hi = max(a.ts, interval.start), min(b.ts, interval.end)
    if hi <= lo:
        return Decimal(0)
    return (_at(a, b, lo) + _at(a, b, hi)) / 2 * _ratio(hi - lo, _HOUR)


def _at(a: Sample, b: Sample, ts: datetime) -> Decimal:
    return a.value + (b.value - a.value) * _ratio(ts - a.ts, b.ts - a.ts)


def _ratio(num: timedelta, den: timedelta) -> Decimal:
    """An exact ratio of two durations, counted in microseconds."""
    step = timedelta(microseconds=1)
    return Decimal(num // step) / Decimal(den // step)


def bucket_samples(buckets: Sequence[BucketMean], bucket: timedelta) -> list[Sample]:
    """Stand each bucket's mean at the bucket's midpoint, converted as counters are."""
    return [Sample(b.start + bucket / 2, to_decimal(b.mean)) for b in buckets]


def bucket_coverage(
    buckets: Sequence[BucketMean], interval: Interval, bucket: timedelta
) -> Coverage:
    """Coverage of the interval by the buckets that hold readings, as the store defines it."""
    covered = timedelta(0)
    longest = timedelta(0)
    edge = interval.start
    for b in buckets:
        longest = max(longest, b.start - edge)
        edge = min(b.start + bucket, interval.end)
        covered += edge - b.start
    return Coverage(covered, max(longest, interval.end - edge))
