"""The ledger's scheduler: close every month that ended, in each site's time zone.

One leader at a time: the scheduler holds a PostgreSQL advisory lock on its own pooled
connection for as long as it runs; another instance stands by and takes over when the
lock frees (its holder died or stopped). Jobs derive their work from the database
(`ledger.schedule.months_due`), so missed or doubled triggers are harmless; each also
runs once at start, which is how downtime is caught up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from ledger import closing
from ledger.close import SiteBook
from ledger.periods import Month
from ledger.schedule import months_due
from meterledger.books import LedgerConfig
from meterledger.errors import MeterledgerError
from store.ledger_inputs import StoreLedgerInputs
from store.rollup_source import StoreRollupSource
from store.statements import (
    StoreStatements,
    approved_periods,
    closed_periods,
    first_reading,
    record_pending,
)

log = logging.getLogger(__name__)

LEADER_LOCK = 0x6C656467  # "ledg"
STANDBY_RETRY = 30.0  # seconds between attempts to become leader


class LedgerScheduler:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        books: Mapping[str, SiteBook],
        ledger: LedgerConfig,
        *,
        standby_retry: float = STANDBY_RETRY,
    ) -> None:
        self.leading = False
        self._standby_retry = standby_retry
        self._pool = pool
        self._books = books
        self._ledger = ledger
        self._readings = StoreRollupSource(pool)
        self._statements = StoreStatements(pool)
        self._inputs = StoreLedgerInputs(pool)  # manual entries, instruments, production

    async def run(self) -> None:
        """Lead when the lock is free, stand by otherwise; until cancelled."""
        async with self._pool.connection() as conn:
            await conn.set_autocommit(True)
            while not await _try_lock(conn):
                log.info("another scheduler leads; standing by")
                await asyncio.sleep(self._standby_retry)
            self.leading = True
            try:
                await self._lead()
            finally:
                self.leading = False
                await conn.execute("SELECT pg_advisory_unlock(%s)", (LEADER_LOCK,))

    async def _lead(self) -> None:
        scheduler = AsyncIOScheduler()
        for site, book in self._books.items():
            trigger = CronTrigger(
                day=self._ledger.close_day, hour=self._ledger.close_hour, timezone=book.zone
            )
            scheduler.add_job(
                self.close_due,
                trigger,
                args=[site],
                id=f"close:{site}",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=6 * 3600,
            )
            daily = CronTrigger(hour=self._ledger.close_hour, minute=30, timezone=book.zone)
            scheduler.add_job(
                self.check_approved,
                daily,
                args=[site],
                id=f"restate:{site}",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=6 * 3600,
            )
        scheduler.start()
        log.info("scheduler leads: closing months for %s", sorted(self._books))
        try:
            for site in self._books:
                await self.close_due(site)
                await self.check_approved(site)
            await asyncio.Event().wait()  # until cancelled
        finally:
            scheduler.shutdown(wait=False)

    async def close_due(self, site: str) -> list[str]:
        """Close the site's ended, unclosed months; return them. Errors are logged, not raised."""
        book = self._books[site]
        done = []
        try:
            due = months_due(
                book.zone,
                datetime.now(UTC),
                await first_reading(self._pool, site),
                await closed_periods(self._pool, site),
            )
            for month in due:
                stored = await closing.close(
                    book, month, self._readings, self._statements, inputs=self._inputs
                )
                log.info("closed %s %s as a draft (version %d)", site, month, stored.version)
                done.append(str(month))
        except MeterledgerError as exc:
            log.error("closing %s failed; the next run tries again: %s", site, exc)
        return done

    async def check_approved(self, site: str) -> list[str]:
        """Record which approved months would change if computed now; return them."""
        book = self._books[site]
        changed = []
        try:
            for period in await approved_periods(self._pool, site):
                latest = await self._statements.latest(site, period)
                assert latest is not None  # approved_periods found it
                changes = await closing.changes_since(
                    book, Month.parse(period), self._readings, latest, self._inputs
                )
                await record_pending(self._pool, site, period, latest.version, changes)
                if changes:
                    log.warning(
                        "%s %s is approved but would change: restatement pending", site, period
                    )
                    changed.append(period)
        except MeterledgerError as exc:
            log.error("checking approved months of %s failed: %s", site, exc)
        return changed


async def _try_lock(conn: AsyncConnection[tuple[object, ...]]) -> bool:
    cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,))
    row = await cur.fetchone()
    return bool(row and row[0])
