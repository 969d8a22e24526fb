"""Validators for the collector's sources, primed from what the store remembers and kept
up to date with the meter events recorded while they run.

A restarted collector judges its first readings against each point's last accepted one
and knows of replacements and resets recorded while it was away (collector/validation.py).
One recorded while it runs (through the API, the CLI or a simulated swap) is found by
`follow_meter_events`, which polls the store: events are rare, the query is a look-up of
a handful of rows, and polling needs no trigger, no extra connection held open and no
reconnect logic, and catches up by itself after a database outage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg_pool import AsyncConnectionPool

from collector.metrics import CollectorMetrics
from collector.validation import PointRules, Validator
from meterledger.config import PlantConfig
from meterledger.errors import StoreError
from store.catalog import PointConfig
from store.events import counter_discontinuities
from store.quality import REJECTED
from store.readings import baselines

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class History:
    """What the store remembers that the validators need after a restart."""

    baselines: dict[int, tuple[datetime, float]]
    discontinuities: list[tuple[int, datetime]]


async def history(pool: AsyncConnectionPool) -> History:
    """Read the baselines and pending meter events of every point."""
    return History(await baselines(pool, REJECTED), await counter_discontinuities(pool))


def validator(
    config: PlantConfig, points: Mapping[int, PointConfig], remembered: History
) -> Validator:
    """A validator over ``points``, primed with their last good readings and meter events.

    An event older than a point's last good reading is history: the validator drops it.
    """
    limits = config.collector
    judged = {pid: rules(p, limits.max_future, limits.max_age) for pid, p in points.items()}
    primed = Validator(judged)
    for point_id in points:
        if point_id in remembered.baselines:
            primed.seed(point_id, *remembered.baselines[point_id])
    for point_id, ts in remembered.discontinuities:
        if point_id in points:
            primed.note_reset(point_id, ts)
    return primed


def rules(point: PointConfig, max_future: float, max_age: float) -> PointRules:
    """A point's rules from its plant-file entry and the collector's timestamp limits."""
    return PointRules(
        kind=point.kind,
        wrap_value=point.wrap,
        min_value=point.min,
        max_value=point.max,
        max_rate=point.max_rate,
        resolution=point.resolution,
        stuck_after=point.stuck_after,
        settle_after=point.settle_after,
        max_future=timedelta(seconds=max_future),
        max_age=timedelta(seconds=max_age),
    )


async def follow_meter_events(
    pool: AsyncConnectionPool,
    validators: Sequence[Validator],
    known: Iterable[tuple[int, datetime]],
    metrics: CollectorMetrics,
    *,
    interval: float,
) -> None:
    """Every ``interval`` s, note the replacements and resets not yet ``known``; until cancelled.

    ``known`` is what the validators were primed with. Each new (counter, instant) goes to
    the validators that judge that counter; the next fall or jump there is COUNTER_RESET.
    """
    seen = set(known)
    while True:
        await asyncio.sleep(interval)
        try:
            found = await counter_discontinuities(pool)
        except StoreError as exc:  # the writer reports the outage; look again next time
            log.debug("meter events not read: %s", exc)
            continue
        for point_id, ts in found:
            if (point_id, ts) not in seen:
                seen.add((point_id, ts))
                _note(validators, point_id, ts, metrics)


def _note(
    validators: Sequence[Validator], point_id: int, ts: datetime, metrics: CollectorMetrics
) -> None:
    judging = [v for v in validators if point_id in v]
    for judge in judging:
        judge.note_reset(point_id, ts)
    if judging:
        metrics.meter_events.inc()
        log.info("meter event: counter of point %d restarts at %s", point_id, ts.isoformat())
