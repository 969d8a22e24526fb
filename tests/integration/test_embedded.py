"""The embedded defaults of a first run: a private Mosquitto, or amqtt where there is none."""

import asyncio
import logging
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from meterledger import embedded


async def round_trip(url: str) -> bytes:
    """Publish one message through the broker at ``url`` and return what arrived."""
    parts = urlsplit(url)
    received: asyncio.Queue[bytes] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    subscribed = asyncio.Event()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2)
    sub.on_message = lambda _c, _u, msg: loop.call_soon_threadsafe(received.put_nowait, msg.payload)
    sub.on_subscribe = lambda *_: loop.call_soon_threadsafe(subscribed.set)
    sub.on_connect = lambda client, *_: client.subscribe("probe/#", qos=1)
    sub.connect(parts.hostname or "", parts.port or 1883)
    sub.loop_start()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    try:
        await asyncio.wait_for(subscribed.wait(), 5)
        pub.connect(parts.hostname or "", parts.port or 1883)
        pub.loop_start()
        pub.publish("probe/1", b"hello", qos=1)
        return await asyncio.wait_for(received.get(), 5)
    finally:
        for client in (pub, sub):
            client.disconnect()
            client.loop_stop()


async def test_private_mosquitto_carries_messages_and_stops(tmp_path: Path) -> None:
    async with embedded.embedded_broker(tmp_path) as url:
        assert await round_trip(url) == b"hello"
        port = urlsplit(url).port
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_amqtt_stands_in_without_mosquitto_and_says_it_is_demo_grade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(embedded, "_mosquitto_binary", lambda: None)
    caplog.set_level(logging.WARNING, logger="meterledger.embedded")
    async with embedded.embedded_broker(tmp_path) as url:
        assert await round_trip(url) == b"hello"
    assert any("demo grade" in m for m in caplog.messages)
