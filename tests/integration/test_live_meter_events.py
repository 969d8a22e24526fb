"""A meter event recorded while the collector runs reaches its validators, not only at restart."""

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from waiting import eventually

from meterledger.bootstrap import Runtime, run_system
from meterledger.config import PlantConfig, load_config
from meterledger.settings import Settings
from store.events import MeterEvent, record_event
from store.pool import open_pool
from store.quality import Quality

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"


def gas_only(isolate: Callable[[PlantConfig], PlantConfig]) -> PlantConfig:
    """The small plant's gas meter over MQTT, published by the test; events looked up often."""
    config = isolate(load_config(PLANT))
    mqtt_sources = tuple(s.model_copy(update={"simulated": False}) for s in config.sources.mqtt)
    sources = config.sources.model_copy(update={"modbus": (), "mqtt": mqtt_sources})
    collector = config.collector.model_copy(update={"event_poll_interval": 0.2})
    return config.model_copy(update={"sources": sources, "collector": collector})


def qualities(database_url: str) -> dict[float, int]:
    """Quality of every stored gas volume reading, by value."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """SELECT r.value, r.quality FROM reading r JOIN point p ON p.id = r.point_id
               WHERE p.key = 'volume'"""
        ).fetchall()
    return dict(rows)


async def test_replacement_recorded_while_running_makes_the_next_fall_a_reset(
    database_url: str, mqtt_url: str, isolate: Callable[[PlantConfig], PlantConfig], tmp_path: Path
) -> None:
    config = gas_only(isolate)
    (source,) = config.sources.mqtt
    settings = Settings(database_url=database_url, mqtt_url=mqtt_url, data_dir=tmp_path)
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    running = asyncio.create_task(
        run_system(config, settings, stop, parts=frozenset({"collect"}), on_ready=ready.set_result)
    )
    parts = urlsplit(mqtt_url)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2)
    publisher.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    publisher.loop_start()
    start = datetime.fromtimestamp(time.time() // 1 - 60, UTC)

    def publish(seconds: int, volume: float) -> None:
        body = {
            "ts": (start + timedelta(seconds=seconds)).isoformat(),
            "values": {"volume": volume},
        }
        publisher.publish(source.topic_for("boiler-gas"), orjson.dumps(body), qos=1)

    try:
        runtime = await asyncio.wait_for(ready, 30)
        await eventually(lambda: runtime.subscriber is not None and runtime.subscriber.subscribed)
        for second, volume in ((0, 1000.0), (1, 1000.5), (2, 2.0)):  # 2.0: nothing explains it
            publish(second, volume)
        await eventually(lambda: len(qualities(database_url)) == 3)

        pool = await open_pool(database_url)
        try:
            swap = MeterEvent(
                "test-site", "boiler-gas", start + timedelta(seconds=2.5), "replacement",
                point="volume", old_value=1000.6, new_value=2.9,
            )  # fmt: skip
            assert await record_event(pool, swap)
        finally:
            await pool.close()
        noted = "meterledger_meter_events_noted_total"
        await eventually(lambda: runtime.registry.get_sample_value(noted) == 1.0)
        publish(3, 3.0)
        publish(4, 3.1)
        await eventually(lambda: len(qualities(database_url)) == 5)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
        publisher.loop_stop()
        publisher.disconnect()

    assert qualities(database_url) == {
        1000.0: 0,
        1000.5: 0,
        2.0: int(Quality.GLITCH),  # before the event was recorded
        3.0: int(Quality.COUNTER_RESET),  # the new meter's first reading after it
        3.1: 0,
    }
