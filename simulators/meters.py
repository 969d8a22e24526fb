"""Meter models: counters integrated from a profile, and the instantaneous values around them.

A counter advances on a fixed grid of ``step`` seconds from its origin with the midpoint
rule, so its value at a grid instant does not depend on when or how often it was asked.
What a meter exposes at time t is its state at the last grid instant at or before t, the
way a real meter refreshes its registers once per measuring cycle.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Protocol

from simulators.profiles import DailyProfile, noise

_HISTORY = 7200  # grid instants kept for look-ups into the recent past


class Rate(Protocol):
    def rate(self, t: float) -> float: ...


class Counter:
    """∫ rate dt on a fixed grid, in rate-units·hours (kW → kWh, Nm³/h → Nm³)."""

    def __init__(self, profile: Rate, initial: float, origin: float, step: float) -> None:
        self.profile = profile
        self.step = step
        self.origin = origin
        self._t = origin
        self._value = initial
        self._history: OrderedDict[float, float] = OrderedDict({origin: initial})

    def grid(self, t: float) -> float:
        """The last grid instant at or before ``t``."""
        return self.origin + math.floor((t - self.origin) / self.step) * self.step

    def value_at(self, t: float) -> float:
        """The counter at the grid instant of ``t``; ValueError if that is too far back."""
        target = self.grid(t)
        while self._t < target:
            mid = self._t + self.step / 2
            self._value += self.profile.rate(mid) * self.step / 3600
            self._t += self.step
            self._history[self._t] = self._value
            if len(self._history) > _HISTORY:
                self._history.popitem(last=False)
        try:
            return self._history[target]
        except KeyError:
            raise ValueError(f"t={t} is before the simulator's remembered history") from None


class ElectricityMeter:
    """A three-phase import meter: kWh counter, kW load, V, A, PF and Hz around it."""

    PHASE_SHARE = (0.34, 0.33, 0.33)

    def __init__(self, profile: DailyProfile, initial: float, origin: float, step: float) -> None:
        self.energy = Counter(profile, initial, origin, step)
        self.seed = profile.spec.seed

    def grid(self, t: float) -> float:
        return self.energy.grid(t)

    def values_at(self, t: float) -> dict[str, float]:
        g = self.energy.grid(t)
        kwh = self.energy.value_at(t)
        kw = self.energy.profile.rate(g)
        out = {
            "import_energy": kwh,
            "export_energy": 0.0,
            "total_energy": kwh,
            "total_power": kw * 1000,
            "frequency": 50.0 + 0.02 * noise(self.seed + 1, math.floor(g)),
            "total_power_factor": 0.95,
        }
        for n, share in enumerate(self.PHASE_SHARE, start=1):
            volts = 230.0 + 2.0 * noise(self.seed + 10 + n, math.floor(g))
            watts = kw * 1000 * share
            amps = watts / (volts * 0.95)
            out |= {
                f"phase_{n}_voltage": volts,
                f"phase_{n}_current": amps,
                f"phase_{n}_power": watts,
                f"phase_{n}_apparent_power": volts * amps,
                f"phase_{n}_reactive_power": math.sqrt(max(0.0, (volts * amps) ** 2 - watts**2)),
                f"phase_{n}_power_factor": 0.95,
            }
        out["average_voltage"] = sum(out[f"phase_{n}_voltage"] for n in (1, 2, 3)) / 3
        out["sum_current"] = sum(out[f"phase_{n}_current"] for n in (1, 2, 3))
        out["average_current"] = out["sum_current"] / 3
        return out


P_BASE_KPA = 101.325  # base conditions of "normal" cubic metres: 0 °C, 101.325 kPa
T_BASE_K = 273.15
Z_RATIO = 0.993  # Z/Zn of natural gas at a few bar: a constant is close enough here
GAS_DENSITY = 0.777  # kg/Nm³, a typical high-calorific natural gas at base conditions


class LineConditions:
    """Absolute pressure (kPa) and temperature (°C) in the gas line, slowly varying."""

    def __init__(self, profile: DailyProfile) -> None:
        self.profile = profile

    def pressure(self, t: float) -> float:
        return P_BASE_KPA + 300.0 + 15.0 * noise(self.profile.spec.seed + 20, math.floor(t / 600))

    def temperature(self, t: float) -> float:
        local = datetime.fromtimestamp(t, UTC).astimezone(self.profile.zone)
        hour = local.hour + local.minute / 60
        return 12.0 + 6.0 * math.sin(2 * math.pi * (hour - 9) / 24)

    def actual_per_base(self, t: float) -> float:
        """m³ at line conditions per Nm³: what the corrector divides by."""
        temperature = self.temperature(t) + T_BASE_K
        return P_BASE_KPA / self.pressure(t) * temperature / T_BASE_K * Z_RATIO


class ActualFlow:
    """The uncorrected flow (m³/h) a turbine meter sees for the profile's Nm³/h."""

    def __init__(self, profile: DailyProfile, line: LineConditions) -> None:
        self.profile = profile
        self.line = line

    def rate(self, t: float) -> float:
        return self.profile.rate(t) * self.line.actual_per_base(t)


class GasMeter:
    """A gas meter with volume corrector: Vb (Nm³) and Vm (m³) counters, flows, T and P.

    Vb is integrated from the profile and Vm from the same flow at line conditions, on
    the same grid, so the two counters are as consistent as a real corrector's.
    """

    def __init__(self, profile: DailyProfile, initial: float, origin: float, step: float) -> None:
        self.line = LineConditions(profile)
        self.volume = Counter(profile, initial, origin, step)
        initial_actual = initial * self.line.actual_per_base(origin)
        self.actual_volume = Counter(ActualFlow(profile, self.line), initial_actual, origin, step)

    def grid(self, t: float) -> float:
        return self.volume.grid(t)

    def values_at(self, t: float) -> dict[str, float]:
        g = self.grid(t)
        flow = self.volume.profile.rate(g)
        volume = self.volume.value_at(t)
        return {
            "volume": volume,
            "flow": flow,
            "actual_volume": self.actual_volume.value_at(t),
            "actual_flow": flow * self.line.actual_per_base(g),
            "pressure": self.line.pressure(g),
            "temperature": self.line.temperature(g),
            "mass": volume * GAS_DENSITY,
            "mass_flow": flow * GAS_DENSITY,
        }


MeterModel = ElectricityMeter | GasMeter
