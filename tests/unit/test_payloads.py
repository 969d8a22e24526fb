from datetime import UTC, datetime

import pytest

from collector.payloads import decode_meterledger_json

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
