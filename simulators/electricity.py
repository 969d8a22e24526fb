"""Three-phase electricity meters on a net flow: site load minus on-site generation.

A grid meter sees ``load - generation``: import while positive, export while negative,
each on its own counter (an SDM630 or DTSU666 keeps both). The load's reactive power
stays with the load, so with PV covering the active power the grid meter's power factor
drops, as it does on real sites. Values carry the register names of the SDM630 and
DTSU666 maps; behind a CT or PT they are secondary-side values, as a DTSU666 shows them.

A PV generation meter is the same meter on the generation alone (wired so that the
inverter's output counts forward, as import), at unity power factor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from simulators.counters import Counter, Meter, Rate, Timing, Total
from simulators.profiles import noise

PHASE_SHARE = (0.34, 0.33, 0.33)  # a slightly unbalanced three-phase load
_SQRT3 = math.sqrt(3)


class NetFlow:
    """Load and generation behind one meter, in kW, evaluated once per instant."""

    def __init__(self, loads: Sequence[Rate], generation: Sequence[Rate] = ()) -> None:
        self.loads = tuple(loads)
        self.generation = tuple(generation)
        self._at: float | None = None
        self._last = (0.0, 0.0)

    def at(self, t: float) -> tuple[float, float]:
        """(load, generation) in kW at ``t``; import and export counters ask in turn."""
        if t != self._at:
            load = sum(r.rate(t) for r in self.loads)
            self._last = (load, sum(r.rate(t) for r in self.generation))
            self._at = t
        return self._last

    def part(self, pick: Callable[[float, float], float]) -> Rate:
        """A rate derived from (load, generation), such as import = max(load - gen, 0)."""
        return _Part(self, pick)


class _Part:
    def __init__(self, flow: NetFlow, pick: Callable[[float, float], float]) -> None:
        self.flow = flow
        self.pick = pick

    def rate(self, t: float) -> float:
        return self.pick(*self.flow.at(t))


def _import(load: float, generation: float) -> float:
    return max(load - generation, 0.0)


def _export(load: float, generation: float) -> float:
    return max(generation - load, 0.0)


class ElectricityMeter(Meter):
    """kWh import and export counters, kW, V, A, PF and Hz of a three-phase meter."""

    def __init__(
        self,
        load: Rate,
        initial: float,
        origin: float,
        step: float,
        *,
        generation: Sequence[Rate] = (),
        initial_export: float = 0.0,
        seed: int | None = None,
        power_factor: float = 0.95,
        voltage: float = 230.0,
        ct_ratio: float = 1.0,
        pt_ratio: float = 1.0,
        refresh: float | None = None,
    ) -> None:
        super().__init__(Timing(origin, step, refresh))
        self.flow = NetFlow((load,), generation)
        self.energy = Counter(self.flow.part(_import), initial, origin, step)
        self.export = Counter(self.flow.part(_export), initial_export, origin, step)
        self.seed = getattr(load, "seed", 0) if seed is None else seed
        self.tan_phi = math.tan(math.acos(power_factor))
        self.voltage = voltage
        self.ct_ratio = ct_ratio
        self.pt_ratio = pt_ratio

    def totals(self) -> dict[str, Total]:
        """Import and export kWh; behind-the-meter load and generation where there is PV."""
        totals = {
            "import_energy": Total("kWh", self.energy.profile),
            "export_energy": Total("kWh", self.export.profile),
        }
        if self.flow.generation:
            totals["load"] = Total("kWh", self.flow.part(lambda load, _gen: load))
            totals["generation"] = Total("kWh", self.flow.part(lambda _load, gen: gen))
        return totals

    def _values(self, at: float) -> dict[str, float]:
        load, generation = self.flow.at(at)
        ratio = self.ct_ratio * self.pt_ratio  # power and energy on the secondary side
        active = (load - generation) * 1000 / ratio  # kW -> W
        reactive = load * self.tan_phi * 1000 / ratio
        imported = self.energy.value_at(at) / ratio
        exported = self.export.value_at(at) / ratio
        out = {
            "import_energy": imported,
            "export_energy": exported,
            "total_energy": imported + exported,
            "total_power": active,
            "total_reactive_power": reactive,
            "total_apparent_power": math.hypot(active, reactive),
            "total_power_factor": _power_factor(active, reactive),
            "frequency": 50.0 + 0.02 * noise(self.seed + 1, math.floor(at)),
        }
        for n, share in enumerate(PHASE_SHARE, start=1):
            out |= self._phase(n, active * share, reactive * share, at)
        for a, b in ((1, 2), (2, 3), (3, 1)):
            mean = (out[f"phase_{a}_voltage"] + out[f"phase_{b}_voltage"]) / 2
            out[f"line_{a}_{b}_voltage"] = _SQRT3 * mean
        out["average_voltage"] = sum(out[f"phase_{n}_voltage"] for n in (1, 2, 3)) / 3
        out["sum_current"] = sum(out[f"phase_{n}_current"] for n in (1, 2, 3))
        out["average_current"] = out["sum_current"] / 3
        return out

    def _phase(self, n: int, watts: float, vars_: float, at: float) -> dict[str, float]:
        volts = (self.voltage + 2.0 * noise(self.seed + 10 + n, math.floor(at))) / self.pt_ratio
        apparent = math.hypot(watts, vars_)
        return {
            f"phase_{n}_voltage": volts,
            f"phase_{n}_current": apparent / volts,
            f"phase_{n}_power": watts,
            f"phase_{n}_apparent_power": apparent,
            f"phase_{n}_reactive_power": vars_,
            f"phase_{n}_power_factor": _power_factor(watts, vars_),
        }


def _power_factor(active: float, reactive: float) -> float:
    """|P| / S, and 1 with nothing flowing (what meters show at no load)."""
    apparent = math.hypot(active, reactive)
    return abs(active) / apparent if apparent else 1.0
