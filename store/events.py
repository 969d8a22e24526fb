"""Meter events: replacements, resets, ratio changes and manual readings."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg_pool import AsyncConnectionPool

from meterledger.errors import StoreError

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
