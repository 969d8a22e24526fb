"""Requests arriving during a read share it; the next one after it reads again."""

import asyncio

import pytest

from api.joined_read import JoinedRead


class Reads:
    def __init__(self) -> None:
        self.count = 0
        self.release = asyncio.Event()
        self.fail = False

    async def __call__(self) -> int:
        self.count += 1
        await self.release.wait()
        if self.fail:
            raise RuntimeError(f"read {self.count} failed")
        return self.count


async def test_concurrent_callers_share_one_read_and_later_ones_read_again() -> None:
    reads = Reads()
    shared = JoinedRead(reads)
    waiting = [asyncio.create_task(shared()) for _ in range(20)]
    await asyncio.sleep(0)
    reads.release.set()
    assert await asyncio.gather(*waiting) == [1] * 20
    assert await shared() == 2  # not cached: a new request after the read reads anew
    assert reads.count == 2


async def test_a_failure_reaches_every_waiter_and_the_next_call_retries() -> None:
    reads = Reads()
    shared = JoinedRead(reads)
    reads.fail = True
    waiting = [asyncio.create_task(shared()) for _ in range(3)]
    await asyncio.sleep(0)
    reads.release.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert [str(r) for r in results] == ["read 1 failed"] * 3
    reads.fail = False
    assert await shared() == 2


async def test_a_caller_that_leaves_does_not_cancel_the_others_read() -> None:
    reads = Reads()
    shared = JoinedRead(reads)
    leaving, staying = asyncio.create_task(shared()), asyncio.create_task(shared())
    await asyncio.sleep(0)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    reads.release.set()
    assert await staying == 1
