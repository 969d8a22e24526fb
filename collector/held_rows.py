"""Readings a Modbus poller holds for a moment, so that a round of polls costs one commit.

A spool append is a SQLite transaction, and its commit cost (~0.1 ms, measured in issue
4's poll_cpu benchmark) was the largest part of a poll after the Modbus request itself.
A poller therefore hands its rows here; they are appended together at the end of each
round of due polls, once the oldest has waited ``hold`` seconds, or before a poll that
may block (a device that failed last time), whichever comes first. What a crash can lose
is what a crash during the poll would have lost anyway: readings of the last ``hold``
seconds that no one has acknowledged or been told of, from meters that still hold their
counters. MQTT messages are never held: they are acknowledged only once spooled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from collector.spool import Spool
from store.reading_rows import ReadingRow

log = logging.getLogger(__name__)

HOLD = 0.1  # s: a round of 50 devices at ~2 ms each fits in two or three commits
MAX_HELD = 10_000  # rows, so that memory stays bounded whatever the round
ROOM_WAIT = 0.2  # s: how long a thread left waiting for room by a cancelled poller lingers


class HeldRows:
    """Rows waiting to be appended to the spool together."""

    def __init__(
        self,
        spool: Spool,
        on_spooled: Callable[[int], None],
        *,
        hold: float = HOLD,
        max_rows: int = MAX_HELD,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._spool = spool
        self._on_spooled = on_spooled
        self._hold = hold
        self._max_rows = max_rows
        self._clock = clock
        self._rows: list[ReadingRow] = []
        self._since = 0.0

    def __len__(self) -> int:
        return len(self._rows)

    async def add(self, rows: Sequence[ReadingRow]) -> None:
        """Hold ``rows``; spool everything held once it is old or many enough."""
        if not self._rows:
            self._since = self._clock()
        self._rows += rows
        if len(self._rows) >= self._max_rows or self._clock() - self._since >= self._hold:
            await self.spool()

    async def spool(self) -> None:
        """Append everything held in one transaction; while the spool is full, wait for room.

        The append itself is one commit on the event loop, cheaper than a thread hand-off;
        only the wait for the writer goes to a thread. The rows stay held until appended,
        so a poller cancelled while it waits still has them for `spool_now`, and the
        thread it leaves behind writes nothing, even to a spool closed in the meantime.
        """
        rows = self._rows
        if not rows:
            return
        if not self._spool.append_rows_if_room(rows):
            log.warning("spool full (%d rows): holding the pollers back", self._spool.depth())
            while not self._spool.append_rows_if_room(rows):
                await asyncio.to_thread(self._spool.wait_for_room, ROOM_WAIT)
        self._rows = []
        self._on_spooled(len(rows))

    def spool_now(self, timeout: float = 5.0) -> None:
        """Append what is held before stopping, waiting at most ``timeout`` s for room."""
        rows, self._rows = self._rows, []
        if not rows:
            return
        try:
            self._spool.append_rows(rows, timeout=timeout)
        except TimeoutError:
            log.warning("spool full at stop: %d reading(s) of the last poll lost", len(rows))
            return
        self._on_spooled(len(rows))
