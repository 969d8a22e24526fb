"""Payload formats and shared subscriptions against a real broker."""

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import CollectorRegistry
from waiting import eventually

from collector.config import FieldMapping, MqttSourceConfig
from collector.metrics import CollectorMetrics
from collector.mqtt import MqttSubscriber
from collector.spool import Spool
from collector.validation import PointRules, Validator

POINTS = {("gas-1", "volume"): 1, ("gas-1", "flow"): 2}


@pytest.fixture
def publisher(mqtt_url: str) -> Iterator[mqtt.Client]:
    parts = urlsplit(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    yield client
    client.loop_stop()
    client.disconnect()


def subscriber(url: str, source: MqttSourceConfig, spool: Spool) -> MqttSubscriber:
    rules = {pid: PointRules(kind="gauge") for pid in POINTS.values()}
    return MqttSubscriber(
        url,
        [source],
        POINTS,
        spool,
        CollectorMetrics(CollectorRegistry()),
        validator=Validator(rules),
        client_id=f"test-{uuid.uuid4().hex[:8]}",
    )


async def started(*subscribers: MqttSubscriber) -> None:
    for sub in subscribers:
        sub.start()
    await eventually(lambda: all(s.subscribed for s in subscribers))  # SUBACKs in


async def test_plain_numbers_and_vendor_json_become_readings(
    mqtt_url: str, publisher: mqtt.Client, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    numbers = MqttSourceConfig(
        id="n", topic=f"{run}/n/{{meter}}/{{point}}", format="number", meters=("gas-1",)
    )
    vendor = MqttSourceConfig(
        id="v",
        topic=f"{run}/v/{{meter}}",
        format="json-fields",
        meters=("gas-1",),
        fields=FieldMapping(
            values={"volume": "d.Vb", "flow": "d.Qb"}, timestamp="t", timestamp_unit="s"
        ),
    )
    spool = Spool(tmp_path / "spool.db")
    subs = [subscriber(mqtt_url, source, spool) for source in (numbers, vendor)]
    await started(*subs)
    try:
        publisher.publish(f"{run}/n/gas-1/flow", b"12.5", qos=1)
        vendor_payload = {"t": 1772323200, "d": {"Vb": 1000, "Qb": 3.5}}
        publisher.publish(f"{run}/v/gas-1", orjson.dumps(vendor_payload), qos=1)
        await eventually(lambda: spool.depth() == 3)
    finally:
        for sub in subs:
            sub.stop()
    rows = spool.peek(10)[1]
    assert sorted((r.point_id, r.value) for r in rows) == [(1, 1000.0), (2, 3.5), (2, 12.5)]
    assert {r.ts.timestamp() for r in rows if r.value != 12.5} == {1772323200}


async def test_shared_subscription_splits_one_stream_between_collectors(
    mqtt_url: str, publisher: mqtt.Client, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    source = MqttSourceConfig(
        id="s", topic=f"{run}/{{meter}}", meters=("gas-1",), shared_group=f"g{run}"
    )
    spools = [Spool(tmp_path / f"spool-{i}.db") for i in (1, 2)]
    subs = [subscriber(mqtt_url, source, spool) for spool in spools]
    await started(*subs)
    try:
        for i in range(100):
            payload = {"ts": 1772323200 + i, "values": {"volume": float(i)}}
            publisher.publish(f"{run}/gas-1", orjson.dumps(payload), qos=1)
        await eventually(lambda: sum(s.depth() for s in spools) >= 100)
        await asyncio.sleep(0.3)
    finally:
        for sub in subs:
            sub.stop()
    shares = [sorted(r.value for r in spool.peek(1000)[1]) for spool in spools]
    assert all(shares), f"each collector gets part of the stream: {[len(s) for s in shares]}"
    assert sorted(shares[0] + shares[1]) == [float(i) for i in range(100)]
