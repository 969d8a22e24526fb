"""Decode MQTT payloads into (timestamp, point, value) triples. Pure.

The meterledger JSON format, one reading set per message or a batch as a JSON array::

    {"ts": "2026-03-01T00:00:00+08:00", "values": {"volume": 123456.7, "flow": 42.1}}
    [{"ts": 1772294400, "values": {"volume": 123456.7}}, ...]

``ts`` is ISO 8601 with a UTC offset, or Unix seconds; without it the receive time is used.
A message is accepted whole or rejected whole, with the reason naming the field and value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

Decoded = list[tuple[datetime, str, float]]
Decoder = Callable[[bytes, datetime], Decoded]


def decode_meterledger_json(payload: bytes, received_at: datetime) -> Decoded:
    """Decode a meterledger JSON payload; raise ValueError saying what is wrong."""
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        raise ValueError("empty batch")
    out: Decoded = []
    for index, item in enumerate(items):
        where = f"[{index}]" if isinstance(doc, list) else ""
        out.extend(_one(item, where, received_at))
    return out


def _one(item: Any, where: str, received_at: datetime) -> Decoded:
    if not isinstance(item, dict):
        raise ValueError(f"{where or 'payload'}: expected an object, got {type(item).__name__}")
    unknown = set(item) - {"ts", "values"}
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}")
    ts = _timestamp(item.get("ts"), f"{where}.ts".lstrip("."), received_at)
    values = item.get("values")
    if not isinstance(values, dict) or not values:
        raise ValueError(f"{where}.values: expected a non-empty object, got {values!r}".lstrip("."))
    out = []
    for point, value in values.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError(
                f"{where}.values.{point}: expected a finite number, got {value!r}".lstrip(".")
            )
        out.append((ts, point, float(value)))
    return out


def _timestamp(raw: Any, field: str, received_at: datetime) -> datetime:
    if raw is None:
        return received_at
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        try:
            return datetime.fromtimestamp(raw, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"{field}: not a Unix time: {raw!r}") from exc
    if isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise ValueError(f"{field}: not ISO 8601: {raw!r}") from exc
        if ts.tzinfo is None:
            raise ValueError(f"{field}: needs a UTC offset, got {raw!r}")
        return ts.astimezone(UTC)
    raise ValueError(f"{field}: expected ISO 8601 text or Unix seconds, got {raw!r}")


DECODERS: dict[str, Decoder] = {"meterledger-json": decode_meterledger_json}
