"""The ledger section of the plant file, and the site books built from it.

The ledger is pure and knows nothing of plant files; here the composition root turns the
plant's meters and points (with their ids from the store) and the chosen factor sets into
the `ledger.close.SiteBook` each statement is computed from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledger.close import MeterBook, SiteBook
from ledger.counters import CounterPoint
from ledger.factorsets import shipped
from store.catalog import PointRef, SiteConfig

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


class LedgerConfig(BaseModel):
    """Which cited factor sets apply, in which region, and when months close by themselves."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str = Field(default="CN", description="region code of the factor records")
    electricity_factors: str = "cn-mee-grid"
    fuel_factors: str = "cn-ndrc-defaults"
    heat_factors: str = "cn-ndrc-defaults"
    close_day: int = Field(default=1, ge=1, le=28, description="day of month, site time")
    close_hour: int = Field(default=2, ge=0, le=23, description="hour, site time")

    @field_validator("electricity_factors", "fuel_factors", "heat_factors")
    @classmethod
    def _shipped(cls, name: str) -> str:
        available = shipped()
        if name not in available:
            raise ValueError(f"no factor set {name!r}; shipped: {sorted(available)}")
        return name


def site_book(
    site: SiteConfig,
    ledger: LedgerConfig,
    point_ids: Mapping[PointRef, int],
    intervals: Mapping[int, float],
) -> SiteBook:
    """The book of one site; ``intervals`` gives each point's poll interval in seconds."""
    sets = shipped()
    meters = []
    for meter in site.meters:
        counters = {}
        for point in meter.points:
            if point.kind != "counter" or point.quantity not in STATED:
                continue
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
    return SiteBook(
        site=site.id,
        zone=site.timezone,
        region=ledger.region,
        meters=tuple(meters),
        electricity=sets[ledger.electricity_factors],
        fuels=sets[ledger.fuel_factors],
        heat=sets[ledger.heat_factors],
    )


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


def site_books(config: PlantConfig, ids: Mapping[PointRef, int]) -> dict[str, SiteBook]:
    """Every site's book, keyed by site id."""
    intervals = poll_intervals(config, ids)
    return {site.id: site_book(site, config.ledger, ids, intervals) for site in config.sites}
