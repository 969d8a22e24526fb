"""Load profiles: a rate (kW, Nm³/h) as a pure function of time, reproducible from a seed.

Being a function of time alone (not of how often it is asked), the profile integrates to
the same counter whatever the polling pattern, which is what makes ground truth exact.
"""

from __future__ import annotations

import hashlib
import math
import struct
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from simulators.config import MeterSimulation

_RAMP_HOURS = 0.5


def noise(seed: int, minute: int) -> float:
    """A uniform value in [-1, 1) fixed by seed and minute."""
    digest = hashlib.blake2b(struct.pack(">qq", seed, minute), digest_size=8).digest()
    (value,) = struct.unpack(">Q", digest)
    return float(value) / 2**63 - 1.0


class DailyProfile:
    def __init__(self, spec: MeterSimulation, timezone: str) -> None:
        self.spec = spec
        self.zone = ZoneInfo(timezone)

    def rate(self, t: float) -> float:
        """The rate at Unix time ``t``: never negative."""
        local = datetime.fromtimestamp(t, UTC).astimezone(self.zone)
        hour = local.hour + local.minute / 60 + local.second / 3600
        shift = self._shift_weight(hour)
        if local.weekday() >= 5:
            shift *= self.spec.weekend_factor
        level = self.spec.base + (self.spec.peak - self.spec.base) * shift
        jitter = 1 + self.spec.noise * noise(self.spec.seed, math.floor(t / 60))
        return max(0.0, level * jitter)

    def _shift_weight(self, hour: float) -> float:
        """0 off shift, 1 on shift, with half-hour cosine ramps at either end."""
        start, end = self.spec.shift_start, self.spec.shift_end
        if hour < start - _RAMP_HOURS or hour >= end + _RAMP_HOURS:
            return 0.0
        if hour < start:
            return 0.5 - 0.5 * math.cos(math.pi * (hour - start + _RAMP_HOURS) / _RAMP_HOURS)
        if hour >= end:
            return 0.5 + 0.5 * math.cos(math.pi * (hour - end) / _RAMP_HOURS)
        return 1.0
