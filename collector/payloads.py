"""Decode MQTT payloads into (timestamp, point, value) triples. Pure.

Three formats, chosen per source: ``meterledger-json`` (ours, below), ``number`` (a plain
number, the point named by the topic, stamped on receipt) and ``json-fields`` (a vendor's
JSON, with a declared path per point). The meterledger JSON format, one reading set per
message or a batch as a JSON array::

    {"ts": "2026-03-01T00:00:00+08:00", "values": {"volume": 123456.7, "flow": 42.1}}
    [{"ts": 1772294400, "values": {"volume": 123456.7}}, ...]

``ts`` is ISO 8601 with a UTC offset, or Unix seconds; without it the receive time is used.
A message is accepted whole or rejected whole, with the reason naming the field and value.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson

from collector.config import FieldMapping, MqttSourceConfig

Decoded = list[tuple[datetime, str, float]]


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


def decode_number(payload: bytes, received_at: datetime, point: str) -> Decoded:
    """A bare number such as ``b"1234.5"``, stamped with the time of receipt."""
    text = payload.decode("ascii", errors="replace").strip()
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a plain number, got {text[:40]!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {text!r}")
    return [(received_at, point, value)]


def decode_fields(mapping: FieldMapping, payload: bytes, received_at: datetime) -> Decoded:
    """A vendor's JSON read through declared paths; points missing from a message are skipped."""
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    items = _at(doc, mapping.items) if mapping.items else [doc]
    if not isinstance(items, list):
        raise ValueError(f"{mapping.items}: expected an array, got {type(items).__name__}")
    out: Decoded = []
    for item in items:
        raw_ts = _at(item, mapping.timestamp) if mapping.timestamp else None
        if mapping.timestamp and raw_ts is None:
            raise ValueError(f"{mapping.timestamp}: missing")
        if mapping.timestamp_unit == "ms" and isinstance(raw_ts, int | float):
            raw_ts = raw_ts / 1000
        ts = _timestamp(raw_ts, mapping.timestamp or "ts", received_at)
        for point, path in mapping.values.items():
            value = _at(item, path)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{path}: expected a number, got {value!r}")
            out.append((ts, point, float(value)))
    if not out:
        raise ValueError(f"none of the configured fields {sorted(mapping.values.values())} found")
    return out


def _at(doc: Any, path: str) -> Any:
    """Follow a dotted path (``data.meters.0.Vb``); None where it leads nowhere."""
    node = doc
    for key in path.split("."):
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


def decode_payload(
    source: MqttSourceConfig, payload: bytes, received_at: datetime, point: str | None
) -> Decoded:
    """Decode with the source's format; ValueError says what does not fit."""
    if source.format == "number":
        assert point is not None  # the config guarantees a {point} level for this format
        return decode_number(payload, received_at, point)
    if source.format == "json-fields":
        assert source.fields is not None
        return decode_fields(source.fields, payload, received_at)
    return decode_meterledger_json(payload, received_at)
