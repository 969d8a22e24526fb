"""An API app over a fresh database with a two-site plant, for the read-side API tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from api.app import create_app
from meterledger.books import poll_intervals, site_books
from meterledger.config import PlantConfig
from store.access import create_token
from store.catalog import PointRef, sync_catalog
from store.migrate import migrate
from store.pool import open_pool

PLANT: dict[str, Any] = {
    "sites": [
        {
            "id": "berlin",
            "name": "Berlin works",
            "timezone": "Europe/Berlin",
            "grid_region": "CN",
            "meters": [
                {
                    "id": "grid-main",
                    "carrier": "electricity",
                    "role": "main",
                    "serial": "SDM630-0001",
                    "ct_ratio": 40,
                    "points": [
                        {
                            "id": "energy_import",
                            "quantity": "energy_import",
                            "unit": "kWh",
                            "kind": "counter",
                            "wrap": 100000,
                        },
                        {"id": "power", "quantity": "power", "unit": "kW", "kind": "gauge"},
                    ],
                },
                {
                    "id": "workshop-1",
                    "carrier": "electricity",
                    "role": "sub",
                    "parent": "grid-main",
                    "points": [
                        {
                            "id": "energy_import",
                            "quantity": "energy_import",
                            "unit": "kWh",
                            "kind": "counter",
                        }
                    ],
                },
                {
                    "id": "line-2",
                    "carrier": "electricity",
                    "role": "sub",
                    "parent": "workshop-1",
                    "installed": "2025-01-01T00:00:00Z",
                    "points": [
                        {
                            "id": "energy_import",
                            "quantity": "energy_import",
                            "unit": "kWh",
                            "kind": "counter",
                        }
                    ],
                },
                {
                    "id": "boiler-gas",
                    "carrier": "natural_gas",
                    "role": "main",
                    "points": [
                        {"id": "volume", "quantity": "volume", "unit": "Nm3", "kind": "counter"}
                    ],
                },
            ],
        },
        {
            "id": "shanghai",
            "timezone": "Asia/Shanghai",
            "meters": [
                {
                    "id": "sh-main",
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
        },
    ]
}


@dataclass
class ReadApi:
    client: httpx.AsyncClient
    pool: AsyncConnectionPool
    config: PlantConfig
    ids: dict[PointRef, int]
    registry: CollectorRegistry
    app: FastAPI

    def point(self, site: str, meter: str, point: str) -> int:
        return self.ids[PointRef(site, meter, point)]


@contextlib.asynccontextmanager
async def read_api(
    database_url: str, plant: dict[str, Any] | None = None, role: str = "admin"
) -> AsyncIterator[ReadApi]:
    """The app over a migrated database holding ``plant``'s catalog, and a client with a
    token of ``role``; every point is expected every 15 minutes."""
    config = PlantConfig.model_validate(plant or PLANT)
    migrate(database_url)
    ids = sync_catalog(database_url, config.sites)
    pool = await open_pool(database_url)
    issued = await create_token(pool, "reader", role, created_by="tests")  # type: ignore[arg-type]
    registry = CollectorRegistry()
    app = create_app(
        pool,
        registry,
        books=site_books(config, ids),
        intervals=poll_intervals(config, ids) or dict.fromkeys(ids.values(), 900.0),
    )
    headers = {"Authorization": f"Bearer {issued.secret}"}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api.test", headers=headers
        ) as client:
            yield ReadApi(client, pool, config, ids, registry, app)
    finally:
        await pool.close()
