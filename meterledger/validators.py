"""Validators for the collector's sources, primed from what the store remembers.

A restarted collector judges its first readings against each point's last accepted one
and knows of replacements and resets recorded while it was away (collector/validation.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg_pool import AsyncConnectionPool

from collector.validation import PointRules, Validator
from meterledger.config import PlantConfig
from store.catalog import PointConfig
from store.events import counter_discontinuities
from store.quality import REJECTED
from store.readings import baselines


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
    """A validator over ``points``, primed with their last good readings and meter events."""
    limits = config.collector
    judged = {pid: rules(p, limits.max_future, limits.max_age) for pid, p in points.items()}
    primed = Validator(judged)
    for point_id in points:
        if point_id in remembered.baselines:
            primed.seed(point_id, *remembered.baselines[point_id])
    for point_id, ts in remembered.discontinuities:
        seeded = remembered.baselines.get(point_id)
        if point_id in points and (seeded is None or ts > seeded[0]):
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
