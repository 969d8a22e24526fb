"""A subscription the broker refuses is said aloud, and the subscriber is not "subscribed".

Mosquitto grants every well-formed filter (its ACLs only withhold delivery), so the refusal
other brokers send (EMQX, HiveMQ: SUBACK 0x80 for an ACL) is fed to the callback here.
"""

import logging
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import CollectorRegistry

from collector.config import MqttSourceConfig
from collector.metrics import CollectorMetrics
from collector.mqtt import MqttSubscriber
from collector.spool import Spool
from collector.validation import Validator


def subscriber(tmp_path: Path) -> MqttSubscriber:
    sources = [
        MqttSourceConfig(id="gas", topic="site/{meter}/gas", meters=("gas-1",)),
        MqttSourceConfig(id="water", topic="site/{meter}/water", meters=("water-1",)),
    ]
    return MqttSubscriber(
        "mqtt://127.0.0.1:1",
        sources,
        {},
        Spool(tmp_path / "spool.db"),
        CollectorMetrics(CollectorRegistry()),
        validator=Validator({}),
        client_id="unit",
    )


def suback(*codes: int) -> list[ReasonCode]:
    return [ReasonCode(PacketTypes.SUBACK, identifier=c) for c in codes]


def test_granted_topics_make_the_subscriber_subscribed(tmp_path: Path) -> None:
    sub = subscriber(tmp_path)
    assert not sub.subscribed
    sub._on_subscribe(sub._client, None, 1, suback(1, 1), None)
    assert sub.subscribed


def test_a_refused_topic_is_logged_by_name_and_leaves_it_unsubscribed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sub = subscriber(tmp_path)
    with caplog.at_level(logging.ERROR, logger="collector.mqtt"):
        sub._on_subscribe(sub._client, None, 1, suback(1, 0x80), None)
    assert not sub.subscribed
    [record] = caplog.records
    assert "site/+/water" in record.getMessage()
    assert "site/+/gas" not in record.getMessage()
