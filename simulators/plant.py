"""Build every meter model of the ``simulation`` section, wired to the models it reads.

A parent electricity meter carries its own (unmetered) load plus its sub-meters' loads,
and sees the PV behind it and behind them as generation; a gas meter feeding a boiler
burns what that boiler's steam meter carries. Models are built after the ones they read,
from the same objects, so a kWh the PV meter counts is the very kWh the grid meter nets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from simulators.config import (
    ElectricitySimulation,
    GasSimulation,
    MeterSimulation,
    MeterSpec,
    PvSimulation,
    SimulationConfig,
    SteamSimulation,
    WaterSimulation,
)
from simulators.counters import Rate, Sum
from simulators.electricity import ElectricityMeter
from simulators.faults import with_faults
from simulators.gas import BoilerFuel, GasMeter
from simulators.holidays import Calendar
from simulators.meters import MeterModel
from simulators.profiles import DailyProfile
from simulators.pv import PvGeneration
from simulators.steam import SteamConditions, SteamMeter
from simulators.totalizers import ProductionCounter, WaterMeter


@dataclass(frozen=True, slots=True)
class Wiring:
    """Where a meter hangs: its site's time zone, and the transformers it measures through."""

    timezone: str
    ct_ratio: float = 1.0
    pt_ratio: float = 1.0


def build_models(
    simulation: SimulationConfig, wiring: Mapping[str, Wiring], *, origin: float
) -> dict[str, MeterModel]:
    """A model per simulated meter, wired as ``wiring`` says (every meter must be in it).

    Counters hold their ``initial`` at ``simulation.origin`` if set, else at ``origin``
    (both floored to the meter's step, so every grid is a multiple of its step in Unix
    time and ground truth does not depend on when a run started).
    Meters with ``faults`` show them (`simulators.faults.FaultyMeter`); the models they
    wrap, which other models read, do not.
    """
    start = simulation.origin.timestamp() if simulation.origin else origin
    builder = _Builder(simulation, wiring, start)
    models = {meter_id: builder.model(meter_id) for meter_id in simulation.meters}
    kinds = {meter_id: spec.model for meter_id, spec in simulation.meters.items()}
    return with_faults(models, kinds, simulation.faults)


@dataclass
class _Builder:
    simulation: SimulationConfig
    wiring: Mapping[str, Wiring]
    start: float
    models: dict[str, MeterModel] = field(default_factory=dict)
    loads: dict[str, list[Rate]] = field(default_factory=dict)
    generation: dict[str, list[Rate]] = field(default_factory=dict)
    pv: dict[str, PvGeneration] = field(default_factory=dict)

    def model(self, meter_id: str) -> MeterModel:
        if meter_id not in self.models:
            self.models[meter_id] = self._build(meter_id, self.simulation.meters[meter_id])
        return self.models[meter_id]

    def _build(self, meter_id: str, spec: MeterSpec) -> MeterModel:
        step = self.simulation.step or spec.step
        grid = (math.floor(self.start / step) * step, step)
        refresh = self.simulation.refresh
        if isinstance(spec, PvSimulation):
            pv = self._pv(meter_id, spec)
            return ElectricityMeter(
                pv,
                spec.initial,
                *grid,
                seed=spec.seed,
                power_factor=1.0,
                voltage=spec.voltage,
                refresh=refresh,
            )
        profile = self._profile(meter_id, spec)
        if isinstance(spec, ElectricitySimulation):
            return self._electricity(meter_id, spec, profile, grid, refresh)
        if isinstance(spec, GasSimulation):
            fuel = [self._boiler(b.steam, b.efficiency, b.ncv) for b in spec.boilers]
            flow = Sum(profile, *fuel) if fuel else profile
            return GasMeter(
                flow,
                spec.initial,
                *grid,
                seed=spec.seed,
                zone=profile.zone,
                pressure=spec.pressure,
                refresh=refresh,
            )
        if isinstance(spec, SteamSimulation):
            conditions = SteamConditions(
                spec.seed,
                spec.pressure,
                spec.temperature,
                spec.pressure_swing,
                spec.temperature_swing,
            )
            return SteamMeter(
                profile,
                spec.initial,
                *grid,
                conditions=conditions,
                initial_energy=spec.initial_energy,
                refresh=refresh,
            )
        kind = WaterMeter if isinstance(spec, WaterSimulation) else ProductionCounter
        return kind(profile, spec.initial, *grid, refresh=refresh)

    def _electricity(
        self,
        meter_id: str,
        spec: ElectricitySimulation,
        profile: DailyProfile,
        grid: tuple[float, float],
        refresh: float | None,
    ) -> MeterModel:
        loads: list[Rate] = [profile]
        generation: list[Rate] = [self._pv(p, self._spec(p, PvSimulation)) for p in spec.generation]
        for sub in spec.includes:
            self.model(sub)
            loads += self.loads[sub]
            generation += self.generation[sub]
        self.loads[meter_id], self.generation[meter_id] = loads, generation
        return ElectricityMeter(
            Sum(*loads) if len(loads) > 1 else profile,
            spec.initial,
            *grid,
            generation=generation,
            initial_export=spec.initial_export,
            seed=spec.seed,
            power_factor=spec.power_factor,
            voltage=spec.voltage,
            ct_ratio=self.wiring[meter_id].ct_ratio,
            pt_ratio=self.wiring[meter_id].pt_ratio,
            refresh=refresh,
        )

    def _boiler(self, steam_id: str, efficiency: float, ncv: float) -> Rate:
        steam = self.model(steam_id)
        assert isinstance(steam, SteamMeter)  # SimulationConfig checked the reference
        return BoilerFuel(steam, efficiency, ncv)

    def _pv(self, meter_id: str, spec: PvSimulation) -> PvGeneration:
        if meter_id not in self.pv:
            lat, lon = self.simulation.latitude, self.simulation.longitude
            assert lat is not None  # SimulationConfig checked both
            assert lon is not None
            self.pv[meter_id] = PvGeneration(spec, lat, lon)
        return self.pv[meter_id]

    def _profile(self, meter_id: str, spec: MeterSimulation) -> DailyProfile:
        calendar = Calendar.of(self.simulation.country, self.simulation.holidays)
        zone = self.wiring[meter_id].timezone
        return DailyProfile(spec, zone, calendar, self.simulation.latitude)

    def _spec(self, meter_id: str, kind: type[PvSimulation]) -> PvSimulation:
        spec = self.simulation.meters[meter_id]
        assert isinstance(spec, kind)
        return spec
