"""Natural-gas meters with a volume corrector, and the gas a steam boiler burns.

The corrector converts the turbine meter's volume at line conditions (Vm, m³) to base
conditions (Vb, Nm³ at 0 °C and 101.325 kPa) with live pressure and temperature:
Vm / Vb = (p_b / p) x (T / T_b) x (Z / Z_b). Both counters are integrated on the same
grid from the same flow, so they are as consistent as a real corrector's.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo

from simulators.counters import Counter, Meter, Rate, Timing, Total
from simulators.profiles import noise
from simulators.steam import SteamMeter

P_BASE_KPA = 101.325  # base conditions of "normal" cubic metres: 0 °C, 101.325 kPa
T_BASE_K = 273.15
Z_RATIO = 0.993  # Z/Zn of natural gas at a few bar: a constant is close enough here
GAS_DENSITY = 0.777  # kg/Nm³, a typical high-calorific natural gas at base conditions


class LineConditions:
    """Absolute pressure (kPa) and temperature (°C) in the gas line, slowly varying.

    Pressure wanders ±15 kPa every ten minutes around the regulator's set point; the
    buried line's temperature follows the day, 12 ± 6 °C, warmest mid-afternoon.
    """

    def __init__(self, seed: int, zone: tzinfo, pressure: float = P_BASE_KPA + 300.0) -> None:
        self.seed = seed
        self.zone = zone
        self.set_point = pressure

    def pressure(self, t: float) -> float:
        return self.set_point + 15.0 * noise(self.seed + 20, math.floor(t / 600))

    def temperature(self, t: float) -> float:
        local = datetime.fromtimestamp(t, self.zone)
        hour = local.hour + local.minute / 60
        return 12.0 + 6.0 * math.sin(2 * math.pi * (hour - 9) / 24)

    def actual_per_base(self, t: float) -> float:
        """m³ at line conditions per Nm³: what the corrector divides by."""
        temperature = self.temperature(t) + T_BASE_K
        return P_BASE_KPA / self.pressure(t) * temperature / T_BASE_K * Z_RATIO


class ActualFlow:
    """The uncorrected flow (m³/h) a turbine meter sees for the profile's Nm³/h."""

    def __init__(self, profile: Rate, line: LineConditions) -> None:
        self.profile = profile
        self.line = line

    def rate(self, t: float) -> float:
        return self.profile.rate(t) * self.line.actual_per_base(t)


class MassFlow:
    """kg/h of gas for the profile's Nm³/h."""

    def __init__(self, profile: Rate) -> None:
        self.profile = profile

    def rate(self, t: float) -> float:
        return self.profile.rate(t) * GAS_DENSITY


class BoilerFuel:
    """Nm³/h of gas a boiler burns to raise its steam: heat out / efficiency / NCV.

    The heat is what the boiler's steam meter counts (GJ/h over feed water at 20 °C), so
    the efficiency is the one an energy manager computes from those two meters.
    """

    def __init__(self, steam: SteamMeter, efficiency: float, ncv: float) -> None:
        self.steam = steam
        self.gj_per_nm3 = efficiency * ncv / 1000  # MJ/Nm³ -> GJ/Nm³ of useful heat

    def rate(self, t: float) -> float:
        return self.steam.heat.rate(t) / self.gj_per_nm3


class GasMeter(Meter):
    """Vb (Nm³), Vm (m³) and mass (kg) counters; flows, T and P, as a 1758-FLO shows them."""

    def __init__(
        self,
        profile: Rate,
        initial: float,
        origin: float,
        step: float,
        *,
        seed: int | None = None,
        zone: tzinfo | None = None,
        pressure: float = P_BASE_KPA + 300.0,
        refresh: float | None = None,
    ) -> None:
        super().__init__(Timing(origin, step, refresh))
        self.profile = profile
        self.line = LineConditions(
            getattr(profile, "seed", 0) if seed is None else seed,
            getattr(profile, "zone", UTC) if zone is None else zone,
            pressure,
        )
        self.volume = Counter(profile, initial, origin, step)
        initial_actual = initial * self.line.actual_per_base(origin)
        self.actual_volume = Counter(ActualFlow(profile, self.line), initial_actual, origin, step)
        self.mass = Counter(MassFlow(profile), initial * GAS_DENSITY, origin, step)

    def totals(self) -> dict[str, Total]:
        return {
            "volume": Total("Nm3", self.volume.profile),
            "actual_volume": Total("m3", self.actual_volume.profile),
            "mass": Total("kg", self.mass.profile),
        }

    def _values(self, at: float) -> dict[str, float]:
        flow = self.profile.rate(at)
        return {
            "volume": self.volume.value_at(at),
            "flow": flow,
            "actual_volume": self.actual_volume.value_at(at),
            "actual_flow": flow * self.line.actual_per_base(at),
            "pressure": self.line.pressure(at),
            "temperature": self.line.temperature(at),
            "mass": self.mass.value_at(at),
            "mass_flow": flow * GAS_DENSITY,
        }
