"""A poller cancelled while it waits for room in a full spool keeps its rows for the stop."""

import asyncio
from pathlib import Path

from waiting import eventually

from collector.held_rows import ROOM_WAIT, HeldRows
from collector.spool import Spool
from store.reading_rows import ReadingRow


def rows(first: int, count: int) -> list[ReadingRow]:
    return [(1, 1_700_000_000_000_000 + (first + i) * 1_000_000, float(i), 0) for i in range(count)]


async def test_rows_stay_held_when_the_wait_for_room_is_cancelled(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db", max_rows=2)
    spool.append_rows(rows(0, 2))  # full
    told: list[int] = []
    buffer = HeldRows(spool, told.append, hold=0)
    waiting = asyncio.create_task(buffer.add(rows(2, 3)))
    await eventually(lambda: len(buffer) == 3)
    await asyncio.sleep(ROOM_WAIT / 2)  # in the thread that waits for room
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)

    assert (len(buffer), spool.depth(), told) == (3, 2, [])  # nothing appended, nothing lost
    mark, _ = spool.peek_rows(10)
    spool.remove_through(mark)  # the writer makes room
    buffer.spool_now()
    assert (len(buffer), spool.depth(), told) == (0, 3, [3])
    spool.close()
