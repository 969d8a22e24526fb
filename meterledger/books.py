"""The ledger section of the plant file, and the site books built from it.

The ledger is pure and knows nothing of plant files; here the composition root turns the
plant's meters and points (with their ids from the store), the chosen factor sets and GWP
set, and the declared production lines into the `ledger.close.SiteBook` each statement is
computed from. Production lines are declared per site, because meter ids are a site's:
which meters serve one line alone (``lines``), and which meters lines share and by what
key (``shared``, one entry per meter, since a key must split the meter's whole amount).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledger.close import MeterBook, SiteBook
from ledger.counters import CounterPoint
from ledger.factors import FactorSet
from ledger.factorsets import shipped
from ledger.gwp import GWP_SETS, gwp_set
from ledger.product_lines import LineBook, SharedMeter
from ledger.quantities import dimension, normalise
from ledger.targets import Target
from meterledger.chosen_factors import FACTOR_FIELDS, is_imported
from meterledger.errors import ConfigError
from store.catalog import MeterConfig, PointConfig, PointRef, SiteConfig

if TYPE_CHECKING:
    from meterledger.config import PlantConfig

#: The point quantities the ledger states; any other counter is a KPI only.
STATED = (
    "energy_import",
    "energy_export",
    "energy_generation",
    "volume",
    "heat",
    "mass",
    "production",
)


class LineConfig(BaseModel):
    """A production line: the meters that serve it alone (their whole amount is its)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    meters: tuple[str, ...] = ()


class SharedConfig(BaseModel):
    """A meter production lines share, and the key that splits it between them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    meter: str
    key: Literal["output"] | dict[str, Decimal] = Field(
        description="'output' (each line's tonnes that month) or fixed weights by line"
    )
    lines: tuple[str, ...] | None = Field(
        default=None, description="the lines sharing it; default: every line of the site"
    )

    @field_validator("key")
    @classmethod
    def _weights(cls, key: str | dict[str, Decimal]) -> str | dict[str, Decimal]:
        if isinstance(key, dict) and (
            any(w < 0 or not w.is_finite() for w in key.values()) or sum(key.values()) <= 0
        ):
            raise ValueError("fixed weights must be non-negative with a positive sum")
        return key


class TargetConfig(BaseModel):
    """A site's emission target: the base year's total and the share of it cut each year."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_year: int = Field(ge=1990, le=2100)
    base_tco2e: Decimal = Field(gt=0, description="the base year's total, tCO2e")
    annual_reduction: Decimal = Field(
        ge=0, le=1, description="share of the base cut each year (SBTi 1.5 °C: 0.042)"
    )
    basis: Literal["location", "market"] = "location"


