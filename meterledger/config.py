"""The plant file: one YAML document, validated at load into frozen objects.

Each part owns the model of its own section (``store.catalog`` the sites, ``collector`` the
sources, ``simulators`` the simulation, ``api`` the listener); this module composes them
and checks what crosses sections: every source names a configured meter and point, every
register exists in its map, units agree. Errors name the file, the field path and the value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from api.config import ApiConfig
from collector.config import CollectorConfig, SourcesConfig
from collector.register_map import load_register_map
from meterledger.books import LedgerConfig
from meterledger.errors import ConfigError
from simulators.config import SimulationConfig
from store.catalog import MeterConfig, SiteConfig


class PlantConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sites: tuple[SiteConfig, ...]
    sources: SourcesConfig = SourcesConfig()
    collector: CollectorConfig = CollectorConfig()
    simulation: SimulationConfig = SimulationConfig()
    api: ApiConfig = ApiConfig()
    ledger: LedgerConfig = LedgerConfig()

    @model_validator(mode="after")
    def _meter_keys_unique(self) -> PlantConfig:
        seen: dict[str, str] = {}
        for site in self.sites:
            for meter in site.meters:
                other = seen.setdefault(meter.id, site.id)
                if other != site.id:
                    raise ValueError(
                        f"meter id {meter.id!r} is used in sites {other!r} and {site.id!r};"
                        " meter ids must be unique across the plant file"
                    )
        return self

    def meters(self) -> dict[str, tuple[SiteConfig, MeterConfig]]:
        return {m.id: (s, m) for s in self.sites for m in s.meters}


def load_config(path: Path) -> PlantConfig:
    """Read and check a plant file; raise ConfigError naming file, field and reason."""
    source = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(source, "(file)", exc.strerror or str(exc)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(source, "(file)", f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(source, "(root)", "expected a mapping of sections")
    try:
        config = PlantConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError.from_validation(source, exc, raw) from exc
    _check_references(source, config, raw)
    return config


def _check_references(source: str, config: PlantConfig, raw: dict[str, Any]) -> None:
    meters = config.meters()
    for i, gateway in enumerate(config.sources.modbus):
        for j, device in enumerate(gateway.devices):
            where = f"sources.modbus[{i}](id={gateway.id}).devices[{j}]"
            if device.meter not in meters:
                raise ConfigError(source, f"{where}.meter", f"no meter {device.meter!r}")
            register_map = load_register_map(device.register_map)
            _, meter = meters[device.meter]
            points = {p.id: p for p in meter.points}
            for point, binding in device.bindings().items():
                field = f"{where}.points.{point}"
                if point not in points:
                    raise ConfigError(source, field, f"meter {meter.id!r} has no point {point!r}")
                try:
                    spec = register_map[binding.register_name]
                except KeyError:
                    raise ConfigError(
                        source,
                        field,
                        f"{register_map.model} has no register {binding.register_name!r}",
                    ) from None
                limit = device.max_registers or register_map.max_registers_per_read
                if spec.count > limit:
                    raise ConfigError(
                        source,
                        field,
                        f"register {binding.register_name!r} spans {spec.count} registers,"
                        f" more than one request may read here ({limit})",
                    )
                if spec.unit != points[point].unit and binding.multiplier == 1.0:
                    raise ConfigError(
                        source,
                        field,
                        f"register {binding.register_name!r} is in {spec.unit!r} but the point"
                        f" is in {points[point].unit!r}; set a multiplier or change its unit",
                    )
    for i, mqtt in enumerate(config.sources.mqtt):
        where = f"sources.mqtt[{i}](id={mqtt.id})"
        for meter_id in mqtt.meters:
            if meter_id not in meters:
                raise ConfigError(source, f"{where}.meters", f"no meter {meter_id!r}")
            declared = {p.id for p in meters[meter_id][1].points}
            for point in mqtt.fields.values if mqtt.fields else {}:
                if point not in declared:
                    raise ConfigError(
                        source,
                        f"{where}.fields.values.{point}",
                        f"meter {meter_id!r} has no point {point!r}",
                    )
    for meter_id in config.simulation.meters:
        if meter_id not in meters:
            raise ConfigError(source, f"simulation.meters.{meter_id}", "no such meter")
