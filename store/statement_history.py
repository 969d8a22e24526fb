"""The latest stored statement of each month of a site over a range of months: what the
dashboard's month-by-month charts and KPI tables are drawn from."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from meterledger.errors import StoreError
from store.transaction import Connections


@dataclass(frozen=True, slots=True)
class MonthStatement:
    period: str
    version: int
    status: str
    content: bytes  # the canonical JSON the statement's hash covers


_LATEST_BY_MONTH = """
SELECT DISTINCT ON (st.period) st.period, st.version, st.status, st.content
FROM statement st JOIN site s ON s.id = st.site_id
WHERE s.key = %s AND st.period >= %s AND st.period <= %s
ORDER BY st.period, st.version DESC"""


async def latest_by_month(
    pool: Connections, site: str, first: str, last: str
) -> list[MonthStatement]:
    """The latest version of each month ``first``..``last`` (YYYY-MM) that has one, in order."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(_LATEST_BY_MONTH, (site, first, last))
            return [
                MonthStatement(period, version, status, content.encode())
                for period, version, status, content in await cur.fetchall()
            ]
    except psycopg.Error as exc:
        raise StoreError(f"reading the statements of {site}: {exc}") from exc
