"""The batched write: a COPY straight into the table, or the careful way when rows repeat."""

import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from meterledger.config import load_config
from store.catalog import PointRef, sync_catalog
from store.migrate import migrate
from store.pool import open_pool
from store.quality import Quality
from store.reading_rows import ReadingRow, to_us
from store.readings import Reading, write_readings, write_rows

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"
T0 = datetime(2026, 3, 29, 0, 59, 30, 250_001, tzinfo=UTC)  # 30 s before an hour ends


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[AsyncConnectionPool]:
    migrate(database_url)
    opened = await open_pool(database_url)
    yield opened
    await opened.close()


@pytest.fixture
def points(database_url: str, pool: AsyncConnectionPool) -> tuple[int, int]:
    ids = sync_catalog(database_url, load_config(PLANT).sites)
    grid = ids[PointRef("test-site", "grid-main", "energy_import")]
    return grid, ids[PointRef("test-site", "grid-main", "power")]


def rows(point: int, first: int, count: int, quality: int = 0) -> list[ReadingRow]:
    """One row a second from T0 + ``first`` s, valued by its second."""
    return [
        (point, to_us(T0) + (first + i) * 1_000_000, float(first + i), quality)
        for i in range(count)
    ]


def stored(url: str) -> list[tuple[int, datetime, float, int]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT * FROM reading ORDER BY point_id, ts").fetchall()


def hourly(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT point_id, hour, n, sum, min, max, first_ts, last_ts, first_value,"
            " first_quality, last_value, last_quality FROM reading_hourly"
            " ORDER BY point_id, hour"
        ).fetchall()


def recomputed(url: str) -> list[tuple[object, ...]]:
    """The hourly statistics as migrations 0004 and 0010 compute them from the whole table."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            """SELECT point_id, date_trunc('hour', ts, 'UTC'), count(*), sum(value), min(value),
                      max(value), min(ts), max(ts),
                      (array_agg(value ORDER BY ts))[1], (array_agg(quality ORDER BY ts))[1],
                      (array_agg(value ORDER BY ts DESC))[1],
                      (array_agg(quality ORDER BY ts DESC))[1]
               FROM reading WHERE quality & 89 = 0 AND value <> 'NaN'
               GROUP BY 1, 2 ORDER BY 1, 2"""
        ).fetchall()


async def test_new_rows_are_stored_exactly_with_their_hourly_statistics(
    database_url: str, pool: AsyncConnectionPool, points: tuple[int, int]
) -> None:
    grid, power = points
    batch = rows(grid, 0, 60) + rows(power, 0, 60, int(Quality.STUCK))
    batch += [(power, to_us(T0) + 61_000_000, math.nan, 0)]  # NaN: stored, not counted
    batch += rows(power, 62, 1, int(Quality.SPIKE))  # rejected: stored, not counted
    assert await write_rows(pool, batch) == len(batch)
    got = stored(database_url)
    assert len(got) == len(batch)
    assert got[0] == (grid, T0, 0.0, 0)  # to the microsecond
    assert got[-1][1:] == (T0 + timedelta(seconds=62), 62.0, int(Quality.SPIKE))
    statistics = hourly(database_url)
    assert statistics == recomputed(database_url)
    hour = datetime(2026, 3, 29, 0, tzinfo=UTC)
    next_hour = hour + timedelta(hours=1)
    assert [row[:3] for row in statistics] == [
        (grid, hour, 30),
        (grid, next_hour, 30),
        (power, hour, 30),  # STUCK readings are accepted ones
        (power, next_hour, 30),
    ]


async def test_a_batch_with_stored_rows_stores_only_the_new_ones(
    database_url: str, pool: AsyncConnectionPool, points: tuple[int, int]
) -> None:
    grid, _ = points
    assert await write_rows(pool, rows(grid, 0, 40)) == 40
    # Half already stored (a redelivery after a crash), plus a repeat inside the batch.
    again = rows(grid, 20, 40) + rows(grid, 50, 1)
    assert await write_rows(pool, again) == 20
    assert [r[2] for r in stored(database_url)] == [float(s) for s in range(60)]
    assert hourly(database_url) == recomputed(database_url)  # nothing counted twice
    assert await write_rows(pool, again) == 0


async def test_late_rows_move_an_hours_first_and_last_reading(
    database_url: str, pool: AsyncConnectionPool, points: tuple[int, int]
) -> None:
    """What the series reads as the counter around a boundary follows late and early rows."""
    grid, _ = points
    wrap = int(Quality.COUNTER_WRAP)
    await write_rows(pool, rows(grid, 10, 10))  # seconds 10-19: 00:59:40 to 00:59:49
    await write_rows(pool, rows(grid, 2, 3, wrap) + rows(grid, 25, 2))  # earlier and later
    await write_rows(pool, rows(grid, 1, 1) + rows(grid, 2, 1))  # the staged path: one repeat
    await write_rows(pool, rows(grid, 0, 1, int(Quality.SPIKE)))  # rejected: not the first
    first_hour = hourly(database_url)[0]
    assert first_hour[6:] == (
        T0 + timedelta(seconds=1),
        T0 + timedelta(seconds=26),
        1.0,
        0,
        26.0,
        0,
    )
    assert hourly(database_url) == recomputed(database_url)


async def test_readings_and_rows_are_the_same_write(
    database_url: str, pool: AsyncConnectionPool, points: tuple[int, int]
) -> None:
    grid, _ = points
    assert await write_readings(pool, [Reading(grid, T0, 1.5, 2)]) == 1
    assert await write_rows(pool, [(grid, to_us(T0), 1.5, 2)]) == 0
    assert stored(database_url) == [(grid, T0, 1.5, 2)]
