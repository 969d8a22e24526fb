import math
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.spool import Spool, _from_us, _to_us
from store.dead_letters import DeadLetter
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
