"""The scheduler closes ended months by itself, once, with one leader at a time."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from meterledger.books import site_books
from meterledger.config import load_config
from meterledger.scheduler import LedgerScheduler
from store.catalog import sync_catalog
from store.migrate import migrate
from store.pool import open_pool
from store.readings import Reading, write_readings
from store.statements import closed_periods

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"


@pytest.fixture
async def pool(database_url: str):  # type: ignore[no-untyped-def]
    migrate(database_url)
    opened = await open_pool(database_url, max_size=4)
    yield opened
    await opened.close()


async def test_close_due_catches_up_every_ended_month_once(database_url: str, pool) -> None:  # type: ignore[no-untyped-def]
    config = load_config(PLANT)
    ids = sync_catalog(database_url, config.sites)
    now = datetime.now(UTC)
    current = now.year * 12 + now.month - 1
    months = [f"{m // 12}-{m % 12 + 1:02d}" for m in range(current - 3, current)]
    start = datetime(int(months[0][:4]), int(months[0][5:]), 20, tzinfo=UTC)
    await write_readings(
        pool,
        [
            Reading(pid, start + timedelta(hours=h), float(h))
            for pid in ids.values()
            for h in range(24)
        ],
    )
    scheduler = LedgerScheduler(pool, site_books(config, ids), config.ledger)
    closed = await scheduler.close_due("test-site")
    assert closed == months  # the three that ended since the first reading
    assert await scheduler.close_due("test-site") == []  # a doubled trigger does nothing
    assert await closed_periods(pool, "test-site") == set(closed)


async def test_only_one_scheduler_leads(database_url: str, pool) -> None:  # type: ignore[no-untyped-def]
    config = load_config(PLANT)
    books = site_books(config, sync_catalog(database_url, config.sites))
    first = LedgerScheduler(pool, books, config.ledger, standby_retry=0.2)
    second = LedgerScheduler(pool, books, config.ledger, standby_retry=0.2)
    leading = asyncio.create_task(first.run())
    for _ in range(50):
        if first.leading:
            break
        await asyncio.sleep(0.1)
    standing_by = asyncio.create_task(second.run())
    await asyncio.sleep(0.6)
    assert first.leading
    assert not second.leading
    leading.cancel()
    await asyncio.gather(leading, return_exceptions=True)
    for _ in range(50):
        if second.leading:
            break
        await asyncio.sleep(0.1)
    assert second.leading, "the stand-by took over when the leader stopped"
    standing_by.cancel()
    await asyncio.gather(standing_by, return_exceptions=True)
