"""One database read shared by the requests that arrive while it is running.

Fifty dashboards asking ``/api/v1/live`` at once need one answer, not fifty identical
queries: a request that finds the read in flight waits for it instead of starting
another. An answer is therefore never older than the read's own duration (a
millisecond or so) — a reading committed after the shared read began may appear only
in the next one — and nothing is cached beyond that: the next request after it ends
starts a new read. A failure reaches every request that waited for it, and the next
one tries again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class JoinedRead(Generic[T]):
    """Call ``read`` at most once at a time; concurrent callers share its result."""

    def __init__(self, read: Callable[[], Awaitable[T]]) -> None:
        self._read = read
        self._running: asyncio.Task[T] | None = None

    async def __call__(self) -> T:
        task = self._running
        if task is None:
            task = self._running = asyncio.ensure_future(self._once())
            task.add_done_callback(_retrieve)
        # Shielded: a client that hangs up cancels its own wait, not the others' read.
        return await asyncio.shield(task)

    async def _once(self) -> T:
        try:
            return await self._read()
        finally:
            self._running = None


def _retrieve(task: asyncio.Task[T]) -> None:
    """Mark a failure seen even when every waiter left, so asyncio does not report it."""
    if not task.cancelled():
        task.exception()
