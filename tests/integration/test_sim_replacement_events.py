"""A backfill of the faults plant records its meter replacement as a meter event, with the
old meter's final reading and the new one's first, and the collector expects the fall."""

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from waiting import eventually

from meterledger.backfill import backfill, backfill_config, ground_truth_report
from meterledger.bootstrap import wiring
from meterledger.config import PlantConfig, load_config
from meterledger.settings import Settings
from meterledger.simulated_events import record_replacements
from simulators.clock import SimClock
from simulators.plant import build_models
from store.catalog import sync_catalog
from store.migrate import migrate
from store.pool import open_pool
from store.quality import REJECTED, Quality

PLANT = Path(__file__).resolve().parents[1] / "plants" / "faults.yaml"
START = datetime.fromisoformat("2026-03-02T00:30:00+01:00").timestamp()
SWAP = datetime.fromisoformat("2026-03-02T01:00:00+01:00")  # the plant file's replacement
END = START + 3600
INTERVAL = 300
ORIGIN = datetime.fromisoformat("2026-03-02T00:00:00+01:00").timestamp()


async def test_a_backfill_records_the_replacement_with_the_counters_true_final_reading(
    database_url: str,
    mqtt_url: str,
    tmp_path: Path,
    isolate: Callable[[PlantConfig], PlantConfig],
) -> None:
    plant = load_config(PLANT)
    config = isolate(backfill_config(PLANT, plant, START, END, INTERVAL))
    settings = Settings(database_url=database_url, mqtt_url=mqtt_url, data_dir=tmp_path)
    result = await asyncio.wait_for(
        backfill(config, settings, (START, END), 720, INTERVAL, asyncio.Event()), 90
    )
    assert result.coverage > 0.9, result
    with psycopg.connect(database_url) as conn:
        events = conn.execute(
            """SELECT m.key, p.key, e.ts, e.kind, e.old_value, e.new_value, e.recorded_by
               FROM meter_event e JOIN meter m ON m.id = e.meter_id
               LEFT JOIN point p ON p.id = e.point_id"""
        ).fetchall()
        readings = conn.execute(
            """SELECT r.ts, r.value, r.quality FROM reading r JOIN point p ON p.id = r.point_id
               JOIN meter m ON m.id = p.meter_id
               WHERE m.key = 'grid-main' AND p.key = 'energy_import' ORDER BY r.ts"""
        ).fetchall()
    # The SDM630 binding stores import_energy as energy_import; the plant binds no export.
    ((meter, point, ts, kind, old, new, by),) = events
    assert (meter, point, ts, kind, new, by) == (
        "grid-main", "energy_import", SWAP, "replacement", 0.0, "simulator"
    )  # fmt: skip
    (truth,) = [
        row.value
        for row in ground_truth_report(plant, ORIGIN, SWAP.timestamp(), INTERVAL)
        if (row.meter, row.quantity) == ("grid-main", "import_energy")
    ]
    assert old == pytest.approx(52000 + truth, rel=1e-12)  # initial + what flowed since origin
    before = [(ts, v) for ts, v, _ in readings if ts < SWAP]
    after = [(ts, v, q) for ts, v, q in readings if ts >= SWAP]
    assert before
    assert after
    assert all(v > 52000 for _, v in before)
    assert all(v < 200 for _, v, _ in after)  # the new meter counts from 0
    assert 0 < old - max(v for _, v in before) < 20  # counted on after the last poll
    assert after[0][0] == SWAP
    assert after[0][1] == 0.0
    assert after[0][2] & Quality.COUNTER_RESET  # expected: the event was there first
    assert not any(q & REJECTED for *_, q in after)


async def test_a_replacement_ahead_of_a_live_clock_is_recorded_as_the_clock_passes_it(
    database_url: str,
) -> None:
    plant = load_config(PLANT)
    migrate(database_url)
    sync_catalog(database_url, plant.sites)
    clock = SimClock(speed=600, start=SWAP.timestamp() - 30)  # no end: a live run
    models = build_models(plant.simulation, wiring(plant), origin=ORIGIN)
    twins = build_models(plant.simulation, wiring(plant), origin=ORIGIN)
    pool = await open_pool(database_url)
    try:
        tasks = await record_replacements(pool, plant, models, twins, clock)
        assert count_events(database_url) == 0  # not yet: it lies ahead
        (task,) = [asyncio.create_task(coro) for coro in tasks.values()]
        await eventually(lambda: count_events(database_url) == 1, within=5)
        assert clock.now() >= SWAP.timestamp()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        await pool.close()


def count_events(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM meter_event").fetchone()
    assert row is not None
    return int(row[0])