class LedgerConfig(BaseModel):
    """Which cited factor sets apply, in which region, when months close by themselves,
    and the production lines of each site."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str = Field(default="CN", description="region code of the factor records")
    electricity_factors: str = "cn-mee-grid"
    fuel_factors: str = "cn-ndrc-defaults"
    heat_factors: str = "cn-ndrc-defaults"
    freight_factors: str = "cn-cpcd-freight"
    gwp: str = Field(default="AR5", description="GWP set for CO2e: AR4, AR5 or AR6")
    close_day: int = Field(default=1, ge=1, le=28, description="day of month, site time")
    close_hour: int = Field(default=2, ge=0, le=23, description="hour, site time")
    lines: dict[str, dict[str, LineConfig]] = Field(
        default_factory=dict, description="by site id: production line id -> its own meters"
    )
    shared: dict[str, tuple[SharedConfig, ...]] = Field(
        default_factory=dict, description="by site id: meters the lines share, with keys"
    )
    targets: dict[str, TargetConfig] = Field(
        default_factory=dict, description="by site id: the emission target's trajectory"
    )

    @field_validator(*FACTOR_FIELDS)
    @classmethod
    def _shipped(cls, name: str) -> str:
        if is_imported(name):  # name@version: looked up in the store at start
            set_name, _, version = name.partition("@")
            if not set_name or not version:
                raise ValueError(f"{name!r}: an imported set is named as name@version")
            return name
        available = shipped()
        if name not in available:
            raise ValueError(
                f"no factor set {name!r}; shipped: {sorted(available)}, or name@version of"
                " an imported one"
            )
        return name

    @field_validator("gwp")
    @classmethod
    def _gwp(cls, name: str) -> str:
        if name not in GWP_SETS:
            raise ValueError(f"no GWP set {name!r}; known: {', '.join(GWP_SETS)}")
        return name


def site_book(
    site: SiteConfig,
    ledger: LedgerConfig,
    point_ids: Mapping[PointRef, int],
    intervals: Mapping[int, float],
    imported: Mapping[str, FactorSet] | None = None,
) -> SiteBook:
    """The book of one site; ``intervals`` gives each point's poll interval in seconds,
    ``imported`` the imported factor sets the ledger section chooses (`chosen_factors`)."""
    sets = shipped() | dict(imported or {})
    for field in FACTOR_FIELDS:
        if getattr(ledger, field) not in sets:
            choice = getattr(ledger, field)
            raise ConfigError("plant file", f"ledger.{field}", f"{choice!r} was not loaded")
    meters = []
    for meter in site.meters:
        counters = {}
        for point in _stated(meter):
            pid = point_ids[PointRef(site.id, meter.id, point.id)]
            counters[point.quantity] = (
                point.id,
                CounterPoint(
                    pid,
                    point.unit,
                    wrap_value=Decimal(repr(point.wrap)) if point.wrap else None,
                    expected_interval=timedelta(seconds=intervals.get(pid, 900)),
                ),
            )
        meters.append(MeterBook(meter.id, meter.carrier, meter.role, meter.parent, counters))
    lines, shared = production_lines(site, ledger)
    return SiteBook(
        site=site.id,
        zone=site.timezone,
        region=ledger.region,
        meters=tuple(meters),
        electricity=sets[ledger.electricity_factors],
        fuels=sets[ledger.fuel_factors],
        heat=sets[ledger.heat_factors],
        freight=sets[ledger.freight_factors],
        gwp=gwp_set(ledger.gwp),
        library=sets,
        lines=lines,
        shared=shared,
        target=_target(ledger.targets.get(site.id)),
    )


def _target(config: TargetConfig | None) -> Target | None:
    if config is None:
        return None
    return Target(config.base_year, config.base_tco2e, config.annual_reduction, config.basis)


def _stated(meter: MeterConfig) -> list[PointConfig]:
    """The counters the ledger states, one per quantity.

    The first point of a quantity wins, except that a natural-gas volume in Nm³ wins over
    one in m³ (a corrector reports both; combustion factors are per normal cubic metre).
    """
    chosen: dict[str, PointConfig] = {}
    for point in meter.points:
        if point.kind != "counter" or point.quantity not in STATED:
            continue
        held = chosen.get(point.quantity)
        if held is None or (_normal(point) and not _normal(held)):
            chosen[point.quantity] = point
    return list(chosen.values())


def _normal(point: PointConfig) -> bool:
    return dimension(normalise(point.unit)) == "[normal volume]"


def production_lines(
    site: SiteConfig, ledger: LedgerConfig
) -> tuple[tuple[LineBook, ...], tuple[SharedMeter, ...]]:
    """The site's declared lines and shared meters, checked against its meters.

    Raises ConfigError naming the field when a meter is unknown, given to lines twice, or
    given together with a meter above it (its amount would count twice).
    """
    declared = ledger.lines.get(site.id, {})
    meters = {m.id: m for m in site.meters}
    known = set(declared) | {
        m.id for m in site.meters if any(p.quantity == "production" for p in m.points)
    }
    used: dict[str, str] = {}
    for line, config in declared.items():
        for meter in config.meters:
            _claim(used, meters, meter, f"ledger.lines.{site.id}.{line}.meters")
    shared = []
    for index, item in enumerate(ledger.shared.get(site.id, ())):
        where = f"ledger.shared.{site.id}[{index}]"
        _claim(used, meters, item.meter, f"{where}.meter")
        weights = item.key if isinstance(item.key, dict) else None
        names = item.lines or (tuple(weights) if weights else tuple(sorted(known)))
        for name in (*names, *(weights or {})):
            if name not in known:
                raise ConfigError("plant file", where, f"no line {name!r}; lines: {sorted(known)}")
        if weights and set(names) != set(weights):
            raise ConfigError("plant file", f"{where}.key", "give a weight for each line, no more")
        shared.append(SharedMeter(item.meter, names, weights))
    _no_ancestors(used, meters, site.id)
    lines = tuple(LineBook(key, tuple(config.meters)) for key, config in declared.items())
    return lines, tuple(shared)


def _claim(used: dict[str, str], meters: Mapping[str, MeterConfig], meter: str, at: str) -> None:
    if meter not in meters:
        raise ConfigError("plant file", at, f"no meter {meter!r} in this site")
    if meter in used:
        raise ConfigError("plant file", at, f"meter {meter!r} is already given at {used[meter]}")
    used[meter] = at


def _no_ancestors(used: Mapping[str, str], meters: Mapping[str, MeterConfig], site: str) -> None:
    for meter, at in used.items():
        parent = meters[meter].parent
        while parent is not None and parent in meters:
            if parent in used:
                reason = f"{meter!r} is below {parent!r} (given at {used[parent]}): counted twice"
                raise ConfigError("plant file", at, reason)
            parent = meters[parent].parent


def check_ledger_sites(config: PlantConfig) -> None:
    """Refuse production lines or targets declared for a site the plant file does not have."""
    sites = {site.id for site in config.sites}
    for field in ("lines", "shared", "targets"):
        declared: Sequence[str] = list(getattr(config.ledger, field))
        for site in declared:
            if site not in sites:
                raise ConfigError("plant file", f"ledger.{field}.{site}", f"no site {site!r}")


def poll_intervals(config: PlantConfig, ids: Mapping[PointRef, int]) -> dict[int, float]:
    """Each point's expected interval between readings, from its source (seconds)."""
    by_meter = {(ref.meter, ref.point): pid for ref, pid in ids.items()}
    out: dict[int, float] = {}
    for gateway in config.sources.modbus:
        for device in gateway.devices:
            for point in device.points:
                if (device.meter, point) in by_meter:
                    out[by_meter[(device.meter, point)]] = device.interval
    for mqtt in config.sources.mqtt:
        for (meter, _), pid in by_meter.items():
            if meter in mqtt.meters:
                out[pid] = mqtt.publish_interval
    return out


def site_books(
    config: PlantConfig,
    ids: Mapping[PointRef, int],
    imported: Mapping[str, FactorSet] | None = None,
) -> dict[str, SiteBook]:
    """Every site's book, keyed by site id."""
    check_ledger_sites(config)
    intervals = poll_intervals(config, ids)
    return {
        site.id: site_book(site, config.ledger, ids, intervals, imported) for site in config.sites
    }
