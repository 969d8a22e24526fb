"""Simulated time: the wall clock, or an accelerated one from a chosen instant to another.

One clock is shared by the simulated gateways and, in a backfill, by the collector's
pollers, so a reading's tick, the state a meter shows and the stamp it gets all come from
the same simulated instant. An accelerated clock can start paused (while the database and
broker come up, which at 3600x would otherwise eat simulated hours) and stops at
``until``: from then on ``now()`` stays there, so nothing polls or publishes past it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class SimClock:
    """``now()`` in Unix seconds; ``speed`` simulated seconds pass per real second."""

    speed: float = 1.0
    start: float | None = None
    until: float | None = None
    paused: bool = False
    _real_start: float = field(default_factory=time.time)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError(f"speed must be positive, not {self.speed}")
        if not self.paused:
            self._released.set()

    def now(self) -> float:
        """Simulated Unix time: ``start`` while paused, never past ``until``."""
        if self.paused:
            assert self.start is not None, "only a clock with a start can be paused"
            return self.start
        if self.start is None and self.speed == 1.0:
            return time.time()
        origin = self._real_start if self.start is None else self.start
        now = origin + (time.time() - self._real_start) * self.speed
        return now if self.until is None else min(now, self.until)

    def release(self) -> None:
        """Let a paused clock run from ``start``, beginning now."""
        if self.paused:
            self._real_start = time.time()
            self.paused = False
            self._released.set()

    async def released(self) -> None:
        """Return once the clock runs (at once for a clock that was never paused)."""
        await self._released.wait()

    @property
    def finished(self) -> bool:
        """True once simulated time has reached ``until``."""
        return self.until is not None and self.now() >= self.until

    async def sleep_until(self, t: float) -> None:
        """Return once simulated time reaches ``t``; never if ``t`` is past ``until``."""
        while self.now() < t:
            if self.paused:
                await self._released.wait()
            elif self.until is not None and t > self.until and self.finished:
                await asyncio.Event().wait()  # time has stopped: wait to be cancelled
            else:
                await asyncio.sleep((t - self.now()) / self.speed)
