import math
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.spool import Spool, _from_us, _to_us
from store.dead_letters import DeadLetter
from store.reading_rows import pack_rows, unpack_rows
from store.readings import Reading

T0 = datetime(2026, 3, 29, 0, 59, 59, 123456, tzinfo=UTC)


def rows(n: int) -> list[Reading]:
    return [Reading(1, T0 + timedelta(seconds=i), 0.1 * i, i % 2) for i in range(n)]


def test_rows_come_back_exactly_and_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.append(rows(5))
    last, got = spool.peek(10)
    assert got == rows(5)
    assert got[0].ts.tzinfo is not None
    spool.remove_through(last)
    assert spool.depth() == 0


def test_peek_is_bounded_and_removal_is_partial(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.append(rows(10))
    last, got = spool.peek(4)
    assert len(got) == 4
    spool.remove_through(last)
    assert spool.peek(100)[1] == rows(10)[4:]


def test_spooled_rows_survive_reopening(tmp_path: Path) -> None:
    Spool(tmp_path / "spool.db").append(rows(3))  # closed without ceremony, as after a kill
    assert Spool(tmp_path / "spool.db").depth() == 3


def test_nan_survives_the_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.append([Reading(1, T0, math.nan, 1)])
    (reading,) = spool.peek(1)[1]
    assert math.isnan(reading.value)
    assert reading.quality == 1


def test_dead_letters_are_kept_until_removed(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    letter = DeadLetter(T0, "gas", "plant/gas-1/reading", b"\xff{", "not JSON")
    spool.append_dead_letter(letter)
    assert Spool(tmp_path / "spool.db").peek_dead_letters(10)[1] == [letter]
    last, _ = spool.peek_dead_letters(10)
    spool.remove_dead_letters_through(last)
    assert spool.peek_dead_letters(10) == (0, [])


def test_full_spool_holds_the_source_until_the_writer_makes_room(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db", max_rows=5)
    spool.append(rows(5))
    with pytest.raises(TimeoutError):
        spool.append(rows(1), timeout=0.1)
    waiting = threading.Thread(target=lambda: spool.append(rows(2), timeout=5))
    waiting.start()
    time.sleep(0.2)
    assert waiting.is_alive(), "the append waits while the spool is full"
    last, _ = spool.peek(3)
    spool.remove_through(last)
    waiting.join(2)
    assert not waiting.is_alive()
    assert spool.depth() == 4


@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    )
)
def test_instants_survive_the_spool_to_the_microsecond(ts: datetime) -> None:
    assert _from_us(_to_us(ts)) == ts
    assert _to_us(ts) == (ts - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def test_a_peek_may_end_inside_an_append_and_the_rest_stays(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    for start in (0, 3, 6):  # three appends of three
        spool.append([Reading(1, T0 + timedelta(seconds=start + i), 0.0) for i in range(3)])
    last, got = spool.peek(5)
    assert [r.ts for r in got] == [T0 + timedelta(seconds=i) for i in range(5)]
    spool.remove_through(last)
    assert spool.depth() == 4
    assert [r.ts for r in spool.peek(100)[1]] == [T0 + timedelta(seconds=i) for i in range(5, 9)]
    assert Spool(tmp_path / "spool.db").depth() == 4  # and so it is on disk


def test_packed_peek_is_what_the_rows_pack_to(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.append(rows(4))
    spool.append(rows(2))
    _, count, packed = spool.peek_packed(5)
    assert count == 5
    assert unpack_rows(packed) == spool.peek_rows(5)[1]
    assert packed == pack_rows(spool.peek_rows(5)[1])


def test_rows_of_a_spool_from_before_the_batches_are_adopted(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "spool.db") as old:
        old.execute(
            "CREATE TABLE spooled (seq INTEGER PRIMARY KEY AUTOINCREMENT, point_id INTEGER"
            " NOT NULL, ts_us INTEGER NOT NULL, value REAL, quality INTEGER NOT NULL)"
        )
        old.executemany(
            "INSERT INTO spooled (point_id, ts_us, value, quality) VALUES (?, ?, ?, ?)",
            [(1, _to_us(T0), 1.5, 0), (2, _to_us(T0), None, 1)],  # NULL: a NaN
        )
    spool = Spool(tmp_path / "spool.db")
    assert spool.depth() == 2
    first, second = spool.peek(10)[1]
    assert first == Reading(1, T0, 1.5, 0)
    assert (second.point_id, second.quality, math.isnan(second.value)) == (2, 1, True)
