from datetime import UTC, datetime

import pytest

from collector.config import FieldMapping
from collector.payloads import decode_fields, decode_meterledger_json, decode_number

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_single_reading_set_with_offset_timestamp() -> None:
    out = decode_meterledger_json(
        b'{"ts": "2026-03-01T08:00:00+08:00", "values": {"volume": 12.5, "flow": 3}}', NOW
    )
    assert out == [
        (datetime(2026, 3, 1, 0, 0, tzinfo=UTC), "volume", 12.5),
        (datetime(2026, 3, 1, 0, 0, tzinfo=UTC), "flow", 3.0),
    ]


def test_batch_and_unix_seconds_and_receive_time() -> None:
    out = decode_meterledger_json(
        b'[{"ts": 1772323200, "values": {"volume": 1}}, {"values": {"volume": 2}}]', NOW
    )
    assert out[0][0] == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    assert out[1] == (NOW, "volume", 2.0)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "not JSON"),
        (b'{"ts": "2026-03-01T00:00:00", "values": {"v": 1}}', "ts: needs a UTC offset"),
        (b'{"values": {"volume": "12"}}', "values.volume: expected a finite number, got '12'"),
        (b'{"values": {"volume": true}}', "values.volume: expected a finite number"),
        (b'[{"values": {"v": 1}}, {"values": {}}]', r"\[1\].values: expected a non-empty object"),
        (b'{"values": {"v": 1}, "unit": "m3"}', r"unknown field\(s\) \['unit'\]"),
        (b"[]", "empty batch"),
    ],
)
def test_malformed_payload_is_rejected_naming_the_field(payload: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_meterledger_json(payload, NOW)


def test_plain_number_takes_the_point_from_the_topic() -> None:
    assert decode_number(b" 1234.5\n", NOW, "volume") == [(NOW, "volume", 1234.5)]


@pytest.mark.parametrize("payload", [b"", b"12,5", b"nan", b"ON"])
def test_plain_number_refuses_anything_else(payload: bytes) -> None:
    with pytest.raises(ValueError, match="number"):
        decode_number(payload, NOW, "volume")


VENDOR = FieldMapping(
    values={"volume": "data.Vb", "flow": "data.Qb"}, timestamp="time", timestamp_unit="ms"
)


def test_vendor_json_is_read_through_declared_paths() -> None:
    out = decode_fields(VENDOR, b'{"time": 1772323200000, "data": {"Vb": 17, "Qb": 2.5}}', NOW)
    at = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    assert out == [(at, "volume", 17.0), (at, "flow", 2.5)]


def test_vendor_batch_under_an_items_path() -> None:
    mapping = FieldMapping(values={"volume": "v"}, timestamp="t", timestamp_unit="s", items="rows")
    out = decode_fields(mapping, b'{"rows": [{"t": 0, "v": 1}, {"t": 60, "v": 2}]}', NOW)
    assert [(ts.timestamp(), v) for ts, _, v in out] == [(0, 1.0), (60, 2.0)]


def test_vendor_message_missing_one_field_keeps_the_other() -> None:
    out = decode_fields(VENDOR, b'{"time": 1772323200000, "data": {"Qb": 2.5}}', NOW)
    assert [p for _, p, _ in out] == ["flow"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'{"time": 1, "data": {}}', "none of the configured fields"),
        (b'{"data": {"Vb": 1}}', "time: missing"),
        (b'{"time": 1, "data": {"Vb": "17"}}', "data.Vb: expected a number, got '17'"),
    ],
)
def test_vendor_json_errors_name_the_path(payload: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_fields(VENDOR, payload, NOW)
