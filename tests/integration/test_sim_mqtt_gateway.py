"""MQTT faults and batches through a real broker, as a subscriber on it sees them: the
simulated gateway's duplicates, late, swapped, malformed and silent messages, stamps off
by its clock, and batches the collector's decoder reads."""

import asyncio
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import TypeAdapter
from waiting import eventually

from collector.payloads import decode_meterledger_json
from simulators.clock import SimClock
from simulators.fault_config import FaultSpec
from simulators.faults import FaultyMeter
from simulators.meters import MeterModel, WaterMeter
from simulators.mqtt_gateway import SimulatedMqttGateway

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 3, 2, 4, tzinfo=BERLIN).timestamp()
MINUTE = 60.0


class OneCubicMetreAMinute:
    def rate(self, t: float) -> float:
        return 60.0  # m3/h: the counter shows the minutes since T0


def window(first: int, last: int) -> dict[str, str]:
    """Minutes [first, last) after T0."""
    return {
        "from": datetime.fromtimestamp(T0 + first * MINUTE, UTC).isoformat(),
        "to": datetime.fromtimestamp(T0 + last * MINUTE, UTC).isoformat(),
    }


def water(*faults: dict[str, Any]) -> MeterModel:
    model = WaterMeter(OneCubicMetreAMinute(), 0, T0, 60)
    specs = [TypeAdapter(FaultSpec).validate_python({"meter": "water", **f}) for f in faults]
    return FaultyMeter(model, "water", specs) if specs else model


class Listener:
    """A plain subscriber on the broker, keeping each message's bytes in arrival order."""

    def __init__(self, url: str, topic: str) -> None:
        parts = urlsplit(url)
        self.payloads: list[bytes] = []
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda _c, _u, msg: self.payloads.append(bytes(msg.payload))
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        self.client.loop_start()
        assert self._subscribed.wait(5), "no SUBACK"

    def decoded(self) -> list[list[tuple[datetime, float]] | str]:
        """Each message as (stamp, volume) pairs, or "malformed"."""
        out: list[list[tuple[datetime, float]] | str] = []
        for payload in self.payloads:
            try:
                rows = decode_meterledger_json(payload, datetime(2030, 1, 1, tzinfo=UTC))
            except ValueError:
                out.append("malformed")
                continue
            out.append([(ts, value) for ts, point, value in rows if point == "volume"])
        return out

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def topic() -> str:
    return f"{uuid.uuid4().hex[:8]}/water/reading"


@pytest.fixture
def listener(mqtt_url: str, topic: str) -> Iterator[Listener]:
    listening = Listener(mqtt_url, topic)
    yield listening
    listening.stop()


async def publish_minutes(
    mqtt_url: str, topic: str, model: MeterModel, minutes: int, **options: Any
) -> tuple[SimulatedMqttGateway, asyncio.Task[None]]:
    """Run a gateway publishing ``model`` once a simulated minute from T0 for ``minutes``."""
    clock = SimClock(speed=1200, start=T0 - 1e-3, until=T0 + (minutes - 0.5) * MINUTE, paused=True)
    gateway = SimulatedMqttGateway(
        mqtt_url,
        {"water": model},
        {"water": topic},
        {"water": ("volume",)},
        MINUTE,
        clock,
        client_id=f"test-sim-{uuid.uuid4().hex[:8]}",
        **options,
    )
    task = asyncio.create_task(gateway.run())
    await asyncio.sleep(0.3)  # connected
    clock.release()
    return gateway, task


async def test_each_message_fault_reaches_a_subscriber_as_the_plant_file_says(
    mqtt_url: str, topic: str, listener: Listener
) -> None:
    model = water(
        {"kind": "duplicate", "copies": 1, **window(5, 10)},
        {"kind": "late", "delay": 180, **window(10, 15)},
        {"kind": "out_of_order", **window(15, 20)},
        {"kind": "malformed", **window(20, 22)},
        {"kind": "clock_offset", "offset": 300, **window(22, 25)},
        {"kind": "silent", **window(25, 27)},
    )
    gateway, task = await publish_minutes(mqtt_url, topic, model, 30)
    try:
        await eventually(lambda: len(listener.payloads) >= 33, within=20)
        await asyncio.sleep(0.3)  # nothing more is coming
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    got = [m if isinstance(m, str) else m[0][1] for m in listener.decoded()]
    assert got == [
        0, 1, 2, 3, 4,
        5, 5, 6, 6, 7, 7, 8, 8, 9, 9,  # duplicated
        10, 11, 12, 16, 15, 13, 14, 18, 17,  # 10-14 three minutes late; pairs from 15 swapped
        "malformed", 19, "malformed",  # 20 and 21 garbled; 19 still follows 20
        22, 23, 24,  # 25 and 26 silent
        27, 28, 29,
    ]  # fmt: skip
    stamps = {m[0][1]: m[0][0] for m in listener.decoded() if not isinstance(m, str)}
    assert stamps[22] == datetime.fromtimestamp(T0 + 22 * MINUTE + 300, UTC)  # 5 min fast
    assert stamps[27] == datetime.fromtimestamp(T0 + 27 * MINUTE, UTC)
    assert len(gateway.messages) == len(listener.payloads)


async def test_batched_messages_carry_several_instants_the_collector_decodes(
    mqtt_url: str, topic: str, listener: Listener
) -> None:
    gateway, task = await publish_minutes(
        mqtt_url, topic, water(), 8, batch=3, timestamps="local", zones={"water": BERLIN}
    )
    try:
        await eventually(lambda: len(listener.payloads) >= 3, within=20)
        await asyncio.sleep(0.3)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(gateway.messages) == 3
    assert listener.payloads[0].startswith(b'[{"ts":"2026-03-02T04:00:00+01:00"')
    batches = listener.decoded()
    assert [len(b) for b in batches] == [3, 3, 2]  # the last part batch goes when time ends
    readings = [r for batch in batches for r in batch if not isinstance(r, str)]
    assert readings == [
        (datetime.fromtimestamp(T0, UTC) + timedelta(minutes=k), float(k)) for k in range(8)
    ]
