"""The ``simulation`` section of the plant file: a physical model per simulated meter.

Every profile-driven model (electricity, gas, steam, water, production) shares the load
shape of `MeterSimulation`; its rates are in the model's flow unit: kW for electricity,
Nm³/h for gas, t/h for steam and production, m³/h for water. PV needs the plant's
``latitude``/``longitude``; holidays come from ``country`` (see `simulators.holidays`).
References between models (sub-meters, PV behind a meter, the steam a boiler raises) are
checked here, so a model graph that loads is one that can be built.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulators.fault_config import FaultSpec, MqttGatewaySimulation, check_faults
from simulators.holidays import COUNTRIES
from simulators.steam_tables import saturation_temperature

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Shift(BaseModel):
    """A working shift in local hours; ``end`` at or before ``start`` runs past midnight.

    The shift belongs to the day it starts on (its weekend or holiday factor), and its
    load ramps in and out over half an hour either side, as lines start and stop.
    """

    model_config = _FROZEN

    start: float = Field(ge=0, lt=24, description="local hour")
    end: float = Field(gt=0, le=24, description="local hour; <= start: the next day")
    load: float = Field(default=1.0, ge=0, le=1, description="share of the process load")

    @model_validator(mode="after")
    def _not_empty(self) -> Shift:
        if self.end == self.start:
            raise ValueError("a shift needs end != start")
        return self


class Cycle(BaseModel):
    """A batch process that runs ``duty`` of every ``period`` hours (CIP, defrost)."""

    model_config = _FROZEN

    period: float = Field(gt=0, le=168, description="h")
    duty: float = Field(gt=0, le=1, description="share of the period switched on")
    offset: float = Field(default=0, ge=0, description="h after local midnight it starts")


class ProcessLoad(BaseModel):
    """A load on top of the base: on its shifts (the meter's by default), maybe cycling."""

    model_config = _FROZEN

    load: float = Field(ge=0, description="rate units, while running")
    shifts: tuple[Shift, ...] | None = Field(
        default=None, description="unset: the meter's shifts; []: around the clock"
    )
    cycle: Cycle | None = None


class MeterSimulation(BaseModel):
    """A load shape: base + seasonal heating/cooling + process loads on shifts, + noise.

    ``peak`` is the rate on a working-day shift (``base`` + the main process load) and
    ``processes`` add further loads. Weekends scale the process loads by
    ``weekend_factor``, public holidays by ``holiday_factor`` (the weekend's if unset).
    ``heating`` and ``cooling`` are rates added at mid-winter and mid-summer, fading to 0
    at the equinoxes. ``noise`` is relative and changes each minute; ``seed`` fixes it.
    """

    model_config = _FROZEN

    model: Literal["electricity", "gas", "steam", "water", "production"]
    base: float = Field(ge=0)
    peak: float | None = Field(default=None, ge=0)
    shifts: tuple[Shift, ...] = (Shift(start=8, end=20),)
    processes: tuple[ProcessLoad, ...] = ()
    weekend_factor: float = Field(default=0.3, ge=0, le=1)
    holiday_factor: float | None = Field(default=None, ge=0, le=1)
    heating: float = Field(default=0, ge=0, description="rate units at mid-winter")
    cooling: float = Field(default=0, ge=0, description="rate units at mid-summer")
    noise: float = Field(default=0.05, ge=0, lt=1, description="relative, per minute")
    initial: float = Field(default=0, ge=0, description="main counter at the origin")
    seed: int = 0
    step: float = Field(default=1.0, gt=0, le=60, description="integration step, s")

    @model_validator(mode="after")
    def _ordered(self) -> MeterSimulation:
        if self.peak is not None and self.peak < self.base:
            raise ValueError(f"peak ({self.peak}) is below base ({self.base})")
        return self


class ElectricitySimulation(MeterSimulation):
    """A three-phase meter; rates in kW. Its flow is its own load, plus the loads of the
    sub-meters it ``includes``, minus the ``generation`` (PV meters) behind it: positive
    net counts as import, negative as export. Behind a CT/PT (the meter's ``ct_ratio``
    and ``pt_ratio`` in ``sites``) its registers show secondary values, as a DTSU666 does.
    """

    model: Literal["electricity"]
    includes: tuple[str, ...] = ()
    generation: tuple[str, ...] = ()
    initial_export: float = Field(default=0, ge=0, description="kWh at the origin")
    power_factor: float = Field(default=0.95, ge=0.5, le=1, description="of the load")
    voltage: float = Field(default=230, gt=0, description="V, phase to neutral, primary")


class BoilerFeed(BaseModel):
    """The steam meter of a gas-fired boiler that this gas meter supplies."""

    model_config = _FROZEN

    steam: str = Field(description="meter id of the boiler's steam meter")
    efficiency: float = Field(default=0.9, gt=0.5, le=1, description="steam heat / fuel NCV")
    ncv: float = Field(default=38.931, gt=0, description="MJ/Nm³; NDRC default 389.31 GJ/10⁴Nm³")


class GasSimulation(MeterSimulation):
    """A gas meter with volume corrector; rates in Nm³/h (0 °C, 101.325 kPa).

    Its flow is its own profile plus the fuel of each boiler it feeds: the boiler's
    steam heat (GJ/h, as its steam meter counts it) / efficiency / ``ncv``.
    """

    model: Literal["gas"]
    boilers: tuple[BoilerFeed, ...] = ()
    pressure: float = Field(default=401.325, gt=101.325, description="kPa absolute")


class SteamSimulation(MeterSimulation):
    """A vortex steam meter with T and P; rates in t/h, superheated steam only."""

    model: Literal["steam"]
    pressure: float = Field(default=1.0, gt=0.05, lt=10, description="MPa absolute")
    temperature: float = Field(default=200, gt=100, lt=500, description="°C")
    pressure_swing: float = Field(default=0.02, ge=0, description="MPa, 10-min noise")
    temperature_swing: float = Field(default=2, ge=0, description="°C, 10-min noise")
    initial_energy: float = Field(default=0, ge=0, description="GJ at the origin")

    @model_validator(mode="after")
    def _superheated(self) -> SteamSimulation:
        highest = saturation_temperature(self.pressure + self.pressure_swing)
        if self.temperature - self.temperature_swing <= highest + 1.0:
            raise ValueError(
                f"{self.temperature} ± {self.temperature_swing} °C is not superheated at"
                f" {self.pressure} ± {self.pressure_swing} MPa (saturation {highest:.1f} °C)"
            )
        return self


class WaterSimulation(MeterSimulation):
    """A water flow meter; rates in m³/h."""

    model: Literal["water"]


class ProductionSimulation(MeterSimulation):
    """A line's output counter (t) for intensity KPIs; rates in t/h, usually ``base: 0``."""

    model: Literal["production"]
    noise: float = Field(default=0.02, ge=0, lt=1)


class PvSimulation(BaseModel):
    """A PV generation meter: clear-sky curve at the plant's location, clouds, losses."""

    model_config = _FROZEN

    model: Literal["pv"]
    capacity: float = Field(gt=0, description="kWp, nameplate DC")
    performance_ratio: float = Field(default=0.8, gt=0, le=1, description="AC out / DC in")
    cloudiness: float = Field(
        default=0.3, ge=0, le=0.9, description="mean share of clear-sky energy lost"
    )
    initial: float = Field(default=0, ge=0, description="kWh at the origin")
    voltage: float = Field(default=230, gt=0, description="V, phase to neutral")
    seed: int = 0
    step: float = Field(default=1.0, gt=0, le=60, description="integration step, s")


MeterSpec = Annotated[
    ElectricitySimulation
    | PvSimulation
    | GasSimulation
    | SteamSimulation
    | WaterSimulation
    | ProductionSimulation,
    Field(discriminator="model"),
]


class SimulationConfig(BaseModel):
    """Where the plant is, whose holidays it keeps, and a model per simulated meter."""

    model_config = _FROZEN

    origin: datetime | None = Field(
        default=None,
        description="instant at which counters equal 'initial'; default: when simulation starts",
    )
    latitude: float | None = Field(default=None, ge=-90, le=90, description="°, north +")
    longitude: float | None = Field(default=None, ge=-180, le=180, description="°, east +")
    country: str | None = Field(default=None, description="ISO 3166 code for public holidays")
    holidays: tuple[date, ...] = Field(default=(), description="extra non-working days")
    step: float | None = Field(
        default=None, gt=0, le=60, description="s; overrides every meter's step (backfill)"
    )
    refresh: float | None = Field(
        default=None, gt=0, description="s between register refreshes; default each step"
    )
    meters: dict[str, MeterSpec] = {}
    faults: tuple[FaultSpec, ...] = Field(default=(), description="see simulators.fault_config")
    mqtt_gateways: dict[str, MqttGatewaySimulation] = Field(
        default={}, description="by sources.mqtt id: batching and timestamps"
    )

    @model_validator(mode="after")
    def _faults_resolve(self) -> SimulationConfig:
        check_faults(self.faults, {m: spec.model for m, spec in self.meters.items()})
        return self

    @model_validator(mode="after")
    def _references_resolve(self) -> SimulationConfig:
        if self.country is not None and self.country not in COUNTRIES:
            raise ValueError(f"no holiday table for country {self.country!r}; have {COUNTRIES}")
        parents: dict[str, str] = {}
        generators: dict[str, str] = {}
        for meter_id, spec in self.meters.items():
            if isinstance(spec, PvSimulation) and (self.latitude is None or self.longitude is None):
                raise ValueError(f"meter {meter_id!r}: a PV model needs latitude and longitude")
            for ref, wanted in _references(spec):
                other = self.meters.get(ref)
                if other is None or other.model != wanted:
                    raise ValueError(
                        f"meter {meter_id!r}: {ref!r} is not a meter of model {wanted!r}"
                    )
            if isinstance(spec, ElectricitySimulation):
                _claim(spec.includes, meter_id, parents, "is included by")
                _claim(spec.generation, meter_id, generators, "is already generation behind")
        for start in parents:
            _no_cycle(start, parents)
        return self

    @model_validator(mode="after")
    def _refresh_fits_steps(self) -> SimulationConfig:
        for meter_id, spec in self.meters.items():
            step = self.step or spec.step
            if self.refresh is not None and self.refresh % step:
                raise ValueError(f"refresh {self.refresh} s is no multiple of {meter_id}'s step")
        return self


def _references(spec: MeterSpec) -> list[tuple[str, str]]:
    """(meter id, model it must be) for every meter this one is built from."""
    if isinstance(spec, ElectricitySimulation):
        return [(m, "electricity") for m in spec.includes] + [(m, "pv") for m in spec.generation]
    if isinstance(spec, GasSimulation):
        return [(b.steam, "steam") for b in spec.boilers]
    return []


def _claim(refs: tuple[str, ...], owner: str, owners: dict[str, str], clash: str) -> None:
    """Record ``owner`` for each ref; a second owner would count the same energy twice."""
    for ref in refs:
        if owners.setdefault(ref, owner) != owner:
            raise ValueError(f"meter {ref!r} {clash} {owners[ref]!r}")


def _no_cycle(start: str, parents: dict[str, str]) -> None:
    seen, meter = {start}, start
    while meter in parents:
        meter = parents[meter]
        if meter in seen:
            raise ValueError(f"meter {start!r} includes itself through {meter!r}")
        seen.add(meter)
