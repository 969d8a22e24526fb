"""Readings in and out: idempotent batched writes with COPY, and the latest value per point.

A batch is copied into a session-local staging table and moved with ``INSERT ... ON
CONFLICT DO NOTHING`` in the same transaction, so a re-delivered reading (the same point
and instant) is a no-op and a failed batch leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import psycopg
from psycopg_pool import AsyncConnectionPool

from meterledger.errors import StoreError
from store.quality import REJECTED


class Reading(NamedTuple):
    """One raw reading, as narrow as the table: floats here, Decimal only in the ledger."""

    point_id: int
    ts: datetime
    value: float
    quality: int = 0


_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS reading_in (
    point_id integer NOT NULL, ts timestamptz NOT NULL,
    value double precision NOT NULL, quality integer NOT NULL
) ON COMMIT DELETE ROWS"""
_COPY = "COPY reading_in (point_id, ts, value, quality) FROM STDIN (FORMAT BINARY)"
# New rows only (a duplicate is swallowed by the key) feed the hourly statistics.
_MOVE = f"""
WITH new AS (
    INSERT INTO reading SELECT point_id, ts, value, quality FROM reading_in
    ON CONFLICT DO NOTHING
    RETURNING point_id, ts, value, quality
), hourly AS (
    INSERT INTO reading_hourly AS h
    SELECT point_id, date_trunc('hour', ts), count(*), sum(value), min(value), max(value),
           min(ts), max(ts)
    FROM new WHERE quality & {int(REJECTED)} = 0 AND value <> 'NaN'
    GROUP BY 1, 2
    ON CONFLICT (point_id, hour) DO UPDATE SET
        n = h.n + EXCLUDED.n, sum = h.sum + EXCLUDED.sum,
        min = least(h.min, EXCLUDED.min), max = greatest(h.max, EXCLUDED.max),
        first_ts = least(h.first_ts, EXCLUDED.first_ts),
        last_ts = greatest(h.last_ts, EXCLUDED.last_ts)
)
SELECT count(*) FROM new"""


async def write_readings(pool: AsyncConnectionPool, rows: Sequence[Reading]) -> int:
    """Store a batch in one transaction; return how many rows were new."""
    if not rows:
        return 0
    try:
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(_STAGE)
            async with conn.cursor().copy(_COPY) as copy:
                copy.set_types(["int4", "timestamptz", "float8", "int4"])
                for row in rows:
                    await copy.write_row(row)
            cur = await conn.execute(_MOVE.encode())
            counted = await cur.fetchone()
            return int(counted[0]) if counted else 0
    except psycopg.Error as exc:
        raise StoreError(f"writing {len(rows)} readings: {exc}") from exc


@dataclass(frozen=True, slots=True)
class LatestValue:
    site: str
    meter: str
    point: str
    point_id: int
    quantity: str
    unit: str
    kind: str
    ts: datetime | None
    value: float | None
    quality: int | None


_LATEST = """
SELECT s.key, m.key, p.key, p.id, p.quantity, p.unit, p.kind, r.ts, r.value, r.quality
FROM point p
JOIN meter m ON m.id = p.meter_id
JOIN site s ON s.id = m.site_id
LEFT JOIN LATERAL (
    SELECT ts, value, quality FROM reading
    WHERE reading.point_id = p.id ORDER BY ts DESC LIMIT 1
) r ON true
ORDER BY s.key, m.key, p.key"""


async def latest_values(pool: AsyncConnectionPool) -> list[LatestValue]:
    """The newest reading of every point in the catalog (None where it has none yet)."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(_LATEST)
            return [LatestValue(*row) for row in await cur.fetchall()]
    except psycopg.Error as exc:
        raise StoreError(f"reading latest values: {exc}") from exc


async def ping(pool: AsyncConnectionPool) -> None:
    """Raise StoreError unless the database answers a trivial query."""
    try:
        async with pool.connection(timeout=2) as conn:
            await conn.execute("SELECT 1")
    except psycopg.Error as exc:  # includes the pool's PoolTimeout
        raise StoreError(f"database unreachable: {exc}") from exc


_BASELINES = """
SELECT p.id, r.ts, r.value FROM point p
CROSS JOIN LATERAL (
    SELECT ts, value FROM reading
    WHERE reading.point_id = p.id AND quality & %(rejected)s = 0
    ORDER BY ts DESC LIMIT 1
) r"""


async def baselines(pool: AsyncConnectionPool, rejected: int) -> dict[int, tuple[datetime, float]]:
    """The newest reading of each point whose flags include none of ``rejected``.

    A restarted collector judges its first readings against these, not against nothing.
    """
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(_BASELINES, {"rejected": rejected})
            return {point: (ts, value) for point, ts, value in await cur.fetchall()}
    except psycopg.Error as exc:
        raise StoreError(f"reading baselines: {exc}") from exc
