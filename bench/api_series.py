"""api_series: a month of 1-minute readings of one counter as 744 hourly buckets, over HTTP.

Ours: ``GET /api/v1/points/{id}/series?from=…&to=…&resolution=1h`` for last month (Asia/
Shanghai) of the example plant's grid import counter, read every minute (`bench.api_plant`):
the product's app in one uvicorn process (`bench.api_server`), one keep-alive connection
asking again as soon as it has the answer (`bench.api_load`), token check included. Each
bucket is the counter's consumption by the ledger's rule, its coverage and reading count.

Ceiling: the bare SQL statement that produces the same rows (each boundary's value from
the accepted readings either side, interpolated; consumption as the difference of
consecutive boundaries; coverage and count from ``reading_hourly``), run by psycopg from
this process (JIT off, see `_sql_ms`) and fetched: what the answer costs the database
alone. Its consumption is checked against ours, bucket by bucket.

The bare statement reads the raw readings, as anyone would without meterledger; ours
reads the same boundaries from ``reading_hourly``'s first and last reading of each hour
(migration 0010), kept at ingest, so its database part is a fifth of the bare one's and
most of our time is Python, JSON and HTTP. Both give the same rows, checked above.

Printed: our milliseconds per answer, with the bare query's; ratio = query / ours.
Goal: ratio >= 0.7.
"""

from __future__ import annotations

import logging
import statistics
import time
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import psycopg

from bench.api_served import Served, loader, measure, served_api
from bench.report import Result
from bench.services import Services
from ledger.periods import local_midnight
from store.quality import REJECTED

SECONDS = 5.0
QUERY_RUNS = 30
ROUNDS = 3

log = logging.getLogger(__name__)

#: The same buckets as the API's: boundaries on whole local hours, each valued from the
#: accepted readings around it, the first and last clipped to the month.
BARE = f"""
WITH b AS (
    SELECT t FROM generate_series(%(start)s::timestamptz, %(end)s::timestamptz, '1 hour') t
), v AS (
    SELECT b.t,
           CASE WHEN aft.ts = b.t THEN aft.value
                ELSE bef.value + (aft.value - bef.value)
                     * extract(epoch FROM b.t - bef.ts) / extract(epoch FROM aft.ts - bef.ts)
           END AS value
    FROM b
    LEFT JOIN LATERAL (
        SELECT ts, value FROM reading
        WHERE point_id = %(p)s AND ts < b.t AND quality & {int(REJECTED)} = 0
        ORDER BY ts DESC LIMIT 1) bef ON true
    LEFT JOIN LATERAL (
        SELECT ts, value FROM reading
        WHERE point_id = %(p)s AND ts >= b.t AND quality & {int(REJECTED)} = 0
        ORDER BY ts LIMIT 1) aft ON true
), d AS (
    SELECT t, lead(t) OVER w AS t_end, lead(value) OVER w - value AS consumption FROM v
    WINDOW w AS (ORDER BY t)
)
SELECT d.t, d.t_end, d.consumption, coalesce(h.n, 0),
       least(coalesce(h.n, 0) * %(expected)s, 3600) / 3600.0
FROM d LEFT JOIN reading_hourly h ON h.point_id = %(p)s AND h.hour = d.t
WHERE d.t_end IS NOT NULL ORDER BY d.t"""


async def run(services: Services) -> Result:
    async with served_api(services) as api, loader(services) as load:
        plant = api.plant
        start = local_midnight(plant.zone, plant.last_month.first_day)
        end = local_midnight(plant.zone, plant.last_month.next().first_day)
        params = {"from": start.isoformat(), "to": end.isoformat(), "resolution": "1h"}
        path = f"/api/v1/points/{plant.series_point}/series?{urlencode(params)}"
        body = await _answer(api, path)
        rows = await _bare_rows(services.database_url, plant.series_point, start, end)
        _same(body, rows)
        api_ms, sql_ms = [], []
        for _ in range(ROUNDS):  # alternately, so a change in the machine's load hits both
            answered = await measure(load, api, path, SECONDS, connections=1)
            api_ms.append(answered["seconds"] * 1e3 / answered["requests"])
            sql_ms.append(await _sql_ms(services.database_url, plant.series_point, start, end))
    log.info("api_series: API %s ms, bare SQL %s ms", _shown(api_ms), _shown(sql_ms))
    ours, ceiling = statistics.median(api_ms), statistics.median(sql_ms)
    unit = f"ms for 744 hourly buckets of 1-minute data (bare SQL {ceiling:.1f} ms)"
    return Result("api_series", ours, unit, ceiling / ours, decimals=1)


async def _answer(api: Served, path: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {api.token}"}
    async with httpx.AsyncClient(base_url=api.base_url, headers=headers, timeout=60) as client:
        response = await client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"the series answered {response.status_code}: {response.text[:300]}")
    body: dict[str, Any] = response.json()
    return body


async def _bare_rows(
    database_url: str, point: int, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    params = {"p": point, "start": start, "end": end, "expected": 60.0}
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cur = await conn.execute(BARE, params)
        return await cur.fetchall()


async def _sql_ms(database_url: str, point: int, start: datetime, end: datetime) -> float:
    """Median milliseconds of the bare statement, executed and fetched."""
    params = {"p": point, "start": start, "end": end, "expected": 60.0}
    times = []
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        # The planner guesses 1000 rows for generate_series, prices the plan past
        # jit_above_cost and spends ~70 ms compiling a 30 ms query; the product's
        # statement stays below it. A ceiling must be the query at its best.
        await conn.execute("SET jit = off")
        await (await conn.execute(BARE, params)).fetchall()  # plan and cache once
        for _ in range(QUERY_RUNS):
            started = time.perf_counter()
            cur = await conn.execute(BARE, params)
            await cur.fetchall()
            times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def _same(body: dict[str, Any], rows: list[tuple[Any, ...]]) -> None:
    """The bare query must state what the API states, or the comparison means nothing."""
    buckets = body["buckets"]
    if len(buckets) != len(rows) or body["next_cursor"] is not None:
        raise RuntimeError(f"{len(buckets)} buckets from the API, {len(rows)} from SQL")
    for bucket, (start, _, consumption, count, _) in zip(buckets, rows, strict=True):
        ours = Decimal(bucket["consumption"])
        if datetime.fromisoformat(bucket["start"]) != start or bucket["readings"] != count:
            raise RuntimeError(f"bucket {bucket['start']} differs from the bare query's {start}")
        if abs(ours - Decimal(repr(consumption))) > Decimal("1e-6"):
            raise RuntimeError(f"bucket {bucket['start']}: {ours} by the API, {consumption} by SQL")


def _shown(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)
