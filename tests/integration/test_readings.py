from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from meterledger.config import load_config
from store.catalog import PointRef, sync_catalog
from store.migrate import migrate
from store.pool import open_pool
from store.readings import Reading, latest_values, write_readings

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"
T0 = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)


@pytest.fixture
def point_ids(database_url: str) -> dict[PointRef, int]:
    migrate(database_url)
    return sync_catalog(database_url, load_config(PLANT).sites)


def test_catalog_sync_is_stable_across_runs(database_url: str, point_ids: dict) -> None:  # type: ignore[type-arg]
    again = sync_catalog(database_url, load_config(PLANT).sites)
    assert again == point_ids
    assert PointRef("test-site", "grid-main", "energy_import") in point_ids


async def test_a_reading_delivered_twice_is_stored_once(
    database_url: str, point_ids: dict[PointRef, int]
) -> None:
    energy = point_ids[PointRef("test-site", "grid-main", "energy_import")]
    batch = [Reading(energy, T0 + timedelta(seconds=i), 1000.0 + i) for i in range(100)]
    pool = await open_pool(database_url)
    try:
        assert await write_readings(pool, batch) == 100
        assert await write_readings(pool, batch[50:] + batch[:10]) == 0
        assert await write_readings(pool, [*batch[:1], *batch[:1]]) == 0
        latest = {v.point_id: v for v in await latest_values(pool)}
    finally:
        await pool.close()
    assert latest[energy].value == 1099.0
    assert latest[energy].ts == T0 + timedelta(seconds=99)
    assert latest[energy].quality == 0


async def test_latest_lists_points_without_readings_too(
    database_url: str, point_ids: dict[PointRef, int]
) -> None:
    pool = await open_pool(database_url)
    try:
        rows = await latest_values(pool)
    finally:
        await pool.close()
    assert len(rows) == len(point_ids)
    assert all(r.value is None and r.ts is None for r in rows)
    assert {(r.meter, r.point, r.unit) for r in rows} >= {("boiler-gas", "volume", "Nm3")}


async def test_latest_of_one_site_lists_its_points_only(
    database_url: str, point_ids: dict[PointRef, int]
) -> None:
    pool = await open_pool(database_url)
    try:
        ours = await latest_values(pool, "test-site")
        nobody = await latest_values(pool, "no-such-site")
    finally:
        await pool.close()
    assert {r.point_id for r in ours} == {
        pid for ref, pid in point_ids.items() if ref.site == "test-site"
    }
    assert nobody == []
