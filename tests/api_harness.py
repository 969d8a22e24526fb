"""The API over a real database with a token per role, for the access and write tests.

Two sites (the small test plant's and a second one) so that site-scoped tokens can be
checked; a March 2026 of hourly counter readings at ``test-site`` so months can close.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from api.app import create_app, make_server
from meterledger.books import TargetConfig, site_books
from meterledger.config import PlantConfig, load_config
from meterledger.embedded import free_port
from store.access import ROLES, Role, create_token
from store.catalog import PointRef, SiteConfig, sync_catalog
from store.migrate import migrate
from store.pool import open_pool
from store.readings import Reading, write_readings

PLANT = Path(__file__).resolve().parent / "plants" / "small.yaml"
SITE = "test-site"
OTHER = "other-site"
MARCH = "2026-03"
#: Tokens beside the one per role: limited to the other site.
SCOPED: dict[str, tuple[Role, str]] = {
    "other-viewer": ("viewer", OTHER),
    "other-manager": ("manager", OTHER),
    "other-auditor": ("auditor", OTHER),
}


def plant() -> PlantConfig:
    """The small test plant plus a second site with one meter."""
    config = load_config(PLANT)
    other = SiteConfig.model_validate(
        {
            "id": OTHER,
            "name": "Other site",
            "timezone": "Asia/Shanghai",
            "meters": [
                {
                    "id": "other-main",
                    "carrier": "electricity",
                    "role": "main",
                    "points": [
                        {
                            "id": "energy_import",
                            "quantity": "energy_import",
                            "unit": "kWh",
                            "kind": "counter",
                        }
                    ],
                }
            ],
        }
    )
    # The test site has an emission target: 1,200 tCO2e in 2025, 4.2 % of it less a year.
    target = TargetConfig(
        base_year=2025, base_tco2e=Decimal(1200), annual_reduction=Decimal("0.042")
    )
    ledger = config.ledger.model_copy(update={"targets": {SITE: target}})
    return config.model_copy(update={"sites": (*config.sites, other), "ledger": ledger})


@dataclass
class Api:
    app: FastAPI
    pool: AsyncConnectionPool
    ids: dict[PointRef, int]
    tokens: dict[str, str] = field(default_factory=dict)  # role (or SCOPED name) -> secret

    def client(self, who: str | None = None, base_url: str = "http://api") -> httpx.AsyncClient:
        """A client with ``who``'s token (a role or a SCOPED name); None: no token."""
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        transport = httpx.ASGITransport(app=self.app) if base_url == "http://api" else None
        return httpx.AsyncClient(transport=transport, base_url=base_url, headers=headers)


@contextlib.asynccontextmanager
async def api(database_url: str, *, readings: bool = True) -> AsyncIterator[Api]:
    """The app over a migrated database holding the two-site catalog and a token per role."""
    config = plant()
    await asyncio.to_thread(migrate, database_url)
    ids = await asyncio.to_thread(sync_catalog, database_url, config.sites)
    pool = await open_pool(database_url)
    try:
        if readings:
            await write_readings(pool, march(ids))
        app = create_app(pool, CollectorRegistry(), books=site_books(config, ids))
        harness = Api(app, pool, ids)
        for role in ROLES:
            issued = await create_token(pool, f"test {role}", role, created_by="test")
            harness.tokens[role] = issued.secret
        for name, (role, site) in SCOPED.items():
            issued = await create_token(pool, name, role, created_by="test", site=site)
            harness.tokens[name] = issued.secret
        yield harness
    finally:
        await pool.close()


def march(ids: dict[PointRef, int]) -> list[Reading]:
    """Hourly readings through March 2026 (Berlin) and a day beyond, on every counter of
    the test site: grid 100 kWh/h, its sub-meter 60 kWh/h, gas 10 Nm3/h."""
    start = datetime(2026, 3, 1, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
    rates = {
        ids[PointRef(SITE, "grid-main", "energy_import")]: (5000.0, 100.0),
        ids[PointRef(SITE, "dead-meter", "energy_import")]: (0.0, 60.0),
        ids[PointRef(SITE, "boiler-gas", "volume")]: (800.0, 10.0),
    }
    return [
        Reading(point, start + timedelta(hours=h), base + rate * h)
        for h in range(743 + 24)
        for point, (base, rate) in rates.items()
    ]


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yield its base URL."""
    port = free_port()
    server = make_server(app, "127.0.0.1", port)
    task = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn offers a flag, not an event
        assert not task.done(), "uvicorn stopped while starting"
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@dataclass
class LiveApi:
    base_url: str
    tokens: dict[str, str]


@contextlib.contextmanager
def live_api(database_url: str) -> Iterator[LiveApi]:
    """The API served from a thread of its own, for synchronous clients (schemathesis)."""
    ready: list[LiveApi] = []
    failed: list[BaseException] = []
    started, stop = threading.Event(), threading.Event()

    async def run() -> None:
        async with api(database_url) as harness, serving(harness.app) as url:
            ready.append(LiveApi(url, harness.tokens))
            started.set()
            while not stop.is_set():  # noqa: ASYNC110 - the stop comes from another thread
                await asyncio.sleep(0.05)

    def main() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:
            failed.append(exc)
        finally:
            started.set()

    thread = threading.Thread(target=main, name="live-api", daemon=True)
    thread.start()
    started.wait(60)
    if failed or not ready:
        raise RuntimeError("the API did not start") from (failed[0] if failed else None)
    try:
        yield ready[0]
    finally:
        stop.set()
        thread.join(15)
        if failed:
            raise failed[0]
