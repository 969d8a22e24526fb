"""``GET /api/v1/sites/{site}/devices``: each meter's last reading, whether it is online,
the collector's poll latency and failed polls, and the quality of each point's newest
reading — what an energy manager checks before trusting a figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from api.collector_health import CollectorHealth, collector_health
from api.problems import READ_PROBLEMS
from api.schemas_dashboard import Device, Devices, PointHealth
from meterledger.errors import NotFoundError
from store import catalog_reads
from store.catalog import KEY_PATTERN
from store.catalog_reads import MeterRow
from store.quality import quality_names
from store.readings import LatestValue, latest_values

SiteKey = Annotated[str, Path(pattern=KEY_PATTERN, examples=["shenyang-dairy"])]
DEFAULT_INTERVAL = 900.0  # seconds: what the ledger assumes of a point with no known source
MISSED = 3  # a device is offline after this many expected readings did not come
MIN_GRACE = timedelta(seconds=15)  # a 1 s poll should not flap on a slow batch write
MAX_METERS = 1000


def device_router(
    pool: AsyncConnectionPool, registry: CollectorRegistry, intervals: Mapping[int, float]
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["catalog"], responses=READ_PROBLEMS)

    @router.get("/sites/{site}/devices", name="list_devices", operation_id="list_devices")
    async def list_devices(site: SiteKey) -> Devices:
        """Every meter of the site with its health; offline after three missed readings."""
        meters = await catalog_reads.meters(pool, site, limit=MAX_METERS)
        if not meters and not await catalog_reads.sites(pool, key=site, limit=1):
            raise NotFoundError("site", site)
        latest = await latest_values(pool, site)
        health = collector_health(registry)
        now = datetime.now(UTC)
        items = [_device(m, latest, health, intervals, now) for m in meters]
        return Devices(site=site, as_of=now, collector=health.reporting, items=items)

    return router


def _device(
    meter: MeterRow,
    latest: Sequence[LatestValue],
    health: CollectorHealth,
    intervals: Mapping[int, float],
    now: datetime,
) -> Device:
    rows = [r for r in latest if r.meter == meter.key]
    seen = [r.ts for r in rows if r.ts is not None]
    last_seen = max(seen) if seen else None
    expected = min((intervals.get(r.point_id, DEFAULT_INTERVAL) for r in rows), default=900.0)
    grace = max(MISSED * timedelta(seconds=expected), MIN_GRACE)
    source = health.source.get(meter.key)
    polled = source is not None
    return Device(
        meter=meter.key,
        name=meter.name,
        carrier=meter.carrier,
        last_seen=last_seen,
        expected_interval=expected,
        online=last_seen is not None and now - last_seen <= grace,
        source=source,
        errors=health.errors.get(meter.key, 0) if polled else None,
        last_success=health.last_success.get(meter.key),
        poll_latency_ms=(
            health.poll_mean[meter.key] * 1000 if meter.key in health.poll_mean else None
        ),
        points=[
            PointHealth(
                point=r.point,
                point_id=r.point_id,
                quantity=r.quantity,
                unit=r.unit,
                ts=r.ts,
                value=r.value,
                quality=None if r.quality is None else quality_names(r.quality),
            )
            for r in rows
        ],
    )
