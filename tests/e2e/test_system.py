"""Simulator -> collector -> store -> API, in-process, on the real database and broker."""

import asyncio
import struct
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from meterledger.bootstrap import Runtime, run_system
from meterledger.config import PlantConfig, load_config
from meterledger.settings import Settings
from store.quality import Quality

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"


def float32(value: float) -> float:
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


@pytest.fixture
async def system(
    database_url: str,
    mqtt_url: str,
    tmp_path: Path,
    isolate: Callable[[PlantConfig], PlantConfig],
) -> AsyncIterator[Runtime]:
    settings = Settings(database_url=database_url, mqtt_url=mqtt_url, data_dir=tmp_path)
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_system(
            isolate(load_config(PLANT)),
            settings,
            stop,
            on_ready=ready.set_result,
            local_admin=True,
        )
    )
    runtime = await asyncio.wait_for(ready, 30)
    yield runtime
    stop.set()
    await asyncio.wait_for(task, 10)


def api_client(system: Runtime) -> httpx.AsyncClient:
    """A client of the system's API with the local admin token `run` keeps."""
    headers = {"Authorization": f"Bearer {system.admin_token}"}
    return httpx.AsyncClient(base_url=system.api_url or "", headers=headers)


async def live(client: httpx.AsyncClient) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    response = await client.get("/api/v1/live")
    response.raise_for_status()
    return {(i["meter"], i["point"]): i for i in response.json()["items"]}


async def wait_for_values(client: httpx.AsyncClient, *keys: tuple[str, str]) -> dict:  # type: ignore[type-arg]
    for _ in range(150):
        items = await live(client)
        if all(items[k]["value"] is not None for k in keys):
            return items
        await asyncio.sleep(0.1)
    raise AssertionError(f"no values for {keys} within 15 s: {items}")


async def test_api_serves_what_the_simulated_meters_exposed(system: Runtime) -> None:
    async with api_client(system) as client:
        items = await wait_for_values(
            client, ("grid-main", "energy_import"), ("boiler-gas", "volume")
        )
        health = (await client.get("/healthz")).json()
        schema = (await client.get("/openapi.json")).json()

    energy = items[("grid-main", "energy_import")]
    assert energy["unit"] == "kWh"
    assert energy["kind"] == "counter"
    assert energy["quality"] == ["good"]
    ts = energy_ts = _epoch(energy["ts"])
    sdm = system.modbus_simulators[0]
    served = [e.values["import_energy"] for e in sdm.exposed if e.unit_id == 1 and e.at == ts]
    assert served, f"the simulator exposed nothing at the reading's tick {energy_ts}"
    assert energy["value"] == float32(served[0])
    assert energy["value"] == float32(system.models["grid-main"].values_at(ts)["import_energy"])

    gas = items[("boiler-gas", "volume")]
    assert gas["unit"] == "Nm3"
    published = [
        p.values["volume"] for p in system.mqtt_simulators[0].published if p.at == _epoch(gas["ts"])
    ]
    assert published == [gas["value"]]  # float64 end to end: exact

    assert items[("dead-meter", "energy_import")]["value"] is None
    assert health == {"status": "ok", "database": "ok", "detail": None}
    assert "/api/v1/live" in schema["paths"]


async def test_a_message_delivered_twice_is_stored_once(system: Runtime) -> None:
    async with api_client(system) as client:
        items = await wait_for_values(client, ("boiler-gas", "volume"))
    gateway = system.mqtt_simulators[0]
    again = gateway.published[-1].at
    gateway.publish_all(again)  # the same reading, sent a second time
    gateway.publish_all(again)
    await asyncio.sleep(1.0)
    point = items[("boiler-gas", "volume")]["point_id"]
    with psycopg.connect(system.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM reading WHERE point_id = %s AND ts = to_timestamp(%s)",
            (point, again),
        ).fetchone()
    assert row == (1,)


async def test_bad_payloads_become_dead_letters_and_glitches_are_flagged(
    system: Runtime,
) -> None:
    async with api_client(system) as client:
        items = await wait_for_values(client, ("boiler-gas", "volume"))
    point = items[("boiler-gas", "volume")]["point_id"]
    topic = system.mqtt_simulators[0].topics["boiler-gas"]
    last = system.mqtt_simulators[0].published[-1]
    glitch_at = last.at + 0.5  # between two of the gateway's seconds
    parts = urlsplit(system.mqtt_url or "")
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(parts.hostname or "", parts.port or 1883)
    client.loop_start()
    try:
        client.publish(topic, b'{"values": {"volume": "lots"}}', qos=1)
        glitch = {"ts": glitch_at, "values": {"volume": 0.0}}
        client.publish(topic, orjson.dumps(glitch), qos=1).wait_for_publish()
    finally:
        client.loop_stop()
        client.disconnect()

    def stored() -> tuple[list[tuple], list[tuple]]:  # type: ignore[type-arg]
        with psycopg.connect(system.database_url or "") as conn:
            letters = conn.execute("SELECT topic, payload, reason FROM dead_letter").fetchall()
            flagged = conn.execute(
                "SELECT value, quality FROM reading WHERE point_id = %s AND ts = to_timestamp(%s)",
                (point, glitch_at),
            ).fetchall()
        return letters, flagged

    for _ in range(50):
        letters, flagged = stored()
        if letters and flagged:
            break
        await asyncio.sleep(0.2)
    assert letters == [
        (
            topic,
            b'{"values": {"volume": "lots"}}',
            "values.volume: expected a finite number, got 'lots'",
        )
    ]
    assert flagged == [(0.0, int(Quality.GLITCH))]


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
