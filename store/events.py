"""Meter events: replacements, resets, ratio changes and manual readings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from meterledger.errors import StoreError
from store.transaction import Connections

EventKind = Literal["replacement", "reset", "ratio_change", "manual_reading"]

_DISCONTINUITIES = """
SELECT p.id, e.ts FROM meter_event e
JOIN point p ON p.meter_id = e.meter_id AND (e.point_id IS NULL OR e.point_id = p.id)
WHERE e.kind IN ('replacement', 'reset') AND p.kind = 'counter'
ORDER BY e.ts"""


async def counter_discontinuities(pool: AsyncConnectionPool) -> list[tuple[int, datetime]]:
    """(point id, instant) of every replacement or reset, expanded to the counters it hits."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(_DISCONTINUITIES)
            return [(point, ts) for point, ts in await cur.fetchall()]
    except psycopg.Error as exc:
        raise StoreError(f"reading meter events: {exc}") from exc


@dataclass(frozen=True, slots=True)
class MeterEvent:
    """Something that happened to a meter that its readings alone cannot tell.

    A replacement or reset carries the old counter's final reading and the new one's
    initial reading; a ratio change carries the old and new multipliers. ``point`` None
    means every counter of the meter.
    """

    site: str
    meter: str
    ts: datetime
    kind: EventKind
    point: str | None = None
    old_value: float | None = None
    new_value: float | None = None
    detail: Mapping[str, object] = field(default_factory=dict)
    recorded_by: str | None = None


_RECORD = """
INSERT INTO meter_event (meter_id, point_id, ts, kind, old_value, new_value, detail, recorded_by)
SELECT m.id, p.id, %(ts)s, %(kind)s, %(old)s, %(new)s, %(detail)s, %(by)s
FROM meter m JOIN site s ON s.id = m.site_id
LEFT JOIN point p ON p.meter_id = m.id AND p.key = %(point)s
WHERE s.key = %(site)s AND m.key = %(meter)s AND (%(point)s::text IS NULL OR p.id IS NOT NULL)
  AND NOT EXISTS (
      SELECT 1 FROM meter_event e
      WHERE e.meter_id = m.id AND e.point_id IS NOT DISTINCT FROM p.id
        AND e.ts = %(ts)s AND e.kind = %(kind)s)
RETURNING id"""

_KNOWN = """
SELECT 1 FROM meter m JOIN site s ON s.id = m.site_id
LEFT JOIN point p ON p.meter_id = m.id AND p.key = %(point)s
WHERE s.key = %(site)s AND m.key = %(meter)s AND (%(point)s::text IS NULL OR p.id IS NOT NULL)"""


async def record_event(pool: Connections, event: MeterEvent) -> bool:
    """Record ``event`` once; False when the same event (meter, point, instant, kind) exists.

    Raise StoreError naming the meter or point when the catalog has no such thing.
    """
    params = {
        "site": event.site,
        "meter": event.meter,
        "point": event.point,
        "ts": event.ts,
        "kind": event.kind,
        "old": event.old_value,
        "new": event.new_value,
        "detail": Jsonb(dict(event.detail)),
        "by": event.recorded_by,
    }
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(_RECORD, params)
            if await cur.fetchone() is not None:
                return True
            cur = await conn.execute(_KNOWN, params)
            if await cur.fetchone() is None:
                where = f"{event.site}/{event.meter}" + (f"/{event.point}" if event.point else "")
                raise StoreError(f"meter event for {where}: no such meter or point in the catalog")
            return False
    except psycopg.Error as exc:
        raise StoreError(f"recording a {event.kind} of {event.meter}: {exc}") from exc
