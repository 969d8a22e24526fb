"""A poller's rows are spooled together, but never held long or in great number."""

import asyncio
from pathlib import Path

from collector.held_rows import HeldRows
from collector.spool import Spool
from store.reading_rows import ReadingRow


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def rows(first: int, count: int) -> list[ReadingRow]:
    return [(1, 1_700_000_000_000_000 + (first + i) * 1_000_000, float(i), 0) for i in range(count)]


def held(tmp_path: Path, clock: Clock, **limits: float) -> tuple[HeldRows, Spool, list[int]]:
    spool = Spool(tmp_path / "spool.db")
    told: list[int] = []
    return HeldRows(spool, told.append, clock=clock, **limits), spool, told  # type: ignore[arg-type]


def test_rows_wait_until_the_oldest_is_hold_seconds_old(tmp_path: Path) -> None:
    clock = Clock()
    buffer, spool, told = held(tmp_path, clock, hold=0.1)
    asyncio.run(buffer.add(rows(0, 6)))
    clock.now += 0.05
    asyncio.run(buffer.add(rows(6, 6)))
    assert (spool.depth(), len(buffer), told) == (0, 12, [])
    clock.now += 0.06
    asyncio.run(buffer.add(rows(12, 6)))
    assert (spool.depth(), len(buffer), told) == (18, 0, [18])  # one append, in order
    assert [r[1] for r in spool.peek_rows(100)[1]] == [r[1] for r in rows(0, 18)]


def test_too_many_rows_are_spooled_at_once_whatever_their_age(tmp_path: Path) -> None:
    buffer, spool, told = held(tmp_path, Clock(), max_rows=10)
    asyncio.run(buffer.add(rows(0, 6)))
    asyncio.run(buffer.add(rows(6, 6)))
    assert (spool.depth(), told) == (12, [12])


def test_spooling_now_leaves_nothing_held(tmp_path: Path) -> None:
    buffer, spool, told = held(tmp_path, Clock())
    asyncio.run(buffer.add(rows(0, 3)))
    buffer.spool_now()
    buffer.spool_now()  # nothing more to append
    assert (spool.depth(), len(buffer), told) == (3, 0, [3])
