"""Nothing is lost when the broker restarts mid-stream (a private Mosquitto we can stop)."""

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import CollectorRegistry
from waiting import eventually

from collector.config import MqttSourceConfig
from collector.metrics import CollectorMetrics
from collector.mqtt import MqttSubscriber
from collector.spool import Spool
from collector.validation import PointRules, Validator
from meterledger.embedded import free_port

T0 = datetime(2026, 3, 1, tzinfo=UTC)


class Broker:
    """A Mosquitto with persistence that a test can stop and start again on one port."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.port = free_port()
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {folder}/\nuser root\nautosave_interval 1\n"
        )
        self.command = [binary, "-c", str(self.conf)]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            probe = mqtt.Client(CallbackAPIVersion.VERSION2)
            try:
                probe.connect("127.0.0.1", self.port)
                probe.disconnect()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()  # mosquitto saves its persistence file on SIGTERM
        self.process.wait(5)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    server = Broker(tmp_path)
    server.start()
    yield server
    if server.process and server.process.poll() is None:
        server.stop()


async def test_flow_resumes_after_broker_restart_with_nothing_lost(
    broker: Broker, tmp_path: Path
) -> None:
    url = f"mqtt://127.0.0.1:{broker.port}"
    source = MqttSourceConfig(id="gas", topic="plant/{meter}/reading", meters=("gas-1",))
    spool = Spool(tmp_path / "spool.db")
    subscriber = MqttSubscriber(
        url,
        [source],
        {("gas-1", "volume"): 1},
        spool,
        CollectorMetrics(CollectorRegistry()),
        validator=Validator({1: PointRules(kind="counter")}),
        client_id="collector-under-test",
    )
    subscriber.start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="gateway", clean_session=False)
    publisher.reconnect_delay_set(0.2, 1)
    publisher.connect_async("127.0.0.1", broker.port)
    publisher.loop_start()
    sent = 0

    def received() -> set[float]:
        return {r.value for r in spool.peek(100_000)[1]}

    def publish(count: int) -> None:
        nonlocal sent
        for _ in range(count):
            ts = (T0 + timedelta(seconds=sent)).isoformat()
            payload = orjson.dumps({"ts": ts, "values": {"volume": float(sent)}})
            publisher.publish("plant/gas-1/reading", payload, qos=1)
            sent += 1

    try:
        await eventually(lambda: subscriber.subscribed and publisher.is_connected(), within=20.0)
        publish(200)
        await eventually(lambda: spool.depth() >= 100, within=20.0)
        broker.stop()
        publish(200)  # the gateway queues these while the broker is away
        await asyncio.sleep(1.5)
        broker.start()
        publish(200)
        await eventually(lambda: len(received()) == sent, within=20.0)
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        subscriber.stop()

    # At-least-once: a message whose ack died with the broker comes again; the table's
    # primary key swallows such repeats (tests/integration/test_readings.py).
    assert sorted(received()) == [float(i) for i in range(sent)]
