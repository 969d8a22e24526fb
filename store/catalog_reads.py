"""The catalog as the API reads it: sites, meters in their tree, points and meter events.

Every list is a keyset page (``WHERE key > %(after)s ORDER BY key LIMIT n``) so a page costs
an index range scan however deep a client pages. Callers ask for one row more than they
show, to know whether another page follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import class_row

from meterledger.errors import StoreError
from store.transaction import Connections


@dataclass(frozen=True, slots=True)
class SiteRow:
    key: str
    name: str
    timezone: str
    grid_region: str | None


@dataclass(frozen=True, slots=True)
class MeterRow:
    site: str
    key: str
    name: str
    carrier: str
    role: str
    parent: str | None
    path: list[str] | None  # keys from the root of its tree down to itself
    serial: str | None
    model: str | None
    ct_ratio: Decimal
    pt_ratio: Decimal
    installed_at: datetime | None
    removed_at: datetime | None


@dataclass(frozen=True, slots=True)
class PointRow:
    id: int
    site: str
    meter: str
    key: str
    quantity: str
    unit: str
    kind: str
    wrap_value: float | None
    timezone: str


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    site: str
    meter: str
    point: str | None
    ts: datetime
    kind: str
    old_value: float | None
    new_value: float | None
    detail: dict[str, Any]
    recorded_at: datetime
    recorded_by: str | None


_SITES = """
SELECT key, name, timezone, grid_region FROM site
WHERE (%(key)s::text IS NULL OR key = %(key)s) AND key > %(after)s
ORDER BY key LIMIT %(limit)s"""

# The tree is walked from each root down; a meter on a parent cycle (which the plant file
# cannot express, but SQL could hold) is still listed, with no path.
_METERS = """
WITH RECURSIVE tree AS (
    SELECT m.id, ARRAY[m.key] AS path FROM meter m
    WHERE m.site_id = (SELECT id FROM site WHERE key = %(site)s) AND m.parent_id IS NULL
    UNION ALL
    SELECT c.id, t.path || c.key FROM meter c JOIN tree t ON c.parent_id = t.id
)
SELECT s.key AS site, m.key, m.name, m.carrier, m.role, p.key AS parent, t.path, m.serial,
       m.model, m.ct_ratio, m.pt_ratio, m.installed_at, m.removed_at
FROM meter m JOIN site s ON s.id = m.site_id
LEFT JOIN meter p ON p.id = m.parent_id
LEFT JOIN tree t ON t.id = m.id
WHERE s.key = %(site)s AND (%(key)s::text IS NULL OR m.key = %(key)s) AND m.key > %(after)s
ORDER BY m.key LIMIT %(limit)s"""

_POINTS = """
SELECT p.id, s.key AS site, m.key AS meter, p.key, p.quantity, p.unit, p.kind, p.wrap_value,
       s.timezone
FROM point p JOIN meter m ON m.id = p.meter_id JOIN site s ON s.id = m.site_id
WHERE (%(id)s::int IS NULL OR p.id = %(id)s)
  AND (%(site)s::text IS NULL OR s.key = %(site)s)
  AND (%(meter)s::text IS NULL OR m.key = %(meter)s)
  AND p.id > %(after)s
ORDER BY p.id LIMIT %(limit)s"""

_EVENTS = """
SELECT e.id, s.key AS site, m.key AS meter, p.key AS point, e.ts, e.kind, e.old_value,
       e.new_value, e.detail, e.recorded_at, e.recorded_by
FROM meter_event e JOIN meter m ON m.id = e.meter_id JOIN site s ON s.id = m.site_id
LEFT JOIN point p ON p.id = e.point_id
WHERE s.key = %(site)s AND (%(meter)s::text IS NULL OR m.key = %(meter)s)
  AND (%(point_id)s::int IS NULL OR (m.id = (SELECT meter_id FROM point WHERE id = %(point_id)s)
                                    AND (e.point_id IS NULL OR e.point_id = %(point_id)s)))
  AND e.ts >= %(start)s AND e.ts < %(end)s AND e.id > %(after)s
ORDER BY e.id LIMIT %(limit)s"""

FAR_PAST = datetime.fromisoformat("0001-01-02T00:00:00+00:00")
FAR_FUTURE = datetime.fromisoformat("9999-12-30T00:00:00+00:00")


async def _fetch(pool: Connections, row: type[Any], sql: str, params: dict[str, Any]) -> Any:
    try:
        async with pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(row))
            await cur.execute(sql.encode(), params)
            return await cur.fetchall()
    except psycopg.Error as exc:
        raise StoreError(f"reading the catalog ({row.__name__}): {exc}") from exc


async def sites(
    pool: Connections, *, after: str = "", limit: int = 100, key: str | None = None
) -> list[SiteRow]:
    """Sites by key, after ``after``; ``key`` picks one."""
    params = {"key": key, "after": after, "limit": limit}
    found: list[SiteRow] = await _fetch(pool, SiteRow, _SITES, params)
    return found


async def meters(
    pool: Connections,
    site: str,
    *,
    after: str = "",
    limit: int = 100,
    key: str | None = None,
) -> list[MeterRow]:
    """A site's meters by key, each with the path of keys from its tree's root."""
    params = {"site": site, "key": key, "after": after, "limit": limit}
    found: list[MeterRow] = await _fetch(pool, MeterRow, _METERS, params)
    return found


async def points(
    pool: Connections,
    *,
    site: str | None = None,
    meter: str | None = None,
    point_id: int | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[PointRow]:
    """Points by id, optionally of one site or meter."""
    params = {"id": point_id, "site": site, "meter": meter, "after": after, "limit": limit}
    found: list[PointRow] = await _fetch(pool, PointRow, _POINTS, params)
    return found


async def point(pool: Connections, point_id: int) -> PointRow | None:
    """One point with its site's time zone; None when there is no such id."""
    found = await points(pool, point_id=point_id, limit=1)
    return found[0] if found else None


async def meter_events(
    pool: Connections,
    site: str,
    *,
    meter: str | None = None,
    point_id: int | None = None,
    start: datetime = FAR_PAST,
    end: datetime = FAR_FUTURE,
    after: int = 0,
    limit: int = 100,
) -> list[EventRow]:
    """A site's meter events in recording order (by id), with ``start <= ts < end``.

    ``point_id`` keeps the events that hit that point: its own and its meter's.
    """
    params = {
        "site": site,
        "meter": meter,
        "point_id": point_id,
        "start": start,
        "end": end,
        "after": after,
        "limit": limit,
    }
    found: list[EventRow] = await _fetch(pool, EventRow, _EVENTS, params)
    return found
