"""The ``faults`` list of the simulation section: what goes wrong, with which meter, when.

Each entry names a simulated ``meter``, a ``kind`` and, for most kinds, a window
``from``/``to`` (instants with a UTC offset; either may be left out for an open end). What
a fault does is in `simulators.faults` (what a meter shows) and in the gateways (how it is
served); nothing here changes what a meter delivers, so ground truth stays exact.

Value faults (any protocol): ``wrap``, ``replacement``, ``stuck``, ``spike``. Modbus only:
``silent`` (also MQTT: nothing published), ``slow``, ``word_order``. MQTT only:
``duplicate``, ``late``, ``out_of_order``, ``malformed``, ``clock_offset``.

Names of counters and values are the register names the model shows (`SHOWN`), the
names the register maps and MQTT fields use; an unknown one is refused at load.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

_FROZEN = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

_ELECTRICITY = (
    "import_energy",
    "export_energy",
    "total_energy",
    "total_power",
    "total_reactive_power",
    "total_apparent_power",
    "total_power_factor",
    "frequency",
    *(
        f"phase_{n}_{what}"
        for n in (1, 2, 3)
        for what in (
            "voltage",
            "current",
            "power",
            "apparent_power",
            "reactive_power",
            "power_factor",
        )
    ),
    "line_1_2_voltage",
    "line_2_3_voltage",
    "line_3_1_voltage",
    "average_voltage",
    "sum_current",
    "average_current",
)

#: Every value each model shows, by model; a unit test holds the models to it.
SHOWN: dict[str, tuple[str, ...]] = {
    "electricity": _ELECTRICITY,
    "pv": _ELECTRICITY,
    "gas": (
        "volume",
        "flow",
        "actual_volume",
        "actual_flow",
        "pressure",
        "temperature",
        "mass",
        "mass_flow",
    ),
    "steam": ("mass", "mass_flow", "energy", "heat_flow", "pressure", "temperature", "enthalpy"),
    "water": ("volume", "flow"),
    "production": ("output", "output_rate"),
}

#: The cumulative registers of each model: what wraps and what a replacement restarts.
COUNTERS: dict[str, tuple[str, ...]] = {
    "electricity": ("import_energy", "export_energy", "total_energy"),
    "pv": ("import_energy", "export_energy", "total_energy"),
    "gas": ("volume", "actual_volume", "mass"),
    "steam": ("mass", "energy"),
    "water": ("volume",),
    "production": ("output",),
}


class _Fault(BaseModel):
    model_config = _FROZEN

    meter: str = Field(description="a meter of simulation.meters")


class WindowedFault(_Fault):
    """A fault in force over [from, to); an absent end is open."""

    start: AwareDatetime | None = Field(default=None, alias="from")
    end: AwareDatetime | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> WindowedFault:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"'to' ({self.end}) must be after 'from' ({self.start})")
        return self

    def window(self) -> tuple[float, float]:
        """[from, to) in Unix seconds, infinite where open."""
        return (
            self.start.timestamp() if self.start else float("-inf"),
            self.end.timestamp() if self.end else float("inf"),
        )


class WrapFault(_Fault):
    """Counters roll over to 0 at ``value`` (a register's range), always: no window."""

    kind: Literal["wrap"]
    value: float = Field(gt=0, description="the first value the register cannot show")
    counters: tuple[str, ...] = Field(default=(), description="default: every counter")


class ReplacementFault(_Fault):
    """At ``at`` the meter is swapped: its counters restart from ``initial``."""

    kind: Literal["replacement"]
    at: AwareDatetime
    initial: float = Field(default=0, ge=0, description="what the new counters show at first")
    counters: tuple[str, ...] = Field(default=(), description="default: every counter")


class SilentFault(WindowedFault):
    """No answer on Modbus (the request times out); nothing published on MQTT."""

    kind: Literal["silent"]


class SlowFault(WindowedFault):
    """A Modbus answer only after ``delay`` seconds of real time."""

    kind: Literal["slow"]
    delay: float = Field(gt=0, le=60, description="s of real time")


class StuckFault(WindowedFault):
    """``values`` frozen at what they were at ``from`` (a hung measuring board)."""

    kind: Literal["stuck"]
    values: tuple[str, ...] = Field(default=(), description="default: every value")


class SpikeFault(WindowedFault):
    """``values`` shown as ``value x factor + offset`` for the window."""

    kind: Literal["spike"]
    values: tuple[str, ...] = Field(min_length=1)
    factor: float = 1.0
    offset: float = 0.0

    @model_validator(mode="after")
    def _changes_something(self) -> SpikeFault:
        if self.factor == 1.0 and self.offset == 0.0:
            raise ValueError("a spike needs a factor other than 1 or a non-zero offset")
        return self


class WordOrderFault(WindowedFault):
    """Multi-register values served in ``order`` instead of the map's (firmware swap)."""

    kind: Literal["word_order"]
    order: Literal["ABCD", "CDAB", "BADC", "DCBA"] = "CDAB"


class DuplicateFault(WindowedFault):
    """Every message published ``copies`` more times."""

    kind: Literal["duplicate"]
    copies: int = Field(default=1, ge=1, le=10)


class LateFault(WindowedFault):
    """Messages held back ``delay`` s of simulated time (sent on the first tick after)."""

    kind: Literal["late"]
    delay: float = Field(gt=0, description="s of simulated time")


class OutOfOrderFault(WindowedFault):
    """Every other message is sent after the next one, so pairs arrive swapped."""

    kind: Literal["out_of_order"]


class MalformedFault(WindowedFault):
    """Messages replaced by ``payload``; by default the real JSON cut in half."""

    kind: Literal["malformed"]
    payload: str | None = None


class ClockOffsetFault(WindowedFault):
    """The publishing gateway's clock is ``offset`` s off: added to the stamps it sends."""

    kind: Literal["clock_offset"]
    offset: float = Field(description="s, negative for a clock that runs behind")

    @model_validator(mode="after")
    def _nonzero(self) -> ClockOffsetFault:
        if self.offset == 0:
            raise ValueError("a clock offset of 0 s changes nothing")
        return self


FaultSpec = Annotated[
    WrapFault
    | ReplacementFault
    | SilentFault
    | SlowFault
    | StuckFault
    | SpikeFault
    | WordOrderFault
    | DuplicateFault
    | LateFault
    | OutOfOrderFault
    | MalformedFault
    | ClockOffsetFault,
    Field(discriminator="kind"),
]


def fault_names(fault: FaultSpec) -> tuple[str, tuple[str, ...]]:
    """(which table its names come from, the names) for a fault that names values."""
    if isinstance(fault, WrapFault | ReplacementFault):
        return "counter", fault.counters
    if isinstance(fault, StuckFault | SpikeFault):
        return "value", fault.values
    return "value", ()


def check_faults(faults: tuple[FaultSpec, ...], models: dict[str, str]) -> None:
    """Raise ValueError naming the entry when a fault names an unknown meter or value.

    ``models`` maps each simulated meter to its model kind.
    """
    replaced: set[tuple[str, datetime]] = set()
    wrapped: set[tuple[str, str]] = set()
    for i, fault in enumerate(faults):
        where = f"faults[{i}]"
        model = models.get(fault.meter)
        if model is None:
            raise ValueError(f"{where}.meter: {fault.meter!r} is not a simulated meter")
        table, names = fault_names(fault)
        known = COUNTERS[model] if table == "counter" else SHOWN[model]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(
                f"{where}: a {model} meter has no {table} {unknown[0]!r}; it has {list(known)}"
            )
        if isinstance(fault, ReplacementFault):
            if (fault.meter, fault.at) in replaced:
                raise ValueError(f"{where}.at: {fault.meter!r} is already replaced at {fault.at}")
            replaced.add((fault.meter, fault.at))
        if isinstance(fault, WrapFault):
            for name in fault.counters or COUNTERS[model]:
                if (fault.meter, name) in wrapped:
                    raise ValueError(f"{where}: {fault.meter!r} {name} already has a wrap value")
                wrapped.add((fault.meter, name))


Timestamps = Literal["utc", "local", "unix", "none"]


class MqttGatewaySimulation(BaseModel):
    """How a simulated MQTT gateway (named by its ``sources.mqtt`` id) publishes.

    ``batch`` readings of a meter (one per tick) go in one message, a JSON array; 1 sends
    each as its own object. ``timestamps``: ISO 8601 in UTC or with the site's offset,
    Unix seconds, or none (the collector then stamps on receipt).
    """

    model_config = _FROZEN

    batch: int = Field(default=1, ge=1, le=1000)
    timestamps: Timestamps = "utc"
