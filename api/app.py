"""Build the FastAPI application around an open pool; serve it with uvicorn."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from importlib.metadata import version

import uvicorn
from fastapi import Depends, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from psycopg_pool import AsyncConnectionPool

from api.audit_routes import audit_router
from api.auth import Access, Caller, sees
from api.auth import install as install_access
from api.catalog_routes import catalog_router
from api.contract import document
from api.dashboard import install as install_dashboard
from api.device_routes import device_router
from api.event_routes import event_router
from api.factor_routes import factor_router
from api.flow_routes import flow_router
from api.history_routes import history_router
from api.input_routes import input_router
from api.joined_read import JoinedRead
from api.ledger_routes import ledger_router
from api.me_routes import me_router
from api.observability import HttpMetrics, RequestMetrics
from api.problems import install as install_problems
from api.schemas import Health, LiveResponse
from api.series_routes import series_router
from api.stream import LiveFeed, live_value, stream_router
from api.workflow_routes import workflow_router
from ledger.close import SiteBook
from meterledger.errors import StoreError
from store.readings import latest_values, ping


def create_app(
    pool: AsyncConnectionPool,
    registry: CollectorRegistry,
    *,
    books: Mapping[str, SiteBook] | None = None,
    intervals: Mapping[int, float] | None = None,
) -> FastAPI:
    """The app, reading through ``pool``; ``registry`` is what ``/metrics`` exposes.

    ``books`` (by site key) are what the period workflow computes statements from;
    ``intervals`` each point's expected seconds between readings (series coverage).
    """
    app = FastAPI(
        title="meterledger",
        version=version("meterledger"),
        docs_url=None,  # Swagger UI loads from a CDN; nothing here may
        redoc_url=None,
        dependencies=[Depends(Access(pool))],  # every route asks api.policy (api/auth.py)
    )
    install_access(app)
    install_problems(app)
    document(app)  # access rules and problem+json in /openapi.json (api/contract.py)

    @app.get("/healthz", response_model=Health, tags=["operations"])
    async def healthz(response: Response) -> Health:
        """Report whether the database answers; 503 when it does not."""
        try:
            await ping(pool)
        except StoreError as exc:
            response.status_code = 503
            return Health(status="degraded", database="unreachable", detail=str(exc))
        return Health(status="ok", database="ok")

    latest = JoinedRead(lambda: latest_values(pool))

    @app.get("/api/v1/live", response_model=LiveResponse, tags=["live"])
    async def live(who: Caller) -> LiveResponse:
        """The latest value of every point, with unit, timestamp and quality flags."""
        rows = await latest()  # one query for the requests that arrive while it runs
        return LiveResponse(items=[live_value(r) for r in rows if sees(who, r.site)])

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(workflow_router(pool, books or {}))
    app.include_router(event_router(pool))
    app.include_router(input_router(pool, books or {}))
    app.include_router(audit_router(pool))
    app.include_router(catalog_router(pool))
    app.include_router(series_router(pool, intervals or {}))
    app.include_router(ledger_router(pool, books or {}))
    app.include_router(factor_router(pool))
    app.include_router(stream_router(LiveFeed(pool)))
    # The dashboard (api/dashboard.py) and the reads it needs beyond the others.
    app.include_router(me_router())
    app.include_router(flow_router(pool))
    app.include_router(device_router(pool, registry, intervals or {}))
    app.include_router(history_router(pool, books or {}))
    install_dashboard(app)
    app.add_middleware(RequestMetrics, metrics=HttpMetrics(registry))
    return app


class ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: the composition root owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(app: FastAPI, host: str, port: int) -> ApiServer:
    # httptools, not h11: parsing and writing in C halves the HTTP cost of a big answer
    # (a month of hourly buckets is 170 kB; bench api_series).
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", http="httptools"
    )
    return ApiServer(config)
