"""The bundled example plant: every meter is simulated and every point reaches the store."""

import asyncio
import uuid
from pathlib import Path

import psycopg

from meterledger.backfill import backfill, backfill_config
from meterledger.config import PlantConfig, load_config
from meterledger.settings import Settings
from meterledger.simulate import parse_instant

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plant.yaml"


def on_free_ports(config: PlantConfig) -> PlantConfig:
    """The example on free ports, topics and collector session of its own.

    So that a `make run` of the example on the same machine and broker stays out of it.
    """
    run = uuid.uuid4().hex
    modbus = tuple(s.model_copy(update={"port": 0}) for s in config.sources.modbus)
    mqtt = tuple(s.model_copy(update={"topic": f"{run}/{s.topic}"}) for s in config.sources.mqtt)
    sources = config.sources.model_copy(update={"modbus": modbus, "mqtt": mqtt})
    collector = config.collector.model_copy(update={"client_id": f"example-{run}"})
    return config.model_copy(update={"sources": sources, "collector": collector})


async def test_every_point_of_the_example_plant_is_simulated_and_collected(
    database_url: str, mqtt_url: str, tmp_path: Path
) -> None:
    config = load_config(EXAMPLE)
    assert set(config.simulation.meters) == set(config.meters()), "every meter is simulated"
    start = parse_instant("2026-03-02T11:00", "Asia/Shanghai")  # a Monday morning
    plant = on_free_ports(backfill_config(EXAMPLE, config, start, start + 7200, 300))
    settings = Settings(database_url=database_url, mqtt_url=mqtt_url, data_dir=tmp_path)
    result = await asyncio.wait_for(
        backfill(plant, settings, (start, start + 7200), 3600, 300, asyncio.Event()), 60
    )
    assert result.coverage > 0.9, result
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """SELECT m.key, p.key, count(r.ts), bool_and(r.quality = 0)
               FROM point p JOIN meter m ON m.id = p.meter_id
               LEFT JOIN reading r ON r.point_id = p.id GROUP BY 1, 2"""
        ).fetchall()
    points = {(m.id, p.id) for _, m in config.meters().values() for p in m.points}
    assert {(meter, point) for meter, point, *_ in rows} == points
    silent = [(meter, point) for meter, point, count, _ in rows if count < 20]
    assert silent == [], "every point has most of its 25 readings"
    flagged = [(meter, point) for meter, point, _, good in rows if not good]
    assert flagged == [], "and they are all good"
