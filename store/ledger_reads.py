"""Period statuses of a site, as the API lists them: the latest version of each period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg_pool import AsyncConnectionPool

from meterledger.errors import StoreError


@dataclass(frozen=True, slots=True)
class PeriodRow:
    period: str
    version: int
    status: str
    content_hash: str
    created_at: datetime
    pending: bool  # an approved month that would change if computed now


_PERIODS = """
SELECT DISTINCT ON (st.period) st.period, st.version, st.status, st.content_hash,
       st.created_at, p.period IS NOT NULL
FROM statement st JOIN site s ON s.id = st.site_id
LEFT JOIN pending_restatement p ON p.site_id = st.site_id AND p.period = st.period
WHERE s.key = %s
ORDER BY st.period, st.version DESC"""


async def period_rows(pool: AsyncConnectionPool, site: str) -> list[PeriodRow]:
    """Every period of a site that has a statement, with its latest version's status."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(_PERIODS, (site,))
            return [PeriodRow(*row) for row in await cur.fetchall()]
    except psycopg.Error as exc:
        raise StoreError(f"reading the periods of {site}: {exc}") from exc
