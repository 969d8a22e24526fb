"""api_mtd: the month-to-date ledger of the example plant over HTTP, next to a close of it.

Ours: ``GET /api/v1/sites/shenyang-dairy/month-to-date``: the current month's statement
up to now, from the example plant's 27 points read every 15 minutes since the month began
(`bench.api_plant`), computed by the code that closes months, rendered as JSON with the
factor citations: the product's app in one uvicorn process (`bench.api_server`), asked
back to back over one keep-alive connection (`bench.api_load`).

Ceiling: the month close's computation on the same data: `ledger.close.compute_statement`
over `StoreRollupSource` and `StoreLedgerInputs` up to the same instant, in this process,
as ``meterledger ledger close`` runs it (less sealing and storing, a few ms). Run
alternately with ours, and the medians compared.

Printed: our milliseconds per answer, with the close's; ratio = close / ours (1.00: the
HTTP answer costs no more than computing the month). No goal was set; it shows what a
dashboard's refresh of the month-to-date panel costs.
"""

from __future__ import annotations

import logging
import statistics
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from psycopg_pool import AsyncConnectionPool

from bench.api_served import loader, measure, served_api
from bench.report import Result
from bench.services import Services
from ledger.close import SiteBook, compute_statement
from ledger.periods import Month
from store.ledger_inputs import StoreLedgerInputs
from store.pool import open_pool
from store.rollup_source import StoreRollupSource

SECONDS = 5.0
CLOSES = 5
ROUNDS = 3

log = logging.getLogger(__name__)


async def run(services: Services) -> Result:
    api_ms: list[float] = []
    close_ms: list[float] = []
    async with served_api(services) as api, loader(services) as load:
        book = api.plant.books()[api.plant.site]
        path = f"/api/v1/sites/{api.plant.site}/month-to-date"
        await measure(load, api, path, 1.0, connections=1)  # warm the server's caches
        pool = await open_pool(services.database_url)
        try:
            for _ in range(ROUNDS):
                answered = await measure(load, api, path, SECONDS, connections=1)
                api_ms.append(answered["seconds"] * 1e3 / answered["requests"])
                close_ms.append(await _close_ms(pool, book))
        finally:
            await pool.close()
    log.info("api_mtd: API %s ms, close %s ms", _shown(api_ms), _shown(close_ms))
    ours, ceiling = statistics.median(api_ms), statistics.median(close_ms)
    unit = f"ms a month-to-date answer (month close of the same data {ceiling:.0f} ms)"
    return Result("api_mtd", ours, unit, ceiling / ours)


async def _close_ms(pool: AsyncConnectionPool, book: SiteBook) -> float:
    """Median milliseconds of computing the month as a close does, up to now."""
    readings, inputs = StoreRollupSource(pool), StoreLedgerInputs(pool)
    times = []
    for _ in range(CLOSES):
        now = datetime.now(UTC)
        month = Month.of(now.astimezone(ZoneInfo(book.zone)).date())
        started = time.perf_counter()
        await compute_statement(book, month, readings, inputs=inputs, computed_at=now, until=now)
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def _shown(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)
