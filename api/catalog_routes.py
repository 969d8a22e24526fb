"""Catalog routes: sites, the meter tree, points, and the meter events recorded.

A token limited to one site sees that site only: lists are filtered in the query (so a
page is never short because of it) and a point of another site is "not found".
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from psycopg_pool import AsyncConnectionPool

from api.auth import Caller, sees
from api.pagination import CursorParam, Limit, Page, decode, page_of
from api.problems import READ_PROBLEMS
from api.schemas_catalog import Meter, MeterEventRead, Point, Site
from meterledger.errors import InputError, NotFoundError
from store import catalog_reads as reads
from store.catalog import KEY_PATTERN
from store.catalog_reads import FAR_FUTURE, FAR_PAST, PointRow

SiteKey = Annotated[str, Path(pattern=KEY_PATTERN, examples=["shenyang-dairy"])]
MeterKey = Annotated[str, Path(pattern=KEY_PATTERN, examples=["grid-main"])]
PointId = Annotated[int, Path(ge=1, le=2**31 - 1, examples=[1])]


def catalog_router(pool: AsyncConnectionPool) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["catalog"], responses=READ_PROBLEMS)

    @router.get("/sites", name="list_sites", operation_id="list_sites")
    async def list_sites(who: Caller, limit: Limit = 100, cursor: CursorParam = None) -> Page[Site]:
        """List the sites, by key."""
        after = str(decode(cursor, 1)[0]) if cursor else ""
        rows = await reads.sites(pool, after=after, limit=limit + 1, key=who.site)
        return page_of(
            [Site.model_validate(r, from_attributes=True) for r in rows], limit, lambda s: [s.key]
        )

    @router.get("/sites/{site}", name="show_site", operation_id="show_site")
    async def show_site(site: SiteKey) -> Site:
        """Show one site: its time zone (month boundaries) and grid region."""
        rows = await reads.sites(pool, key=site, limit=1)
        if not rows:
            raise NotFoundError("site", site)
        return Site.model_validate(rows[0], from_attributes=True)

    @router.get("/sites/{site}/meters", name="list_meters", operation_id="list_meters")
    async def list_meters(
        site: SiteKey, limit: Limit = 100, cursor: CursorParam = None
    ) -> Page[Meter]:
        """List a site's meters by key, each with its parent and its path in the tree."""
        await _site_exists(pool, site)
        after = str(decode(cursor, 1)[0]) if cursor else ""
        rows = await reads.meters(pool, site, after=after, limit=limit + 1)
        return page_of(
            [Meter.model_validate(r, from_attributes=True) for r in rows], limit, lambda m: [m.key]
        )

    @router.get("/sites/{site}/meters/{meter}", name="show_meter", operation_id="show_meter")
    async def show_meter(site: SiteKey, meter: MeterKey) -> Meter:
        """Show one meter: role, serial, CT/PT ratios, installed and removed dates."""
        rows = await reads.meters(pool, site, key=meter, limit=1)
        if not rows:
            await _site_exists(pool, site)
            raise NotFoundError("meter", meter)
        return Meter.model_validate(rows[0], from_attributes=True)

    @router.get(
        "/sites/{site}/meters/{meter}/events",
        name="list_meter_events",
        operation_id="list_meter_events",
    )
    async def list_meter_events(
        site: SiteKey,
        meter: MeterKey,
        start: Annotated[datetime | None, Query(alias="from")] = None,
        end: Annotated[datetime | None, Query(alias="to")] = None,
        limit: Limit = 100,
        cursor: CursorParam = None,
    ) -> Page[MeterEventRead]:
        """List a meter's recorded events (replacements, resets, ratio changes, manual
        readings) in the order they were recorded, optionally with ``from <= ts < to``."""
        if not await reads.meters(pool, site, key=meter, limit=1):
            await _site_exists(pool, site)
            raise NotFoundError("meter", meter)
        after = int(decode(cursor, 1)[0]) if cursor else 0
        rows = await reads.meter_events(
            pool,
            site,
            meter=meter,
            start=_aware("from", start) or FAR_PAST,
            end=_aware("to", end) or FAR_FUTURE,
            after=after,
            limit=limit + 1,
        )
        return page_of(
            [MeterEventRead.model_validate(r, from_attributes=True) for r in rows],
            limit,
            lambda e: [e.id],
        )

    @router.get("/points", name="list_points", operation_id="list_points")
    async def list_points(
        who: Caller,
        site: Annotated[str | None, Query(pattern=KEY_PATTERN)] = None,
        meter: Annotated[str | None, Query(pattern=KEY_PATTERN)] = None,
        limit: Limit = 100,
        cursor: CursorParam = None,
    ) -> Page[Point]:
        """List points by id with quantity, unit and kind; filter by site and meter."""
        after = int(decode(cursor, 1)[0]) if cursor else 0
        rows = await reads.points(
            pool, site=site or who.site, meter=meter, after=after, limit=limit + 1
        )
        return page_of([_point(r) for r in rows], limit, lambda p: [p.id])

    @router.get("/points/{point_id}", name="show_point", operation_id="show_point")
    async def show_point(point_id: PointId, who: Caller) -> Point:
        """Show one point."""
        row = await reads.point(pool, point_id)
        if row is None or not sees(who, row.site):
            raise NotFoundError("point", str(point_id))
        return _point(row)

    return router


async def _site_exists(pool: AsyncConnectionPool, site: str) -> None:
    if not await reads.sites(pool, key=site, limit=1):
        raise NotFoundError("site", site)


def _point(row: PointRow) -> Point:
    return Point.model_validate(row, from_attributes=True)


def _aware(name: str, value: datetime | None) -> datetime | None:
    """Refuse an instant without a UTC offset: which zone was meant cannot be guessed."""
    if value is not None and value.tzinfo is None:
        raise InputError(name, value.isoformat(), "give a UTC offset (e.g. 2026-03-01T00:00Z)")
    return value
