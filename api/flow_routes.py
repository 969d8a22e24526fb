"""``GET /api/v1/sites/{site}/flow``: the meter tree per carrier with live rates and the
unmetered remainder at each level (`api.meter_flow`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from psycopg_pool import AsyncConnectionPool

from api.meter_flow import carrier_flows
from api.problems import READ_PROBLEMS
from api.schemas_dashboard import Flow
from meterledger.errors import NotFoundError
from store import catalog_reads
from store.catalog import KEY_PATTERN
from store.readings import latest_values

SiteKey = Annotated[str, Path(pattern=KEY_PATTERN, examples=["shenyang-dairy"])]
MAX_METERS = 1000


def flow_router(pool: AsyncConnectionPool) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["live"], responses=READ_PROBLEMS)

    @router.get("/sites/{site}/flow", name="site_flow", operation_id="site_flow")
    async def site_flow(site: SiteKey) -> Flow:
        """Each carrier's meter tree from the main meters down, with each meter's newest
        power or flow, and what its sub-meters leave unmetered."""
        found = await catalog_reads.sites(pool, key=site, limit=1)
        if not found:
            raise NotFoundError("site", site)
        meters = await catalog_reads.meters(pool, site, limit=MAX_METERS)
        latest = await latest_values(pool, site)
        return Flow(site=site, timezone=found[0].timezone, carriers=carrier_flows(meters, latest))

    return router
