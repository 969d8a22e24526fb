"""An MQTT gateway that publishes simulated meters in the meterledger JSON format.

It publishes at multiples of its interval in simulated time with QoS 1, stamps each
payload with the simulated instant the meter showed, and remembers what it sent, so tests
can compare what was published with what the API serves. A tick missed while the loop was
busy is published late rather than skipped (its values are those of its own instant), so
an accelerated backfill leaves no gaps as long as the machine keeps up on average.
Batching, timestamp styles and message faults are in `simulators.mqtt_messages`; a run
with an end (a backfill) sends what is still waiting once its last tick has passed.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from simulators.clock import SimClock
from simulators.fault_config import Timestamps
from simulators.faults import faults_of
from simulators.meters import MeterModel
from simulators.mqtt_messages import Message, Outbox

log = logging.getLogger(__name__)

_CATCH_UP = 100  # intervals a gateway may lag before it gives up on the missed ticks


@dataclass(frozen=True, slots=True)
class Published:
    topic: str
    at: float
    values: dict[str, float]


class SimulatedMqttGateway:
    """Publish each meter's ``fields`` (a subset of its model's values) on its topic.

    ``published`` keeps each reading taken (what the meter showed), ``messages`` what was
    actually sent, faults and all.
    """

    def __init__(
        self,
        url: str,
        meters: dict[str, MeterModel],
        topics: dict[str, str],
        fields: dict[str, tuple[str, ...]],
        interval: float,
        clock: SimClock,
        *,
        qos: int = 1,
        client_id: str = "meterledger-sim-gateway",
        batch: int = 1,
        timestamps: Timestamps = "utc",
        zones: Mapping[str, tzinfo] | None = None,
    ) -> None:
        self.meters = meters
        self.topics = topics
        self.fields = fields
        self.interval = interval
        self.clock = clock
        self.qos = qos
        self.published: deque[Published] = deque(maxlen=10_000)
        self.messages: deque[Message] = deque(maxlen=10_000)
        self.outbox = Outbox(batch, timestamps, dict(zones or {}))
        self._url = urlsplit(url)
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if self._url.username:
            self._client.username_pw_set(self._url.username, self._url.password)

    async def run(self) -> None:
        self._client.connect_async(self._url.hostname or "127.0.0.1", self._url.port or 1883)
        self._client.loop_start()
        log.info("simulated MQTT gateway publishing %s", sorted(self.topics.values()))
        try:
            tick = self._next_tick()
            while True:
                await self.clock.sleep_until(tick)
                self.publish_all(tick)
                await asyncio.sleep(0)  # catching up publishes back to back: let others run
                tick += self.interval
                if self.clock.until is not None and tick > self.clock.until:
                    self._send(self.outbox.flush(self.topics, self.clock.until))
                if self.clock.now() - tick > _CATCH_UP * self.interval:
                    log.warning("%s: too far behind, skipping to now", self.topics)
                    tick = self._next_tick()
        finally:
            self._client.disconnect()
            self._client.loop_stop()

    def _next_tick(self) -> float:
        return (math.floor(self.clock.now() / self.interval) + 1) * self.interval

    def publish_all(self, at: float) -> None:
        """Publish every meter's values at simulated time ``at`` (paho queues while offline)."""
        for meter, model in self.meters.items():
            grid = model.grid(at)
            exposed = model.values_at(at)
            values = {name: exposed[name] for name in self.fields[meter]}
            topic = self.topics[meter]
            self._send(self.outbox.reading(meter, topic, at, grid, values, faults_of(model)))
            self.published.append(Published(topic, grid, values))

    def _send(self, messages: list[Message]) -> None:
        for message in messages:
            self._client.publish(message.topic, message.payload, qos=self.qos)
            self.messages.append(message)
