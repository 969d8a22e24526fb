"""Load profiles: a rate (kW, Nm³/h, t/h, m³/h) as a pure function of time, from a seed.

Being a function of time alone (not of how often it is asked), the profile integrates to
the same counter whatever the polling pattern, which is what makes ground truth exact.

    rate(t) = (base + heating x w_winter(t) + cooling x w_summer(t)
               + sum of process load x shift weight x day factor x cycle) x (1 + noise)

The seasonal weights are a cosine of the day of the year, 1 in mid-January (mid-July in the
southern hemisphere) and 0 from the equinoxes on, which puts space heating in Shenyang's
November-March heating season and chillers in May-October. The day factor is 1 on working
days, the weekend factor on weekends and the holiday factor on public holidays, taken from
the day a shift starts on, so a night shift from Friday 22:00 runs at Friday's level.
"""

from __future__ import annotations

import hashlib
import math
import struct
from datetime import date, datetime
from zoneinfo import ZoneInfo

from simulators.config import MeterSimulation, ProcessLoad, Shift
from simulators.holidays import Calendar

_RAMP_HOURS = 0.5  # lines start and stop over half an hour, not in a step
_YEAR = 365.2425 * 86400  # s
_MID_JANUARY = 947894400.0  # 2000-01-15 00:00 UTC, around the coldest day in the north


def noise(seed: int, slot: int) -> float:
    """A uniform value in [-1, 1) fixed by seed and time slot (minute, day, ...)."""
    digest = hashlib.blake2b(struct.pack(">qq", seed, slot), digest_size=8).digest()
    (value,) = struct.unpack(">Q", digest)
    return float(value) / 2**63 - 1.0


def season(t: float, latitude: float | None = None) -> float:
    """+1 at mid-winter, -1 at mid-summer (hemisphere from ``latitude``, north if unset)."""
    phase = math.cos(2 * math.pi * (t - _MID_JANUARY) / _YEAR)
    return -phase if latitude is not None and latitude < 0 else phase


def ramp(hours_in: float, duration: float) -> float:
    """0 before a shift, 1 on it, with half-hour cosine ramps either side of it."""
    if hours_in < -_RAMP_HOURS or hours_in >= duration + _RAMP_HOURS:
        return 0.0
    if hours_in < 0:
        return 0.5 - 0.5 * math.cos(math.pi * (hours_in + _RAMP_HOURS) / _RAMP_HOURS)
    if hours_in >= duration:
        return 0.5 + 0.5 * math.cos(math.pi * (hours_in - duration) / _RAMP_HOURS)
    return 1.0


class DailyProfile:
    """The rate of one meter's own load; ``rate(t)`` is never negative."""

    def __init__(
        self,
        spec: MeterSimulation,
        timezone: str,
        calendar: Calendar | None = None,
        latitude: float | None = None,
    ) -> None:
        self.spec = spec
        self.seed = spec.seed
        self.zone = ZoneInfo(timezone)
        self.calendar = calendar or Calendar()
        self.latitude = latitude
        main = () if spec.peak is None else (ProcessLoad(load=spec.peak - spec.base),)
        self.processes = tuple(p for p in main + spec.processes if p.load > 0)
        self._day_factors: dict[int, float] = {}

    def rate(self, t: float) -> float:
        spec = self.spec
        local = datetime.fromtimestamp(t, self.zone)
        level = spec.base
        if spec.heating or spec.cooling:
            phase = season(t, self.latitude)
            level += spec.heating * max(0.0, phase) + spec.cooling * max(0.0, -phase)
        for process in self.processes:
            level += process.load * self._running(process, t, local)
        jitter = 1 + spec.noise * noise(spec.seed, math.floor(t / 60))
        return max(0.0, level * jitter)

    def day_factor(self, day: date) -> float:
        """1 on working days; the weekend or holiday factor on days off."""
        return self._day_factor(day.toordinal())

    def _day_factor(self, ordinal: int) -> float:
        factor = self._day_factors.get(ordinal)
        if factor is None:
            day, factor = date.fromordinal(ordinal), 1.0
            if self.calendar.holiday(day):
                factor = self.spec.holiday_factor
                factor = self.spec.weekend_factor if factor is None else factor
            elif self.calendar.weekend(day):
                factor = self.spec.weekend_factor
            self._day_factors[ordinal] = factor
        return factor

    def _running(self, process: ProcessLoad, t: float, local: datetime) -> float:
        """Share of ``process`` running at ``t``: shift weight x day factor x cycle."""
        shifts = self.spec.shifts if process.shifts is None else process.shifts
        share = self._shift_weight(shifts, local)
        cycle = process.cycle
        if share and cycle is not None:
            offset = local.utcoffset()
            hours = (t + (offset.total_seconds() if offset else 0.0)) / 3600  # local clock
            share *= float((hours - cycle.offset) % cycle.period < cycle.duty * cycle.period)
        return share

    def _shift_weight(self, shifts: tuple[Shift, ...], local: datetime) -> float:
        """The largest weight of any shift now (overlapping shifts hand over at full load).

        No shifts at all means the process runs around the clock, every day.
        """
        if not shifts:
            return 1.0
        hour = local.hour + local.minute / 60 + (local.second + local.microsecond / 1e6) / 3600
        today = local.toordinal()
        best = 0.0
        for shift in shifts:
            duration = (shift.end - shift.start) % 24 or 24.0
            for days_ago in (-1, 0, 1):  # yesterday's night shift, tomorrow's ramp-in
                weight = ramp(hour + 24 * days_ago - shift.start, duration)
                if weight:
                    factor = self._day_factor(today - days_ago)  # the day it started on
                    best = max(best, shift.load * weight * factor)
        return best
