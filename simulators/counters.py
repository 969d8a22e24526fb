"""Counters integrated on a fixed grid, and when a meter refreshes what it shows.

A counter advances on a fixed grid of ``step`` seconds from its origin with the midpoint
rule, so its value at a grid instant does not depend on when or how often it was asked.
It sums rate x seconds and divides by 3600 once, so a constant 400 kW makes exactly
400 kWh an hour. What a meter exposes at time t is its state at the last refresh instant
at or before t, the way a real meter refreshes its registers once per measuring cycle.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

_HISTORY = 7200  # grid instants kept for look-ups into the recent past


class Rate(Protocol):
    """A flow as a pure function of Unix time: kW, Nm³/h, t/h, m³/h, GJ/h."""

    def rate(self, t: float) -> float: ...


class Sum:
    """The sum of several rates (a parent meter carries its sub-meters' loads)."""

    def __init__(self, *parts: Rate) -> None:
        self.parts = parts

    def rate(self, t: float) -> float:
        return sum(part.rate(t) for part in self.parts)


@dataclass(frozen=True, slots=True)
class Timing:
    """A meter's integration grid (``origin`` + k x ``step``) and its refresh period.

    Without ``refresh`` the meter shows each grid instant. With it (a multiple of
    ``step``), it shows the last multiple of ``refresh`` in Unix time: in an accelerated
    run a poll that ends a little after its tick still reads that tick's state.
    """

    origin: float
    step: float
    refresh: float | None = None

    def grid(self, t: float) -> float:
        """The last integration instant at or before ``t``, never before the origin."""
        return self.origin + max(0, math.floor((t - self.origin) / self.step)) * self.step

    def shown(self, t: float) -> float:
        """The instant whose state a meter shows at ``t``."""
        if self.refresh is not None:
            t = math.floor(t / self.refresh) * self.refresh
        return self.grid(t)


@dataclass(frozen=True, slots=True)
class Total:
    """A counter a meter keeps, as ground truth sees it: what it integrates, in what unit."""

    unit: str
    rate: Rate


class Counter:
    """∫ rate dt on a fixed grid, in rate-units·hours (kW → kWh, Nm³/h → Nm³)."""

    def __init__(self, profile: Rate, initial: float, origin: float, step: float) -> None:
        self.profile = profile
        self.step = step
        self.origin = origin
        self.initial = initial
        self._timing = Timing(origin, step)
        self._t = origin
        self._k = 0  # grid instants integrated; origin + k x step avoids drift from +=
        self._sum = 0.0  # rate-units x seconds since the origin
        self._history: OrderedDict[float, float] = OrderedDict({origin: initial})

    def grid(self, t: float) -> float:
        """The last grid instant at or before ``t`` (the origin for earlier times)."""
        return self._timing.grid(t)

    def value_at(self, t: float) -> float:
        """The counter at the grid instant of ``t``; ValueError if that is too far back."""
        target = self.grid(t)
        while self._t < target:
            self._sum += self.profile.rate(self._t + self.step / 2) * self.step
            self._k += 1
            self._t = self.origin + self._k * self.step
            self._history[self._t] = self.initial + self._sum / 3600
            if len(self._history) > _HISTORY:
                self._history.popitem(last=False)
        try:
            return self._history[target]
        except KeyError:
            raise ValueError(f"t={t} is before the simulator's remembered history") from None


class Meter:
    """What every model shares: its timing, and its values computed once per shown instant.

    The Modbus gateway asks once per block read and the MQTT gateway once per publish;
    caching by instant makes a multi-block poll cost one evaluation of the model.
    """

    def __init__(self, timing: Timing) -> None:
        self.timing = timing
        self._cached_at: float | None = None
        self._cached: dict[str, float] = {}

    def grid(self, t: float) -> float:
        """The instant whose state the meter shows at ``t``."""
        return self.timing.shown(t)

    def values_at(self, t: float) -> dict[str, float]:
        """Every value the meter shows at ``t``, by register name; do not mutate it."""
        shown = self.grid(t)
        if shown != self._cached_at:
            self._cached = self._values(shown)
            self._cached_at = shown
        return self._cached

    def totals(self) -> dict[str, Total]:
        """The meter's counters by name, for ground truth."""
        raise NotImplementedError

    def _values(self, at: float) -> dict[str, float]:
        raise NotImplementedError
