"""The series of a point over ``[from, to)``: raw readings, or buckets from 1 minute to 1 month.

Counters give consumption per bucket by the ledger's rule (`api.counter_series`); gauges
give mean, min and max. Buckets of days and months follow the site's time zone. Every
bucket says how much of it readings cover. A page holds at most ``limit`` buckets (or raw
readings); ``next_cursor`` continues the same query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, cast

from fastapi import APIRouter, Path, Query, Response
from psycopg_pool import AsyncConnectionPool
from pydantic import AwareDatetime

from api.auth import Caller, sees
from api.buckets import Resolution, Window, window
from api.counter_series import Consumption, consumption
from api.json_body import json_body
from api.pagination import CursorParam, decode, encode
from api.problems import READ_PROBLEMS
from api.schemas_catalog import Point
from api.schemas_series import RawReading, Series
from ledger.counters import CounterPoint
from meterledger.errors import InputError, NotFoundError
from store import catalog_reads, series
from store.access import Token
from store.catalog_reads import PointRow
from store.quality import quality_names
from store.rollup_source import StoreRollupSource
from store.transaction import Connections, SharedConnection

MAX_SERIES_LIMIT = 5000
DEFAULT_INTERVAL = 900.0  # seconds, as the ledger assumes for a point with no known source


def series_router(pool: AsyncConnectionPool, intervals: Mapping[int, float]) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["series"], responses=READ_PROBLEMS)

    @router.get(
        "/points/{point_id}/series",
        name="point_series",
        operation_id="point_series",
        response_model=Series,
    )
    async def point_series(
        point_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
        who: Caller,
        start: Annotated[AwareDatetime, Query(alias="from", examples=["2026-03-01T00:00+01:00"])],
        end: Annotated[AwareDatetime, Query(alias="to", examples=["2026-04-01T00:00+02:00"])],
        resolution: Resolution = "1h",
        limit: Annotated[int, Query(ge=1, le=MAX_SERIES_LIMIT)] = 1000,
        cursor: CursorParam = None,
    ) -> Response:
        """A point's readings or buckets over ``[from, to)``, with unit and coverage."""
        if start >= end:
            raise InputError("from", start.isoformat(), f"must be before to ({end.isoformat()})")
        async with pool.connection() as conn:  # one connection for the whole answer
            return await _series(
                SharedConnection(conn), point_id, who, start, end, resolution, limit, cursor
            )

    async def _series(
        conn: SharedConnection,
        point_id: int,
        who: Token,
        start: datetime,
        end: datetime,
        resolution: Resolution,
        limit: int,
        cursor: str | None,
    ) -> Response:
        row = await catalog_reads.point(conn, point_id)
        if row is None or not sees(who, row.site):
            raise NotFoundError("point", str(point_id))
        page_start = _resume(cursor, start, end)
        expected = timedelta(seconds=intervals.get(point_id, DEFAULT_INTERVAL))
        head = Series(
            point=Point.model_validate(row, from_attributes=True),
            unit=row.unit,
            resolution=resolution,
            zone=row.timezone,
            start=start,
            end=end,
            next_cursor=None,
        )
        if resolution == "raw":
            return json_body(
                (await _raw(conn, head, row, page_start, end, limit)).model_dump(
                    mode="json", by_alias=True
                )
            )
        page = window(resolution, row.timezone, page_start, end, limit)
        # StoreRollupSource only ever asks its pool for connection(): lend it this one.
        store = StoreRollupSource(cast(AsyncConnectionPool, conn))
        head.next_cursor = encode([page.next_start.isoformat()]) if page.next_start else None
        body = head.model_dump(mode="json", by_alias=True)
        body["buckets"] = await _buckets(conn, store, row, page, expected)
        return json_body(body)

    return router


def _resume(cursor: str | None, start: datetime, end: datetime) -> datetime:
    if cursor is None:
        return start
    try:
        at = datetime.fromisoformat(str(decode(cursor, 1)[0]))
    except ValueError as exc:
        raise InputError("cursor", cursor, "not a cursor of this series") from exc
    if at.tzinfo is None or not start <= at < end:
        raise InputError("cursor", cursor, "not a cursor of this series")
    return at


async def _raw(
    pool: Connections,
    head: Series,
    row: PointRow,
    start: datetime,
    end: datetime,
    limit: int,
) -> Series:
    found = await series.raw_readings(pool, row.id, start, end, limit + 1)
    shown = found[:limit]
    head.readings = [RawReading(ts=ts, value=v, quality=quality_names(q)) for ts, v, q in shown]
    if len(found) > limit:
        resume = shown[-1][0] + timedelta(microseconds=1)
        head.next_cursor = encode([resume.isoformat()])
    return head


async def _buckets(
    pool: Connections,
    store: StoreRollupSource,
    row: PointRow,
    page: Window,
    expected: timedelta,
) -> list[dict[str, Any]]:
    """The page's buckets as `SeriesBucket` writes them (see `api.json_body`)."""
    bounds = page.bounds
    counter = row.kind == "counter"
    fetched = await series.bucket_page(pool, row.id, bounds, expected=expected, brackets=counter)
    stats = fetched.stats
    counted: list[Consumption | None] = [None] * (len(bounds) - 1)
    if counter:
        counted = list(await _consumption(store, row, bounds, fetched, expected))
    out = []
    for (start, end), result in zip(page.buckets, counted, strict=True):
        found = stats.get(start)
        gauge = found is not None and not counter
        out.append(
            {
                "start": start,
                "end": end,
                "coverage": found.vouched / (end - start) if found else 0.0,
                "readings": found.readings if found else 0,
                "consumption": result.quantity if result else None,
                "method": result.method if result else None,
                "estimated_share": result.estimated_share if result else None,
                "corrections": list(result.corrections) if result else [],
                "findings": list(result.findings) if result else [],
                "mean": found.mean if gauge and found else None,
                "min": found.low if gauge and found else None,
                "max": found.high if gauge and found else None,
            }
        )
    return out


async def _consumption(
    store: StoreRollupSource,
    row: PointRow,
    bounds: tuple[datetime, ...],
    fetched: series.BucketPage,
    expected: timedelta,
) -> list[Consumption]:
    """Each bucket's consumption, reading the page's evidence once."""
    point = CounterPoint(
        row.id,
        row.unit,
        wrap_value=Decimal(repr(row.wrap_value)) if row.wrap_value else None,
        expected_interval=expected,
    )
    edges = fetched.edges
    breaks, events = [], []
    span = _span(edges[b] for b in bounds)
    if span is not None:
        first, last = span
        breaks = list(await store.breaks(row.id, first, last))
        events = list(await store.between(row.id, min(first, bounds[0]), max(last, bounds[-1])))
    source = series.PrefetchedCounterSource(store, edges, breaks, events, fetched.stats)
    return await consumption(point, bounds, source, edges, breaks, events)


def _span(edges: Iterable[series.Edge]) -> tuple[datetime, datetime] | None:
    """The first and last instant of the readings around the boundaries, in time order."""
    found = [ts for e in edges for ts in (e.before_ts, e.after_ts) if ts is not None]
    return (found[0], found[-1]) if found else None
