"""The series' shortcut for plain buckets states exactly what the ledger's roll-up states."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from api import counter_series
from api.buckets import window
from api.counter_series import consumption
from ledger.counters import CounterPoint
from ledger.memory import MemorySource, QualityBits
from ledger.ports import Reading, Splice
from store.quality import REJECTED, Quality
from store.series import Edge, PrefetchedCounterSource

BITS = QualityBits(int(REJECTED), int(Quality.COUNTER_WRAP), int(Quality.COUNTER_RESET))
START = datetime(2026, 3, 27, tzinfo=UTC)
WRAP = 5000.0


def messy_counter(seed: int) -> tuple[list[Reading], list[Splice]]:
    """Four days of a 1-minute counter: jitter, gaps, wraps, a glitch, a reset, a swap."""
    rng = random.Random(seed)
    rows, value, ts = [], 4000.0, START
    swap = START + timedelta(days=2, hours=5, minutes=7, seconds=30)
    splices = [Splice(1, swap, "replacement", None, 3.0)]
    swapped = False
    while ts < START + timedelta(days=4):
        ts += timedelta(seconds=rng.choice((60,) * 40 + (59, 61, 300, 3000)))
        value += rng.uniform(0, 2.5)
        quality = 0
        if value >= WRAP:
            value -= WRAP
            quality = int(Quality.COUNTER_WRAP)
        if ts >= swap and not swapped:
            swapped, value = True, 3.0 + rng.uniform(0, 1)
        if rng.random() < 0.002:
            rows.append(Reading(ts, 0.0, int(Quality.GLITCH)))
            continue
        if rng.random() < 0.001:
            value, quality = 10.0, int(Quality.COUNTER_RESET)
        rows.append(Reading(ts, round(value, 3), quality))
    return rows, splices


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("resolution", ["15m", "1h", "1d"])
async def test_shortcut_and_ledger_agree_on_every_bucket(
    seed: int, resolution: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    verdicts: list[bool] = []
    judge = counter_series._plain

    def spy(*args: Any) -> bool:
        verdicts.append(judge(*args))
        return verdicts[-1]

    monkeypatch.setattr(counter_series, "_plain", spy)
    rows, splices = messy_counter(seed)
    memory = MemorySource(BITS, {7: rows}, {7: splices})
    point = CounterPoint(
        7, "kWh", wrap_value=Decimal(repr(WRAP)), expected_interval=timedelta(minutes=1)
    )
    page = window(
        resolution,
        "Europe/Berlin",
        START - timedelta(hours=2),
        START + timedelta(days=4, hours=3),
        5000,
    )  # type: ignore[arg-type]
    edges = {b: Edge.of(await memory.around(7, b)) for b in page.bounds}
    breaks = list(await memory.breaks(7, START - timedelta(days=1), START + timedelta(days=5)))
    events = list(await memory.between(7, START - timedelta(days=1), START + timedelta(days=5)))
    source = PrefetchedCounterSource(memory, edges, breaks, events, {})

    fast = await consumption(point, page.bounds, source, edges, breaks, events)
    slow = await consumption(point, page.bounds, source, edges, breaks, events, shortcut=False)

    assert fast == slow
    # Both ways were taken (a day of this counter always holds a break or an event).
    assert sum(verdicts) < len(verdicts)
    assert sum(verdicts) > 0 or resolution == "1d"
    assert any(c.corrections for c in slow)  # the series did exercise the corrections
    assert sum((c.quantity for c in fast), Decimal(0)) > 0
