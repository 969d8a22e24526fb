"""Properties of the counter roll-up against a counter whose true consumption is known.

The generated meter consumes at a steady rate between readings (so straight-line
interpolation is the truth), wraps at a wrap value, and is replaced once, between two
readings, with its final and the new meter's initial register recorded in an event.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.counters import CounterPoint
from ledger.memory import MemorySource, QualityBits
from ledger.periods import Interval, Month, Period
from ledger.ports import Reading, Splice
from ledger.rollup import roll_up_counter
from store.quality import REJECTED, Quality

BITS = QualityBits(int(REJECTED), int(Quality.COUNTER_WRAP), int(Quality.COUNTER_RESET))
WRAP = Decimal(10_000)
T0 = datetime(2026, 1, 20, tzinfo=UTC)
ZONE = "Europe/Berlin"


@dataclass(frozen=True)
class Meter:
    source: MemorySource
    point: CounterPoint
    knots: list[tuple[datetime, Decimal]]  # the true cumulative consumption, line between

    def truth(self, at: datetime) -> Decimal:
        """The true consumption from the first reading to ``at``, times the multiplier."""
        with localcontext(prec=60):
            for (t_a, e_a), (t_b, e_b) in zip(self.knots, self.knots[1:], strict=False):
                if t_a <= at <= t_b:
                    share = Decimal((at - t_a) / timedelta(microseconds=1))
                    whole = Decimal((t_b - t_a) / timedelta(microseconds=1))
                    return self.point.multiplier * (e_a + (e_b - e_a) * share / whole)
        raise AssertionError(f"{at} is outside the readings")

    @property
    def span(self) -> tuple[datetime, datetime]:
        return self.knots[0][0], self.knots[-1][0]


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n) / 100)


@st.composite
def meters(draw: st.DrawFn) -> Meter:
    n = draw(st.integers(6, 40))
    gaps = draw(st.lists(st.integers(2, 6000), min_size=n - 1, max_size=n - 1))  # minutes
    used = draw(st.lists(cents(0, 99_999), min_size=n - 1, max_size=n - 1))  # < WRAP
    base, initial = draw(cents(0, 999_999)), draw(cents(0, 999_999))
    swap = draw(st.integers(1, n - 1))  # between readings swap - 1 and swap
    part = draw(st.sampled_from([Decimal(0), Decimal("0.25"), Decimal("0.5"), Decimal(1)]))
    multiplier = draw(st.sampled_from([Decimal(1), Decimal(40)]))

    times, energy = [T0], [Decimal(0)]
    for gap, amount in zip(gaps, used, strict=True):
        times.append(times[-1] + timedelta(minutes=gap))
        energy.append(energy[-1] + amount)
    swap_ts = times[swap - 1] + (times[swap] - times[swap - 1]) / 2
    swap_energy = energy[swap - 1] + used[swap - 1] * part

    def register(i: int) -> Decimal:
        if i < swap:
            return (base + energy[i]) % WRAP
        return (initial + energy[i] - swap_energy) % WRAP

    rows = []
    for i, ts in enumerate(times):
        fell = i > 0 and register(i) < register(i - 1)
        quality = 0 if not fell else Quality.COUNTER_RESET if i == swap else Quality.COUNTER_WRAP
        rows.append(Reading(ts, float(register(i)), int(quality)))
    event = Splice(1, swap_ts, "replacement", float((base + swap_energy) % WRAP), float(initial))
    knots = sorted([*zip(times, energy, strict=True), (swap_ts, swap_energy)])
    point = CounterPoint(1, "kWh", multiplier, WRAP, timedelta(minutes=15))
    return Meter(MemorySource(BITS, {1: rows}, {1: [event]}), point, knots)


@st.composite
def meters_and_spans(draw: st.DrawFn) -> tuple[Meter, Interval]:
    meter = draw(meters())
    first, last = meter.span
    minutes = int((last - first) / timedelta(minutes=1))
    a = draw(st.integers(1, minutes - 1))
    b = draw(st.integers(a + 1, minutes))
    return meter, Interval(first + timedelta(minutes=a), first + timedelta(minutes=b))


def quantity(meter: Meter, interval: Interval) -> Decimal:
    line = asyncio.run(roll_up_counter(meter.source, meter.point, interval))
    return line.quantity


def month_cuts(interval: Interval) -> list[Interval]:
    """Cut an interval at every local month boundary inside it."""
    local = interval.start.astimezone(ZoneInfo(ZONE))
    edges = [interval.start]
    period = Period(ZONE, Month(local.year, local.month))
    while period.interval.end < interval.end:
        if period.interval.end > interval.start:
            edges.append(period.interval.end)
        period = period.next()
    edges.append(interval.end)
    return [Interval(a, b) for a, b in pairwise(edges)]


def close(got: Decimal, want: Decimal, meter: Meter) -> bool:
    """Equal but for the 1e-9 rounding of an interpolated value at each end."""
    return abs(got - want) <= 2 * meter.point.multiplier * Decimal("1e-9")


@settings(max_examples=150, deadline=None)
@given(meters_and_spans())
def test_consecutive_months_sum_to_the_true_consumption(case: tuple[Meter, Interval]) -> None:
    meter, interval = case
    whole = quantity(meter, interval)
    assert close(whole, meter.truth(interval.end) - meter.truth(interval.start), meter)
    months = [quantity(meter, piece) for piece in month_cuts(interval)]
    assert sum(months, Decimal(0)) == whole
    for piece, got in zip(month_cuts(interval), months, strict=True):
        assert close(got, meter.truth(piece.end) - meter.truth(piece.start), meter)


@settings(max_examples=150, deadline=None)
@given(meters_and_spans(), st.floats(0.0, 1.0, exclude_min=True, exclude_max=True))
def test_two_halves_add_up_to_the_whole(case: tuple[Meter, Interval], where: float) -> None:
    meter, interval = case
    cut = interval.start + (interval.end - interval.start) * where
    if not interval.start < cut < interval.end:
        return
    left, right = interval.split(cut)
    assert quantity(meter, left) + quantity(meter, right) == quantity(meter, interval)
