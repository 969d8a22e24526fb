"""api_live: requests per second of ``GET /api/v1/live`` under 50 connections.

Ours: the latest value of the example plant's 27 points, as a dashboard polls it, from
the product's app served by one uvicorn process (`bench.api_server`), each request
authenticated by its bearer token. Load: 50 keep-alive connections in a closed loop from
a separate process (`bench.api_load`).

Ceiling: ``GET /bench/trivial`` on the same app, in the same server, under the same load:
the same token check and middleware, answering a constant. Run alternately with ours,
``ROUNDS`` times ``SECONDS`` each after a warm-up, and the medians compared.

Printed: our requests/s and p99 latency, with the trivial route's; ratio = ours / trivial.
Goal: ratio >= 0.5.
"""

from __future__ import annotations

import logging
import statistics
from typing import Any

from bench.api_served import loader, measure, served_api
from bench.api_server import TRIVIAL
from bench.report import Result
from bench.services import Services

LIVE = "/api/v1/live"
ROUNDS = 3
SECONDS = 5.0
WARM_UP = 1.0

log = logging.getLogger(__name__)


async def run(services: Services) -> Result:
    async with served_api(services) as api, loader(services) as load:
        for path in (TRIVIAL, LIVE):
            await measure(load, api, path, WARM_UP)
        trivial: list[dict[str, Any]] = []
        live: list[dict[str, Any]] = []
        for _ in range(ROUNDS):
            trivial.append(await measure(load, api, TRIVIAL, SECONDS))
            live.append(await measure(load, api, LIVE, SECONDS))
    for name, runs in (("trivial", trivial), ("live", live)):
        for r in runs:
            log.info(
                "api_live %s: %.0f req/s, p50 %.1f ms, p99 %.1f ms, client CPU %.0f %%",
                name, r["rps"], r["p50_ms"], r["p99_ms"], 100 * r["client_cpu"],
            )  # fmt: skip
    ours, ceiling = _median(live, "rps"), _median(trivial, "rps")
    unit = (
        f"req/s, p99 {_median(live, 'p99_ms'):.0f} ms (trivial route {ceiling:.0f} req/s, "
        f"p99 {_median(trivial, 'p99_ms'):.0f} ms; 50 connections)"
    )
    return Result("api_live", ours, unit, ours / ceiling)


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)
