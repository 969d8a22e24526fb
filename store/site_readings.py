"""The newest reading of every point of one site: what the dashboard's tree and device
views show, without reading the other sites' points."""

from __future__ import annotations

import psycopg

from meterledger.errors import StoreError
from store.readings import LatestValue
from store.transaction import Connections

_LATEST_OF_SITE = """
SELECT s.key, m.key, p.key, p.id, p.quantity, p.unit, p.kind, r.ts, r.value, r.quality
FROM site s
JOIN meter m ON m.site_id = s.id
JOIN point p ON p.meter_id = m.id
LEFT JOIN LATERAL (
    SELECT ts, value, quality FROM reading
    WHERE reading.point_id = p.id ORDER BY ts DESC LIMIT 1
) r ON true
WHERE s.key = %s
ORDER BY m.key, p.key"""


async def latest_of_site(pool: Connections, site: str) -> list[LatestValue]:
    """The newest reading of each point of ``site`` (value None where it has none yet)."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(_LATEST_OF_SITE, (site,))
            return [LatestValue(*row) for row in await cur.fetchall()]
    except psycopg.Error as exc:
        raise StoreError(f"reading the latest values of {site}: {exc}") from exc
