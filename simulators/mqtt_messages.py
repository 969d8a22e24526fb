"""What a simulated MQTT gateway sends, and when: batching and message faults. Pure.

Readings become meterledger JSON (see `collector.payloads`): one ``{"ts", "values"}``
object per message, or with ``batch`` > 1 an array of a meter's last ``batch`` readings,
the way a store-and-forward gateway sends. Message faults then act on what is about to
be sent, judged at the tick that sends it: ``malformed`` replaces the bytes, ``duplicate``
repeats the message, ``late`` holds it until a tick ``delay`` simulated seconds on,
``out_of_order`` holds every other message until the meter's next one has gone. A silent
meter adds nothing; a ``clock_offset`` moves the stamps.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

import orjson

from simulators.fault_config import Timestamps
from simulators.faults import MeterFaults


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message as sent: ``at`` is the tick whose readings it carries last."""

    topic: str
    payload: bytes
    at: float


def stamp(t: float, style: Timestamps, zone: tzinfo = UTC) -> str | float | None:
    """The ``ts`` of a reading at Unix time ``t`` in a gateway's ``style``; None: leave out."""
    if style == "unix":
        return t
    if style == "none":
        return None
    return datetime.fromtimestamp(t, UTC if style == "utc" else zone).isoformat()


@dataclass
class Outbox:
    """Per meter, the readings waiting for a full batch and the messages held back."""

    batch: int = 1
    timestamps: Timestamps = "utc"
    zones: Mapping[str, tzinfo] = field(default_factory=dict)
    _pending: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _held: dict[str, list[Message]] = field(default_factory=dict)
    _late: list[tuple[float, int, list[Message]]] = field(default_factory=list)
    _sequence: int = 0

    def reading(
        self,
        meter: str,
        topic: str,
        at: float,
        shown: float,
        values: Mapping[str, float],
        faults: MeterFaults,
    ) -> list[Message]:
        """Add the reading the tick ``at`` took (state of instant ``shown``); return what
        to send now, late messages that fell due included."""
        if not faults.silent(at):
            item: dict[str, Any] = {"values": dict(values)}
            ts = stamp(shown + faults.clock_offset(at), self.timestamps, self._zone(meter))
            if ts is not None:
                item = {"ts": ts, **item}
            pending = self._pending.setdefault(meter, [])
            pending.append(item)
            if len(pending) >= self.batch:
                return self._send(meter, topic, at, faults) + self.due(at)
        return self.due(at)

    def due(self, now: float) -> list[Message]:
        """Late messages whose time has come, in the order they fell due."""
        out: list[Message] = []
        while self._late and self._late[0][0] <= now:
            out += heapq.heappop(self._late)[2]
        return out

    def flush(self, topics: Mapping[str, str], at: float) -> list[Message]:
        """Everything still waiting (a part batch, held and late messages), as at stop."""
        out: list[Message] = []
        for meter, items in list(self._pending.items()):
            if items:
                out += self._messages(meter, topics[meter], at, items)
        self._pending.clear()
        for held in self._held.values():
            out += held
        self._held.clear()
        return out + self.due(float("inf"))

    def _send(self, meter: str, topic: str, at: float, faults: MeterFaults) -> list[Message]:
        messages = self._messages(meter, topic, at, self._pending.pop(meter))
        malformed = faults.malformed(at)
        if malformed is not None:
            messages = [_garbled(m, malformed.payload) for m in messages]
        messages *= 1 + faults.copies(at)
        delay = faults.late(at)
        if delay:
            self._sequence += 1
            heapq.heappush(self._late, (at + delay, self._sequence, messages))
            return []
        if faults.out_of_order(at) and meter not in self._held:
            self._held[meter] = messages
            return []
        return messages + self._held.pop(meter, [])

    def _messages(
        self, meter: str, topic: str, at: float, items: list[dict[str, Any]]
    ) -> list[Message]:
        body = items[0] if self.batch == 1 else items
        return [Message(topic, orjson.dumps(body), at)]

    def _zone(self, meter: str) -> tzinfo:
        return self.zones.get(meter, UTC)


def _garbled(message: Message, payload: str | None) -> Message:
    """The message with bytes that are not meterledger JSON: ``payload``, or cut in half."""
    data = payload.encode() if payload is not None else message.payload[: len(message.payload) // 2]
    return Message(message.topic, data, message.at)
