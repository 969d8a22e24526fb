"""A page of whole-hour buckets read from the hours alone equals the one read by probes."""

import math
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool

from api.buckets import window
from meterledger.config import load_config
from store import series
from store.catalog import PointRef, sync_catalog
from store.migrate import migrate
from store.pool import open_pool
from store.quality import Quality
from store.readings import Reading, write_readings

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"
START = datetime(2026, 3, 28, 5, 17, tzinfo=UTC)  # readings begin inside an hour
HOUR = datetime(2026, 3, 28, 5, tzinfo=UTC)  # pages start and end on whole hours
DAYS = 3


def messy(point: int, seed: int) -> list[Reading]:
    """Three days of a counter every 50-70 s: gaps of hours, wraps, rejected and NaN readings."""
    rng = random.Random(seed)
    rows, value, ts = [], 9_000.0, START
    while ts < START + timedelta(days=DAYS):
        ts += timedelta(seconds=rng.choice((60,) * 30 + (50, 70, 3_700, 9_000)))
        value += rng.uniform(0, 3)
        quality = 0
        if value >= 10_000:
            value, quality = value - 10_000, int(Quality.COUNTER_WRAP)
        roll = rng.random()
        if roll < 0.01:
            rows.append(Reading(point, ts, 0.0, int(Quality.GLITCH)))
        elif roll < 0.015:
            rows.append(Reading(point, ts, math.nan, 0))
        else:
            rows.append(Reading(point, ts, round(value, 3), quality))
    return rows


@pytest.fixture
async def filled(database_url: str) -> AsyncIterator[tuple[AsyncConnectionPool, int]]:
    migrate(database_url)
    ids = sync_catalog(database_url, load_config(PLANT).sites)
    point = ids[PointRef("test-site", "grid-main", "energy_import")]
    pool = await open_pool(database_url)
    rows = messy(point, 7)
    random.Random(1).shuffle(rows)  # late and early rows in every batch
    for i in range(0, len(rows), 700):
        await write_readings(pool, rows[i : i + 700])
    yield pool, point
    await pool.close()


@pytest.mark.parametrize("resolution", ["1h", "1d"])
@pytest.mark.parametrize(
    ("first", "last"),
    [
        (HOUR - timedelta(hours=30), HOUR + timedelta(days=DAYS + 1)),  # beyond both ends
        (HOUR + timedelta(hours=7), HOUR + timedelta(days=2, hours=2)),  # inside
    ],
)
async def test_hours_and_probes_give_the_same_page(
    filled: tuple[AsyncConnectionPool, int],
    monkeypatch: pytest.MonkeyPatch,
    resolution: str,
    first: datetime,
    last: datetime,
) -> None:
    pool, point = filled
    page = window(resolution, "Europe/Berlin", first, last, 5000)  # type: ignore[arg-type]
    assert series.hourly_fits(page.bounds)
    expected = timedelta(minutes=1)
    hours = await series.bucket_page(pool, point, page.bounds, expected=expected, brackets=True)
    monkeypatch.setattr(series, "_from_hours", _never)
    probed = await series.bucket_page(pool, point, page.bounds, expected=expected, brackets=True)
    assert hours.edges == probed.edges
    assert hours.stats.keys() == probed.stats.keys()
    for at, ours in hours.stats.items():
        theirs = probed.stats[at]
        assert ours._replace(total=0.0) == theirs._replace(total=0.0)
        assert math.isclose(ours.total, theirs.total, rel_tol=1e-12)
    assert len({e.after_ts for e in hours.edges.values()}) >= 4  # not all one reading
    assert any(e.before_ts is None for e in hours.edges.values()) == (first < START)


async def _never(*_: object) -> None:
    return None


async def test_hours_without_their_edges_fall_back_to_probes(
    filled: tuple[AsyncConnectionPool, int],
) -> None:
    pool, point = filled
    page = window("1h", "Europe/Berlin", HOUR, HOUR + timedelta(days=1), 5000)
    expected = timedelta(minutes=1)
    whole = await series.bucket_page(pool, point, page.bounds, expected=expected, brackets=True)
    async with pool.connection() as conn:  # as hours kept before migration 0010 can be
        await conn.execute(
            "UPDATE reading_hourly SET last_value = NULL WHERE hour = %s",
            (page.bounds[5],),
        )
    again = await series.bucket_page(pool, point, page.bounds, expected=expected, brackets=True)
    assert again.edges == whole.edges
