"""Look a meter up by its catalog keys, as a write naming it must be checked first."""

from __future__ import annotations

import psycopg
from psycopg_pool import AsyncConnectionPool

from meterledger.errors import StoreError


async def meter_points(pool: AsyncConnectionPool, site: str, meter: str) -> dict[str, str] | None:
    """The kind (counter or gauge) of each point of a meter, by point key; None: no meter."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(
                """SELECT p.key, p.kind FROM meter m JOIN site s ON s.id = m.site_id
                   LEFT JOIN point p ON p.meter_id = m.id
                   WHERE s.key = %s AND m.key = %s""",
                (site, meter),
            )
            rows = await cur.fetchall()
    except psycopg.Error as exc:
        raise StoreError(f"looking up meter {site}/{meter}: {exc}") from exc
    if not rows:
        return None
    return {key: kind for key, kind in rows if key is not None}
