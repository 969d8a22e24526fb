"""The ``sources`` and ``collector`` sections of the plant file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from collector.register_map import MAX_READ_REGISTERS

POINT_KEY = r"^[a-z0-9][a-z0-9_]*$"


Ratio = Literal["none", "ct", "pt", "ct_pt"]


class RegisterBinding(BaseModel):
    """Which map register feeds a point, how to scale it, and how often to read it.

    ``ratio`` is for meters behind current/voltage transformers whose registers hold
    secondary values: the decoded value is multiplied by the meter's ``ct_ratio``,
    ``pt_ratio`` or both (power and energy need both), on top of ``multiplier``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    register_name: str = Field(alias="register")
    multiplier: float = 1.0
    ratio: Ratio = "none"
    interval: float | None = Field(
        default=None, gt=0, description="seconds between reads; default the device's"
    )

    def factor(self, ct_ratio: float, pt_ratio: float) -> float:
        """The whole multiplier for a meter with these transformer ratios."""
        transformer = {"none": 1.0, "ct": ct_ratio, "pt": pt_ratio, "ct_pt": ct_ratio * pt_ratio}
        return self.multiplier * transformer[self.ratio]


class ModbusDeviceConfig(BaseModel):
    """A meter at one unit id behind a gateway, read with its model's register map."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    meter: str
    unit_id: int = Field(ge=0, le=255)
    register_map: str
    interval: float = Field(default=10.0, gt=0, description="seconds between polls")
    max_gap: int = Field(default=0, ge=0, le=MAX_READ_REGISTERS)
    max_registers: int | None = Field(
        default=None, ge=1, le=MAX_READ_REGISTERS, description="overrides the map's limit"
    )
    points: dict[str, str | RegisterBinding] = Field(min_length=1)

    def bindings(self) -> dict[str, RegisterBinding]:
        return {
            point: RegisterBinding.model_validate({"register": b}) if isinstance(b, str) else b
            for point, b in self.points.items()
        }


Transport = Literal["tcp", "rtu-over-tcp", "rtu"]
SERIAL_FIELDS = ("baudrate", "parity", "stopbits", "bytesize")


@dataclass(frozen=True, slots=True)
class SerialLine:
    """Character framing of an RS-485 line; both ends must agree or nothing decodes."""

    baudrate: int = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8

    def __str__(self) -> str:
        return f"{self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"


class ModbusSourceConfig(BaseModel):
    """One connection to a bus of devices, read one request at a time.

    ``tcp`` is Modbus TCP (MBAP framing) to ``host:port``; ``rtu-over-tcp`` sends RTU
    frames with their CRC over the same kind of socket, as cheap Ethernet-RS485
    converters in transparent mode expect; ``rtu`` opens the serial device at ``port``
    (a path such as ``/dev/ttyUSB0``) with the line settings given here.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    transport: Transport = "tcp"
    host: str = "127.0.0.1"
    port: int | str = Field(default=502, description="TCP port, or serial device path (rtu)")
    baudrate: int = Field(default=9600, gt=0)
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8
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
        if self.transport != "tcp":
            # On an RTU line 0 is the broadcast address: every slave obeys, none answers.
            outside = sorted(u for u in units if not 1 <= u <= 247)
            if outside:
                raise ValueError(
                    f"unit id(s) {outside} cannot be polled over {self.transport}: RTU slaves"
                    " answer at 1..247 only (0 is broadcast)"
                )
        return self

    @model_validator(mode="after")
    def _fields_fit_transport(self) -> ModbusSourceConfig:
        if self.transport == "rtu":
            if "host" in self.model_fields_set:
                raise ValueError("'host' applies to the tcp transports only; rtu uses 'port'")
            if "port" not in self.model_fields_set or not isinstance(self.port, str):
                raise ValueError("transport 'rtu' needs 'port': a serial device path")
            if not self.port.strip():
                raise ValueError("'port' is empty: give a serial device path")
            if self.simulated and (self.parity != "N" or self.bytesize != 8):
                # Seen on Linux: pymodbus reconfigures the port after opening it, and a pty
                # then refuses PARENB or CS7 with EINVAL.
                raise ValueError(
                    "a simulated rtu line runs on a pseudo-terminal, which refuses parity and"
                    " 7-bit bytes: use parity N and bytesize 8 while simulated"
                )
            return self
        misplaced = [name for name in SERIAL_FIELDS if name in self.model_fields_set]
        if misplaced:
            raise ValueError(
                f"serial line setting(s) {', '.join(repr(n) for n in misplaced)} belong to"
                f" transport 'rtu', not to {self.transport!r}"
            )
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ValueError(
                f"transport {self.transport!r} needs a TCP port number 0..65535 (got"
                f" {self.port!r}); a device path needs transport 'rtu'"
            )
        if self.port == 0 and not self.simulated:
            raise ValueError("port 0 (any free port) is only for simulated gateways")
        return self

    @property
    def serial_line(self) -> SerialLine:
        return SerialLine(self.baudrate, self.parity, self.stopbits, self.bytesize)

    def describe(self) -> str:
        """Where the bus is, for logs: ``rtu /dev/ttyUSB0 9600 8N1`` or ``tcp host:port``."""
        if self.transport == "rtu":
            return f"rtu {self.port} {self.serial_line}"
        return f"{self.transport} {self.host}:{self.port}"


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
    event_poll_interval: float = Field(
        default=5.0, gt=0, description="s between looks for newly recorded meter events"
    )
