"""Activity lines: one point's consumption over one period, with its evidence.

This is where the ledger meets the store, through `ledger.ports`. For a counter it asks
for the readings around both boundaries, then for the few breaks and meter events between
them and the readings around each event, then for the coverage: a fixed handful of small
queries per point and period, whatever the reading rate. The arithmetic is the pure
`ledger.consumption.count`, so `counter_line` recomputes a line from its own evidence with
no database at all.

A gauge is integrated only where the quantity has no counter (`roll_up` decides), and the
line says so: method ``gauge-integration`` and a ``GAUGE_INTEGRATED`` finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, localcontext

from ledger.consumption import BLOCKING, CounterCount, count
from ledger.counters import ARITHMETIC, CounterEvidence, CounterPoint
from ledger.findings import Finding
from ledger.gauges import bucket_coverage, bucket_samples, trapezoid
from ledger.periods import Interval
from ledger.ports import BucketMean, CounterSource, Coverage, GaugeSeries, Reading, RollupSource

COUNTER_BOUNDARY = "counter-boundary"
COUNTER_INTERPOLATED = "counter-boundary with interpolation"
COUNTER_EXTRAPOLATED = "counter-boundary with extrapolation"
GAUGE_INTEGRATION = "gauge-integration"
NO_DATA = "no-data"

_SOURCE = "ledger.rollup"


@dataclass(frozen=True, slots=True)
class GaugePoint:
    """A rate (kW, Nm³/h) to integrate into ``unit`` (kWh, Nm³): value x ``per`` is ``unit``."""

    point_id: int
    unit: str
    multiplier: Decimal = Decimal(1)
    per: timedelta = timedelta(hours=1)
    bucket: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if not self.multiplier > 0 or self.per <= timedelta(0) or self.bucket <= timedelta(0):
            raise ValueError(f"point {self.point_id}: multiplier, per and bucket must be positive")


@dataclass(frozen=True, slots=True)
class GaugeTrace:
    """What a gauge line was integrated from: the bucket means, as the store gave them."""

    bucket: timedelta
    multiplier: Decimal
    buckets: tuple[BucketMean, ...]


@dataclass(frozen=True, slots=True)
class ActivityLine:
    """One point over one period: the quantity, how it was found, and how well it is backed.

    ``coverage`` is the share of the period backed by real readings; ``estimated_share``
    the share of the quantity that rests on interpolation across gaps or extrapolation.
    Both are unrounded. ``trace`` is the evidence: for a counter the boundary values with
    the readings they rest on, the segments, and every correction applied.
    """

    point_id: int
    interval: Interval
    quantity: Decimal
    unit: str
    method: str
    coverage: Decimal
    longest_gap: timedelta
    estimated_share: Decimal
    trace: CounterCount | GaugeTrace
    findings: tuple[Finding, ...]

    @property
    def blocking(self) -> tuple[Finding, ...]:
        """The findings that must stop the period from closing."""
        return tuple(f for f in self.findings if f.code in BLOCKING)


async def gather_evidence(
    source: CounterSource, point: CounterPoint, interval: Interval
) -> CounterEvidence:
    """Fetch what the counter rule needs for one interval: a few rows, whatever the rate."""
    pid = point.point_id
    start = await source.around(pid, interval.start)
    end = await source.around(pid, interval.end)
    found = [*start.readings(), *end.readings()]
    if not found:
        return CounterEvidence(start, end)
    first, last = min(r.ts for r in found), max(r.ts for r in found)
    breaks = tuple(await source.breaks(pid, first, last))
    # Events before the first reading of a period with no reading before it still count.
    events = tuple(await source.between(pid, min(first, interval.start), max(last, interval.end)))
    neighbours: list[Reading] = []
    for event in events:
        neighbours += (await source.around(pid, event.ts)).readings()
    return CounterEvidence(start, end, breaks, events, tuple(neighbours))


def counter_line(
    point: CounterPoint, interval: Interval, evidence: CounterEvidence, coverage: Coverage
) -> ActivityLine:
    """Compute a counter's line from its evidence; pure, so an auditor can rerun it."""
    counted = count(point, interval, evidence)
    return ActivityLine(
        point.point_id,
        interval,
        counted.quantity,
        point.unit,
        _counter_method(counted),
        _share(coverage.covered, interval.duration),
        coverage.longest_gap,
        counted.estimated_share,
        counted,
        counted.findings,
    )


async def roll_up_counter(
    source: CounterSource, point: CounterPoint, interval: Interval
) -> ActivityLine:
    """Return a counter's consumption over ``interval`` as an activity line."""
    evidence = await gather_evidence(source, point, interval)
    coverage = await source.coverage(point.point_id, interval, point.expected_interval)
    return counter_line(point, interval, evidence, coverage)


def gauge_line(
    point: GaugePoint, interval: Interval, buckets: tuple[BucketMean, ...]
) -> ActivityLine:
    """Integrate a gauge's bucket means over ``interval``; pure."""
    integral = trapezoid(
        bucket_samples(buckets, point.bucket), interval, max_gap=point.bucket, per=point.per
    )
    with localcontext(ARITHMETIC):
        quantity = point.multiplier * integral.total
    coverage = bucket_coverage(buckets, interval, point.bucket)
    subject = f"point {point.point_id}"
    findings = [
        Finding(
            "GAUGE_INTEGRATED",
            subject,
            f"no counter for this quantity: integrated from {len(buckets)} means of "
            f"{point.bucket} by the trapezoid rule",
            _SOURCE,
        )
    ]
    if not buckets:
        detail = f"no accepted reading from {interval.start} to {interval.end}; booked as zero"
        findings.append(Finding("NO_READINGS", subject, detail, _SOURCE))
    estimated = Decimal(1) if not buckets else _share_of(integral.estimated, integral.total)
    return ActivityLine(
        point.point_id,
        interval,
        quantity,
        point.unit,
        GAUGE_INTEGRATION if buckets else NO_DATA,
        _share(coverage.covered, interval.duration),
        coverage.longest_gap,
        estimated,
        GaugeTrace(point.bucket, point.multiplier, buckets),
        tuple(findings),
    )


async def roll_up_gauge(source: GaugeSeries, point: GaugePoint, interval: Interval) -> ActivityLine:
    """Return a gauge's integral over ``interval`` as an activity line."""
    buckets = tuple(await source.bucket_means(point.point_id, interval, point.bucket))
    return gauge_line(point, interval, buckets)


async def roll_up(
    source: RollupSource,
    interval: Interval,
    *,
    counter: CounterPoint | None = None,
    gauge: GaugePoint | None = None,
) -> ActivityLine:
    """Roll up one quantity of a meter from its counter, or from its gauge if it has none.

    Raise ValueError when given neither.
    """
    if counter is not None:
        return await roll_up_counter(source, counter, interval)
    if gauge is not None:
        return await roll_up_gauge(source, gauge, interval)
    raise ValueError("roll_up needs a counter or a gauge point")


def _counter_method(counted: CounterCount) -> str:
    hows = {counted.start.how, counted.end.how}
    if "none" in hows:
        return NO_DATA
    if "extrapolated" in hows:
        return COUNTER_EXTRAPOLATED
    if "interpolated" in hows:
        return COUNTER_INTERPOLATED
    return COUNTER_BOUNDARY


def _share(part: timedelta, whole: timedelta) -> Decimal:
    step = timedelta(microseconds=1)
    return _share_of(Decimal(part // step), Decimal(whole // step))


def _share_of(part: Decimal, whole: Decimal) -> Decimal:
    return min(Decimal(1), part / whole) if whole else Decimal(0)
