"""The MQTT subscriber against a real broker."""

import logging
import uuid
from pathlib import Path
from urllib.parse import urlsplit

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


def publisher(url: str) -> mqtt.Client:
    parts = urlsplit(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    return client


async def test_malformed_payloads_are_counted_and_flow_continues(
    mqtt_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="collector.mqtt")
    prefix = f"t{uuid.uuid4().hex[:8]}"
    source = MqttSourceConfig(id="gas", topic=f"{prefix}/{{meter}}/reading", meters=("gas-1",))
    registry = CollectorRegistry()
    spool = Spool(tmp_path / "spool.db")
    subscriber = MqttSubscriber(
        mqtt_url,
        [source],
        {("gas-1", "volume"): 1},
        spool,
        CollectorMetrics(registry),
        validator=Validator({1: PointRules(kind="counter")}),
        client_id=f"test-{prefix}",
    )
    subscriber.start()
    pub = publisher(mqtt_url)
    try:
        await eventually(lambda: subscriber.subscribed, within=5.0)  # the SUBACK is in
        topic = f"{prefix}/gas-1/reading"
        for payload in (b"{not json", b'{"values": {"volume": "x"}}', b'{"values": {"mass": 1}}'):
            pub.publish(topic, payload, qos=1)
        pub.publish(f"{prefix}/gas-9/reading", b'{"values": {"volume": 1}}', qos=1)
        pub.publish(topic, b'{"ts": "2026-03-01T00:00:00Z", "values": {"volume": 42.5}}', qos=1)
        await eventually(lambda: spool.depth() == 1, within=5.0)
    finally:
        pub.loop_stop()
        pub.disconnect()
        subscriber.stop()

    rejected = registry.get_sample_value("meterledger_payloads_rejected_total", {"source": "gas"})
    assert rejected == 4
    assert spool.peek(10)[1][0].value == 42.5
    messages = "\n".join(caplog.messages)
    assert "not JSON" in messages
    assert "values.volume: expected a finite number, got 'x'" in messages
    assert "meter 'gas-1' has no point 'mass'" in messages
    assert "meter 'gas-9' is not configured" in messages
