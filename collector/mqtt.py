"""Subscribe to MQTT topics with paho-mqtt 2: persistent session, QoS 1, ack after spool.

The client keeps a persistent session (``clean_session=False``, a fixed client id) and
acknowledges a message only once its readings are committed to the spool, so a crash or a
broker restart makes the broker redeliver instead of losing it. paho's network thread
reconnects forever with back-off; every (re)connect re-subscribes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from collector.config import MqttSourceConfig
from collector.metrics import CollectorMetrics
from collector.payloads import decode_payload
from collector.spool import Spool
from collector.validation import Validator
from meterledger.errors import PayloadError
from store.dead_letters import DeadLetter
from store.reading_rows import ReadingRow, to_us
from store.readings import Reading

log = logging.getLogger(__name__)


class MqttSubscriber:
    def __init__(
        self,
        url: str,
        sources: Sequence[MqttSourceConfig],
        point_ids: Mapping[tuple[str, str], int],
        spool: Spool,
        metrics: CollectorMetrics,
        *,
        validator: Validator,
        client_id: str,
        on_spooled: Callable[[int], None] = lambda _count: None,
    ) -> None:
        self._url = urlsplit(url)
        self._sources = list(sources)
        self._point_ids = point_ids
        self._spool = spool
        self._validator = validator
        self._metrics = metrics
        self._source_of: dict[str, str] = {}
        self._on_spooled = on_spooled
        self.connected = False
        self.subscribed = False  # every topic granted by the broker since the last connect
        self._stopping = False
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if self._url.username:
            self._client.username_pw_set(self._url.username, self._url.password)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe

    def start(self) -> None:
        """Connect in paho's network thread; it keeps retrying until `stop`."""
        self._client.connect_async(self._url.hostname or "127.0.0.1", self._url.port or 1883, 30)
        self._client.loop_start()

    def stop(self) -> None:
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT broker refused the connection: %s", reason)
            return
        self.connected, self.subscribed = True, False
        log.info("MQTT connected to %s", self._url.netloc)
        topics: list[tuple[str, int]] = [(s.subscription(), s.qos) for s in self._sources]
        client.subscribe(topics)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        """A topic the broker refuses (an ACL, a bad filter) would never deliver: say so."""
        refused = [
            f"{source.subscription()} ({reason})"
            for source, reason in zip(self._sources, reasons, strict=False)
            if reason.is_failure
        ]
        if refused:
            log.error("MQTT broker refused subscription(s): %s", ", ".join(refused))
        self.subscribed = not refused

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected = self.subscribed = False
        if not self._stopping:
            log.warning("MQTT disconnected (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        received_at = datetime.now(UTC)
        topic = msg.topic  # paho decodes it on every access
        payload = bytes(msg.payload)
        try:
            decoded = self._decode(topic, payload, received_at)
        except PayloadError as exc:
            self._dead_letter(
                client,
                msg,
                DeadLetter(received_at, self._source_for(topic), topic, payload, exc.reason),
            )
            return
        # Flagged only once the whole message decoded, so a refused one moves no baseline.
        rows = self._flagged(decoded, received_at)
        try:
            self._spool.append_rows(rows)
        except Exception:
            log.exception("spool append failed; leaving message %d unacknowledged", msg.mid)
            return
        client.ack(msg.mid, msg.qos)
        self._metrics.readings_in.labels(self._source_for(topic)).inc(len(rows))
        self._on_spooled(len(rows))

    def _flagged(
        self, decoded: list[tuple[int, datetime, float]], received_at: datetime
    ) -> list[ReadingRow]:
        """The readings as spool rows, each with its quality flags."""
        check = self._validator.check
        rows: list[ReadingRow] = []
        last_ts, last_us = None, 0
        for point, ts, value in decoded:
            if ts is not last_ts:  # a batch item's values share one timestamp object
                last_ts, last_us = ts, to_us(ts)
            rows.append((point, last_us, value, check(point, ts, value, received_at)))
        return rows

    def _dead_letter(self, client: mqtt.Client, msg: mqtt.MQTTMessage, letter: DeadLetter) -> None:
        """Keep an undecodable payload in the spool, then ack: redelivery cannot mend it."""
        try:
            self._spool.append_dead_letter(letter)
        except Exception:
            log.exception("dead-letter append failed; leaving message %d unacknowledged", msg.mid)
            return
        client.ack(msg.mid, msg.qos)
        self._metrics.payloads_rejected.labels(letter.source).inc()
        log.warning(
            "rejected MQTT payload on %r, kept as a dead letter: %s", msg.topic, letter.reason
        )

    def decode(self, topic: str, payload: bytes, received_at: datetime) -> list[Reading]:
        """Map one message to readings; raise PayloadError naming what does not fit."""
        return [Reading(*row) for row in self._decode(topic, payload, received_at)]

    def _decode(
        self, topic: str, payload: bytes, received_at: datetime
    ) -> list[tuple[int, datetime, float]]:
        """As `decode`, into plain (point id, instant, value) tuples for the hot path."""
        for source in self._sources:
            named = source.match(topic)
            if named is None:
                continue
            meter, point_level = named
            if meter not in source.meters:
                raise PayloadError(topic, f"meter {meter!r} is not configured on {source.id!r}")
            try:
                decoded = decode_payload(source, payload, received_at, point_level)
            except ValueError as exc:
                raise PayloadError(topic, str(exc)) from exc
            rows = []
            for ts, point, value in decoded:
                point_id = self._point_ids.get((meter, point))
                if point_id is None:
                    raise PayloadError(topic, f"meter {meter!r} has no point {point!r}")
                rows.append((point_id, ts, value))
            return rows
        raise PayloadError(topic, "matches no configured topic")

    def _source_for(self, topic: str) -> str:
        """The source a topic belongs to, remembered: a gateway uses a handful of topics."""
        source = self._source_of.get(topic)
        if source is None:
            source = next((s.id for s in self._sources if s.match(topic)), "unmatched")
            self._source_of[topic] = source
        return source
