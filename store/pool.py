"""The connection pool every async part shares, opened by the composition root."""

from __future__ import annotations

import psycopg
from psycopg_pool import AsyncConnectionPool

from meterledger.errors import StoreError


async def open_pool(url: str, *, min_size: int = 1, max_size: int = 8) -> AsyncConnectionPool:
    """Open a pool and wait for its first connection, so a wrong URL fails at start."""
    pool = AsyncConnectionPool(
        url, min_size=min_size, max_size=max_size, open=False, configure=_in_utc
    )
    try:
        await pool.open(wait=True, timeout=15)
    except psycopg.Error as exc:
        await pool.close()
        raise StoreError(f"cannot connect to the database: {exc}") from exc
    return pool


async def _in_utc(conn: psycopg.AsyncConnection) -> None:
    """Sessions in UTC, whatever the server's default: instants then come back as
    ``datetime.timezone.utc`` datetimes, which psycopg builds without a time-zone
    conversion per value (a page of a series is thousands of them), and no statement
    depends on the server's configured zone."""
    await conn.execute("SELECT set_config('TimeZone', 'UTC', false)")
    await conn.commit()
