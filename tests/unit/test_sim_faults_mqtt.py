"""What a simulated MQTT gateway sends: batches the collector decodes, timestamp styles,
and each message fault in its window."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from pydantic import TypeAdapter

from collector.payloads import decode_meterledger_json
from simulators.fault_config import FaultSpec
from simulators.faults import NO_FAULTS, MeterFaults
from simulators.mqtt_messages import Message, Outbox, stamp

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 3, 2, 4, tzinfo=BERLIN).timestamp()
MINUTE = 60.0
RECEIVED = datetime(2030, 1, 1, tzinfo=UTC)


def faults(**fields: Any) -> MeterFaults:
    window = {"from": _iso(T0 + 10 * MINUTE), "to": _iso(T0 + 20 * MINUTE)}
    spec = TypeAdapter(FaultSpec).validate_python({"meter": "water", **window, **fields})
    return MeterFaults([spec])


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def run(outbox: Outbox, meter_faults: MeterFaults, minutes: int) -> list[Message]:
    """A tick a minute from T0, each reading volume = its minute; all that is sent."""
    sent: list[Message] = []
    for minute in range(minutes):
        at = T0 + minute * MINUTE
        values = {"volume": float(minute)}
        sent += outbox.reading("water", "t/water", at, at, values, meter_faults)
    return sent


def volumes(messages: list[Message]) -> list[float]:
    return [v for m in messages for _, _, v in decode_meterledger_json(m.payload, RECEIVED)]


def test_one_reading_per_message_is_an_object_the_collector_decodes() -> None:
    sent = run(Outbox(), NO_FAULTS, 3)
    assert orjson.loads(sent[0].payload) == {
        "ts": "2026-03-02T03:00:00+00:00",
        "values": {"volume": 0.0},
    }
    decoded = decode_meterledger_json(sent[1].payload, RECEIVED)
    assert decoded == [(datetime(2026, 3, 2, 3, 1, tzinfo=UTC), "volume", 1.0)]


def test_a_batch_carries_several_instants_in_one_array_and_the_rest_goes_at_stop() -> None:
    outbox = Outbox(batch=4)
    sent = run(outbox, NO_FAULTS, 10)
    assert [len(orjson.loads(m.payload)) for m in sent] == [4, 4]
    decoded = decode_meterledger_json(sent[1].payload, RECEIVED)
    assert [(ts.minute, v) for ts, _, v in decoded] == [(4, 4.0), (5, 5.0), (6, 6.0), (7, 7.0)]
    rest = outbox.flush({"water": "t/water"}, T0 + 10 * MINUTE)
    assert volumes(rest) == [8.0, 9.0]
    assert outbox.flush({"water": "t/water"}, T0 + 11 * MINUTE) == []


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("utc", "2026-03-02T03:00:00+00:00"),
        ("local", "2026-03-02T04:00:00+01:00"),
        ("unix", T0),
        ("none", None),
    ],
)
def test_timestamps_come_in_the_gateways_style(style: Any, expected: object) -> None:
    assert stamp(T0, style, BERLIN) == expected
    (message,) = run(Outbox(timestamps=style, zones={"water": BERLIN}), NO_FAULTS, 1)
    ((ts, _, _),) = decode_meterledger_json(message.payload, RECEIVED)
    assert ts == (RECEIVED if style == "none" else datetime.fromtimestamp(T0, UTC))


def test_duplicates_repeat_each_message_in_the_window_only() -> None:
    sent = run(Outbox(), faults(kind="duplicate", copies=2), 25)
    assert volumes(sent) == [
        *range(10),
        *(v for v in range(10, 20) for _ in range(3)),
        *range(20, 25),
    ]


def test_late_messages_go_on_the_first_tick_after_their_delay() -> None:
    sent = run(Outbox(), faults(kind="late", delay=5 * MINUTE), 30)
    # minutes 10-19 are held 5 minutes: 10 goes on minute 15's tick, 15 after minute 20's own
    assert volumes(sent) == [
        *range(15), 20, 15, 21, 16, 22, 17, 23, 18, 24, 19, *range(25, 30)
    ]  # fmt: skip
    assert [m.at for m in sent if volumes([m]) == [10.0]] == [T0 + 10 * MINUTE]


def test_out_of_order_swaps_pairs_of_messages() -> None:
    sent = run(Outbox(), faults(kind="out_of_order"), 24)
    assert volumes(sent) == [*range(10), 11, 10, 13, 12, 15, 14, 17, 16, 19, 18, *range(20, 24)]


def test_malformed_messages_are_not_meterledger_json() -> None:
    sent = run(Outbox(), faults(kind="malformed"), 12)
    assert volumes(sent[:10]) == list(range(10))
    for message in sent[10:]:
        with pytest.raises(ValueError, match="not JSON"):
            decode_meterledger_json(message.payload, RECEIVED)
    given = run(Outbox(), faults(kind="malformed", payload='{"ts": oops'), 11)
    assert given[10].payload == b'{"ts": oops'


def test_a_clock_offset_moves_the_stamps_not_the_values() -> None:
    sent = run(Outbox(), faults(kind="clock_offset", offset=300), 21)
    stamps = [decode_meterledger_json(m.payload, RECEIVED)[0][0].timestamp() for m in sent]
    assert stamps[9] == T0 + 9 * MINUTE
    assert stamps[10] == T0 + 10 * MINUTE + 300
    assert stamps[20] == T0 + 20 * MINUTE
    assert volumes(sent) == list(range(21))


def test_a_silent_meter_publishes_nothing_in_its_window() -> None:
    sent = run(Outbox(), faults(kind="silent"), 25)
    assert volumes(sent) == [*range(10), *range(20, 25)]
