"""Simulated time: the wall clock, or an accelerated one starting at a chosen instant."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class SimClock:
    """``now()`` in Unix seconds; ``speed`` simulated seconds pass per real second."""

    speed: float = 1.0
    start: float | None = None
    _real_start: float = field(default_factory=time.time)

    def now(self) -> float:
        if self.start is None and self.speed == 1.0:
            return time.time()
        origin = self._real_start if self.start is None else self.start
        return origin + (time.time() - self._real_start) * self.speed
