"""Readings in and out: idempotent batched writes with COPY, and the latest value per point.

A batch is one buffer in PostgreSQL's binary COPY format (store/reading_rows.py), copied
straight into ``reading``: the same COPY a bare loader would send (issue 4), and the usual
case, since every row the collector sends is new. Its hourly statistics, summed on this
side, are copied into a session-local table and added in the same transaction. When
any row is already stored (a redelivery, or rows re-sent after a crash between commit and
spool removal) that COPY fails on the primary key and the transaction is rolled back; the
batch is then moved from the staging table with ``INSERT ... ON CONFLICT DO NOTHING``,
the statistics counting only the rows that were new. Either way a re-delivered reading
(same point and instant) is a no-op and a failed batch leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from meterledger.errors import StoreError
from store.quality import REJECTED
from store.reading_rows import ReadingRow, copy_stream, hourly_copy, pack_rows, to_us
from store.transaction import Connections


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
_HOURLY_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS reading_hourly_in (LIKE reading_hourly) ON COMMIT DELETE ROWS"""
_COPY_HOURLY = (
    "COPY reading_hourly_in (point_id, hour, n, sum, min, max, first_ts, last_ts,"
    " first_value, first_quality, last_value, last_quality) FROM STDIN (FORMAT BINARY)"
)
_COPY_DIRECT = "COPY reading (point_id, ts, value, quality) FROM STDIN (FORMAT BINARY)"
_COPY_STAGED = "COPY reading_in (point_id, ts, value, quality) FROM STDIN (FORMAT BINARY)"


_ADD_HOURLY = """
    ON CONFLICT (point_id, hour) DO UPDATE SET
        n = h.n + EXCLUDED.n, sum = h.sum + EXCLUDED.sum,
        min = least(h.min, EXCLUDED.min), max = greatest(h.max, EXCLUDED.max),
        first_ts = least(h.first_ts, EXCLUDED.first_ts),
        last_ts = greatest(h.last_ts, EXCLUDED.last_ts),
        first_value = CASE WHEN EXCLUDED.first_ts < h.first_ts
                           THEN EXCLUDED.first_value ELSE h.first_value END,
        first_quality = CASE WHEN EXCLUDED.first_ts < h.first_ts
                             THEN EXCLUDED.first_quality ELSE h.first_quality END,
        last_value = CASE WHEN EXCLUDED.last_ts > h.last_ts
                          THEN EXCLUDED.last_value ELSE h.last_value END,
        last_quality = CASE WHEN EXCLUDED.last_ts > h.last_ts
                            THEN EXCLUDED.last_quality ELSE h.last_quality END"""


def _hourly(rows: str) -> str:
    """Add the accepted readings of ``rows`` to the hourly statistics (UTC hours)."""
    return f"""
    INSERT INTO reading_hourly AS h
    SELECT point_id, date_trunc('hour', ts, 'UTC'), count(*), sum(value), min(value),
           max(value), min(ts), max(ts),
           (array_agg(value ORDER BY ts))[1], (array_agg(quality ORDER BY ts))[1],
           (array_agg(value ORDER BY ts DESC))[1], (array_agg(quality ORDER BY ts DESC))[1]
    FROM {rows} WHERE quality & {int(REJECTED)} = 0 AND value <> 'NaN'
    GROUP BY 1, 2
    {_ADD_HOURLY}"""


_HOURLY_SUMMED = f"INSERT INTO reading_hourly AS h SELECT * FROM reading_hourly_in {_ADD_HOURLY}"
# New rows only (a duplicate is swallowed by the key) feed the hourly statistics.
_MOVE = f"""
WITH new AS (
    INSERT INTO reading SELECT point_id, ts, value, quality FROM reading_in
    ON CONFLICT DO NOTHING
    RETURNING point_id, ts, value, quality
), hourly AS ({_hourly("new")}
)
SELECT count(*) FROM new"""


async def write_readings(pool: AsyncConnectionPool, rows: Sequence[Reading]) -> int:
    """Store a batch in one transaction; return how many rows were new."""
    return await write_rows(pool, [(p, to_us(ts), v, q) for p, ts, v, q in rows])


async def write_rows(pool: AsyncConnectionPool, rows: Sequence[ReadingRow]) -> int:
    """Store a batch of plain rows in one transaction; return how many were new."""
    return await write_packed(pool, pack_rows(rows), len(rows))


async def write_packed(pool: AsyncConnectionPool, packed: bytes, count: int) -> int:
    """Store ``count`` rows packed by `pack_rows` in one transaction; return how many were new."""
    if not count:
        return 0
    data = copy_stream([packed])
    try:
        async with pool.connection() as conn:
            try:
                async with conn.transaction():
                    await _copy(conn, _COPY_DIRECT, data)  # fails whole on a stored row
                    await _add_hourly(conn, packed)
                    return count
            except psycopg.errors.UniqueViolation:
                pass  # rolled back: nothing of the attempt is kept
            async with conn.transaction():
                await _stage(conn, data)
                cur = await conn.execute(_MOVE.encode())
                counted = await cur.fetchone()
                return int(counted[0]) if counted else 0
    except psycopg.Error as exc:
        raise StoreError(f"writing {count} readings: {exc}") from exc


async def _add_hourly(conn: AsyncConnection, packed: bytes) -> None:
    """Add the statistics of rows all new to the hourly ones."""
    hours, data = hourly_copy(packed)
    if hours:
        await conn.execute(_HOURLY_STAGE.encode())
        await _copy(conn, _COPY_HOURLY, data)
        await conn.execute(_HOURLY_SUMMED.encode())


async def _stage(conn: AsyncConnection, data: bytes) -> None:
    """Copy the batch into this session's staging table (emptied at commit)."""
    await conn.execute(_STAGE.encode())
    await _copy(conn, _COPY_STAGED, data)


async def _copy(conn: AsyncConnection, statement: str, data: bytes) -> None:
    async with conn.cursor().copy(statement) as copy:
        await copy.write(data)


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
WHERE %(site)s::text IS NULL OR s.key = %(site)s
ORDER BY s.key, m.key, p.key"""


async def latest_values(pool: Connections, site: str | None = None) -> list[LatestValue]:
    """The newest reading of every point in the catalog, or of ``site``'s points only
    (value None where a point has none yet)."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(_LATEST, {"site": site})
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
