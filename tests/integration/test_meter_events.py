"""Meter events are recorded once, by catalog keys, and refused for unknown meters."""

from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from meterledger.config import load_config
from meterledger.errors import StoreError
from store.catalog import PointRef, sync_catalog
from store.events import MeterEvent, counter_discontinuities, record_event
from store.migrate import migrate
from store.pool import open_pool

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"
AT = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


async def test_a_replacement_is_recorded_once_and_hits_its_counter(database_url: str) -> None:
    migrate(database_url)
    ids = sync_catalog(database_url, load_config(PLANT).sites)
    counter = ids[PointRef("test-site", "grid-main", "energy_import")]
    event = MeterEvent(
        "test-site",
        "grid-main",
        AT,
        "replacement",
        point="energy_import",
        old_value=123.5,
        new_value=0.0,
        detail={"serial": "NEW-1"},
        recorded_by="test",
    )
    pool = await open_pool(database_url)
    try:
        assert await record_event(pool, event) is True
        assert await record_event(pool, event) is False  # the same event again: kept once
        assert (counter, AT) in await counter_discontinuities(pool)
        with pytest.raises(StoreError, match="test-site/grid-main/no_such_point"):
            await record_event(
                pool, MeterEvent("test-site", "grid-main", AT, "reset", point="no_such_point")
            )
        with pytest.raises(StoreError, match="test-site/nowhere"):
            await record_event(pool, MeterEvent("test-site", "nowhere", AT, "reset"))
    finally:
        await pool.close()
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT old_value, new_value, detail, recorded_by FROM meter_event"
        ).fetchall()
    assert rows == [(123.5, 0.0, {"serial": "NEW-1"}, "test")]
