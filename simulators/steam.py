"""Steam meters: a vortex flow meter with temperature and pressure, and an energy counter.

Mass (t) integrates the flow (t/h); energy (GJ) integrates the heat flow
M' x (h(P, T) - 83.74 kJ/kg) x 1e-3 with h from IAPWS-IF97 at the live P and T, the way
a flow computer does, so its GJ agree with the ledger's formula applied to the same steam.
Pressure and temperature wander around their set points every ten minutes.
"""

from __future__ import annotations

import math

from simulators.counters import Counter, Meter, Rate, Timing, Total
from simulators.profiles import noise
from simulators.steam_tables import enthalpy, heat_per_tonne

_CONDITIONS_SLOT = 600  # s that a header's P and T hold


class SteamConditions:
    """Absolute pressure (MPa) and temperature (°C) in the steam line at ``t``."""

    def __init__(
        self,
        seed: int,
        pressure: float,
        temperature: float,
        pressure_swing: float,
        temperature_swing: float,
    ) -> None:
        self.seed = seed
        self.set_pressure = pressure
        self.set_temperature = temperature
        self.pressure_swing = pressure_swing
        self.temperature_swing = temperature_swing

    def pressure(self, t: float) -> float:
        slot = math.floor(t / _CONDITIONS_SLOT)
        return self.set_pressure + self.pressure_swing * noise(self.seed + 30, slot)

    def temperature(self, t: float) -> float:
        slot = math.floor(t / _CONDITIONS_SLOT)
        return self.set_temperature + self.temperature_swing * noise(self.seed + 31, slot)


class HeatFlow:
    """GJ/h carried by the steam over feed water at 20 °C."""

    def __init__(self, mass_flow: Rate, conditions: SteamConditions) -> None:
        self.mass_flow = mass_flow
        self.conditions = conditions

    def rate(self, t: float) -> float:
        flow = self.mass_flow.rate(t)
        if not flow:
            return 0.0
        c = self.conditions
        return flow * heat_per_tonne(c.pressure(t), c.temperature(t))


class SteamMeter(Meter):
    """Mass (t) and energy (GJ) counters; t/h, GJ/h, MPa, °C and kJ/kg around them."""

    def __init__(
        self,
        profile: Rate,
        initial: float,
        origin: float,
        step: float,
        *,
        conditions: SteamConditions,
        initial_energy: float = 0.0,
        refresh: float | None = None,
    ) -> None:
        super().__init__(Timing(origin, step, refresh))
        self.profile = profile
        self.conditions = conditions
        self.heat = HeatFlow(profile, conditions)
        self.mass = Counter(profile, initial, origin, step)
        self.energy = Counter(self.heat, initial_energy, origin, step)

    def totals(self) -> dict[str, Total]:
        return {"mass": Total("t", self.profile), "energy": Total("GJ", self.heat)}

    def _values(self, at: float) -> dict[str, float]:
        pressure = self.conditions.pressure(at)
        temperature = self.conditions.temperature(at)
        return {
            "mass": self.mass.value_at(at),
            "mass_flow": self.profile.rate(at),
            "energy": self.energy.value_at(at),
            "heat_flow": self.heat.rate(at),
            "pressure": pressure,
            "temperature": temperature,
            "enthalpy": enthalpy(pressure, temperature),
        }
