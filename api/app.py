"""Build the FastAPI application around an open pool; serve it with uvicorn."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib.metadata import version

import uvicorn
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from psycopg_pool import AsyncConnectionPool

from api.schemas import Health, LiveResponse, LiveValue
from meterledger.errors import StoreError
from store.quality import quality_names
from store.readings import latest_values, ping


def create_app(pool: AsyncConnectionPool, registry: CollectorRegistry) -> FastAPI:
    """The app, reading through ``pool``; ``registry`` is what ``/metrics`` exposes."""
    app = FastAPI(
        title="meterledger",
        version=version("meterledger"),
        docs_url=None,  # Swagger UI loads from a CDN; nothing here may
        redoc_url=None,
    )

    @app.get("/healthz", response_model=Health, tags=["operations"])
    async def healthz(response: Response) -> Health:
        """Report whether the database answers; 503 when it does not."""
        try:
            await ping(pool)
        except StoreError as exc:
            response.status_code = 503
            return Health(status="degraded", database="unreachable", detail=str(exc))
        return Health(status="ok", database="ok")

    @app.get("/api/v1/live", response_model=LiveResponse, tags=["live"])
    async def live() -> LiveResponse:
        """The latest value of every point, with unit, timestamp and quality flags."""
        rows = await latest_values(pool)
        return LiveResponse(
            items=[
                LiveValue(
                    site=r.site,
                    meter=r.meter,
                    point=r.point,
                    point_id=r.point_id,
                    quantity=r.quantity,
                    unit=r.unit,
                    kind=r.kind,  # type: ignore[arg-type]
                    ts=r.ts,
                    value=r.value,
                    quality=None if r.quality is None else quality_names(r.quality),
                )
                for r in rows
            ]
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


class ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: the composition root owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(app: FastAPI, host: str, port: int) -> ApiServer:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    return ApiServer(config)
