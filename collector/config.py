"""The ``sources`` and ``collector`` sections of the plant file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from collector.register_map import MAX_READ_REGISTERS

POINT_KEY = r"^[a-z0-9][a-z0-9_]*$"


class RegisterBinding(BaseModel):
    """Which map register feeds a point, with an optional extra multiplier (CT/PT, unit)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    register_name: str = Field(alias="register")
    multiplier: float = 1.0


class ModbusDeviceConfig(BaseModel):
    """A meter at one unit id behind a gateway, read with its model's register map."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    meter: str
    unit_id: int = Field(ge=0, le=255)
    register_map: str
    interval: float = Field(default=10.0, gt=0, description="seconds between polls")
    max_gap: int = Field(default=0, ge=0, le=MAX_READ_REGISTERS)
    points: dict[str, str | RegisterBinding] = Field(min_length=1)

    def bindings(self) -> dict[str, RegisterBinding]:
        return {
            point: RegisterBinding.model_validate({"register": b}) if isinstance(b, str) else b
            for point, b in self.points.items()
        }


class ModbusSourceConfig(BaseModel):
    """One gateway connection (Modbus TCP); its devices are read one request at a time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    host: str = "127.0.0.1"
    port: int = Field(default=502, ge=0, le=65535)
    timeout: float = Field(default=2.0, gt=0)
    retry_backoff: float = Field(default=1.0, gt=0, description="first wait after a failure, s")
    retry_backoff_max: float = Field(default=300.0, gt=0)
    simulated: bool = False
    devices: tuple[ModbusDeviceConfig, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_units(self) -> ModbusSourceConfig:
        units = [d.unit_id for d in self.devices]
        duplicated = {u for u in units if units.count(u) > 1}
        if duplicated:
            raise ValueError(f"unit id(s) {sorted(duplicated)} used by more than one device")
        if self.port == 0 and not self.simulated:
            raise ValueError("port 0 (any free port) is only for simulated gateways")
        return self


class FieldMapping(BaseModel):
    """Where a vendor's JSON keeps each value: dotted paths into the payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    values: dict[str, str] = Field(min_length=1, description="point id -> path, e.g. data.Vb")
    timestamp: str | None = Field(default=None, description="path; absent: time of receipt")
    timestamp_unit: Literal["iso", "s", "ms"] = "iso"
    items: str | None = Field(default=None, description="path of an array of such objects")


class MqttSourceConfig(BaseModel):
    """A topic template naming the meter (``{meter}``) and maybe the point (``{point}``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    topic: str = Field(pattern=r"\{meter\}")
    qos: Literal[0, 1] = 1
    format: Literal["meterledger-json", "number", "json-fields"] = "meterledger-json"
    fields: FieldMapping | None = None
    shared_group: str | None = Field(
        default=None, pattern=r"^[^/#+]+$", description="split the stream with other collectors"
    )
    meters: tuple[str, ...] = Field(min_length=1)
    simulated: bool = False
    publish_interval: float = Field(default=10.0, gt=0, description="simulated gateways only")

    @model_validator(mode="after")
    def _format_fits_topic(self) -> MqttSourceConfig:
        levels = self.topic.split("/")
        for name in ("{meter}", "{point}"):
            if levels.count(name) > 1 or any(name in lv and lv != name for lv in levels):
                raise ValueError(f"{name} must be a whole topic level, used once")
        has_point = "{point}" in levels
        if self.format == "number" and not has_point:
            raise ValueError("format 'number' needs a {point} level in the topic")
        if self.format != "number" and has_point:
            raise ValueError(f"a {{point}} level only fits format 'number', not {self.format!r}")
        if (self.format == "json-fields") != (self.fields is not None):
            raise ValueError("'fields' goes with format 'json-fields', and only with it")
        return self

    def subscription(self) -> str:
        """The topic filter to subscribe to; ``$share/<group>/…`` when shared."""
        pattern = self.topic.replace("{meter}", "+").replace("{point}", "+")
        return f"$share/{self.shared_group}/{pattern}" if self.shared_group else pattern

    def topic_for(self, meter: str, point: str = "") -> str:
        return self.topic.replace("{meter}", meter).replace("{point}", point)

    def match(self, topic: str) -> tuple[str, str | None] | None:
        """(meter, point or None) named by a concrete topic; None if it does not fit."""
        pattern = self.topic.split("/")
        levels = topic.split("/")
        if len(pattern) != len(levels):
            return None
        named: dict[str, str] = {}
        for want, got in zip(pattern, levels, strict=True):
            if want in ("{meter}", "{point}"):
                named[want] = got
            elif want != got:
                return None
        return named["{meter}"], named.get("{point}")


class SourcesConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    modbus: tuple[ModbusSourceConfig, ...] = ()
    mqtt: tuple[MqttSourceConfig, ...] = ()


class CollectorConfig(BaseModel):
    """Spool and batching; defaults suit a plant of a few hundred meters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    spool: Path | None = Field(default=None, description="SQLite spool file; default in data dir")
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    spool_max_rows: int = Field(
        default=5_000_000, ge=1000, description="when full, sources wait (back-pressure)"
    )
    flush_interval: float = Field(default=0.5, gt=0)
    client_id: str = "meterledger-collector"
    max_future: float = Field(default=300, gt=0, description="s a timestamp may run ahead")
    max_age: float = Field(default=7 * 86400, gt=0, description="s after which it is stale")
