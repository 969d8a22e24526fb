"""Empty the spool into the store in batches, forever, surviving database outages.

Rows leave the spool only after their batch is committed, so an outage just lets the
spool grow on disk; memory holds one batch at most, whatever the backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from collector.metrics import CollectorMetrics
from collector.spool import Spool
from meterledger.errors import StoreError
from store.dead_letters import DeadLetter

log = logging.getLogger(__name__)

#: Store ``count`` rows packed as the spool keeps them (store.reading_rows.pack_rows);
#: return how many were new (store.readings.write_packed).
WriteBatch = Callable[[bytes, int], Awaitable[int]]
WriteDeadLetters = Callable[[Sequence[DeadLetter]], Awaitable[None]]


class BatchWriter:
    def __init__(
        self,
        spool: Spool,
        write: WriteBatch,
        metrics: CollectorMetrics,
        *,
        write_dead_letters: WriteDeadLetters | None = None,
        batch_size: int,
        flush_interval: float,
        retry_max: float = 30.0,
    ) -> None:
        self._spool = spool
        self._write = write
        self._write_dead_letters = write_dead_letters
        self._metrics = metrics
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._retry_max = retry_max
        self._wake = asyncio.Event()
        self._pending = 0
        self._stopping = False

    def added(self, count: int) -> None:
        """Note rows appended to the spool; flush early once a whole batch is waiting.

        Otherwise the flush interval bounds the delay, so a busy plant writes full batches
        rather than one transaction per poll. Call it on the writer's event loop (from
        another thread through ``loop.call_soon_threadsafe``).
        """
        self._pending += count
        if self._pending >= self._batch_size:
            self._wake.set()

    def wake(self) -> None:
        """Ask for a flush now."""
        self._wake.set()

    def stop(self) -> None:
        """Make `run` flush once more and return, once the sources have stopped.

        Asked rather than cancelled, the last drain is not cut short by the supervisor
        cancelling again a part that seems slow (meterledger.supervision).
        """
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Flush until `stop` or a cancel, then once more; back off while the database refuses."""
        try:
            await self._flush_until_stopped()
        finally:
            # A clean stop leaves nothing behind that could have been written now; what the
            # database cannot take stays spooled for the next start.
            with contextlib.suppress(StoreError, TimeoutError):
                await asyncio.wait_for(self.flush(), timeout=5)

    async def _flush_until_stopped(self) -> None:
        delay = self._flush_interval
        while not self._stopping:
            try:
                await self.flush()
                delay = self._flush_interval
            except StoreError as exc:
                self._metrics.write_errors.inc()
                delay = min(max(delay * 2, 1.0), self._retry_max)
                log.warning("database write failed, retrying in %.0f s: %s", delay, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()
            self._pending = 0

    async def flush(self) -> int:
        """Write everything spooled so far; return the number of new rows."""
        await self._flush_dead_letters()
        written = 0
        while True:
            mark, count, packed = await asyncio.to_thread(self._spool.peek_packed, self._batch_size)
            if not count:
                self._metrics.spool_depth.set(0)
                return written
            new = await self._write(packed, count)
            await asyncio.to_thread(self._spool.remove_through, mark)
            self._metrics.readings_written.inc(new)
            written += new
            if count < self._batch_size:
                self._metrics.spool_depth.set(await asyncio.to_thread(self._spool.depth))
                return written

    async def _flush_dead_letters(self) -> None:
        if self._write_dead_letters is None:
            return
        while True:
            seq, letters = await asyncio.to_thread(self._spool.peek_dead_letters, 500)
            if not letters:
                return
            await self._write_dead_letters(letters)
            await asyncio.to_thread(self._spool.remove_dead_letters_through, seq)
