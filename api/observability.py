"""Request counts and latency for Prometheus, by route template, method and status.

Routes are labelled by their template (``/api/v1/points/{point_id}/series``), never by the
path as sent, so the number of series stays bounded whatever clients ask for. Latency is
measured to the response head: for a server-sent event stream the connection's lifetime
is not a latency.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Up to 10 s: a month-to-date ledger of a large site is the slowest read.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class HttpMetrics:
    """The request metrics of one app, registered once in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "meterledger_http_requests",
            "HTTP requests answered, by route template, method and status",
            ("route", "method", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "meterledger_http_request_duration_seconds",
            "Time from a request's arrival to its response head, by route template",
            ("route", "method"),
            buckets=BUCKETS,
            registry=registry,
        )


class RequestMetrics:
    """ASGI middleware counting every HTTP request and timing it to the response head."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before a response starts

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                elapsed = time.perf_counter() - started
                self.metrics.latency.labels(_route(scope), scope["method"]).observe(elapsed)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.requests.labels(_route(scope), scope["method"], str(status)).inc()


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(unmatched)"
