"""Register maps: what a meter model publishes at which Modbus address, as a data file.

A map is YAML in ``collector/registermaps/`` (or any path), validated once into frozen
`RegisterSpec` objects. The simulators encode with the very same specs the collector
decodes with, so each map is the one source of truth for its model.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum, StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from meterledger.errors import ConfigError

MAPS_DIR = Path(__file__).parent / "registermaps"
MAX_READ_REGISTERS = 125  # Modbus application protocol v1.1b3, function 03/04 quantity limit


class Function(IntEnum):
    """Modbus read function code, named for the table it reads."""

    COIL = 1
    DISCRETE_INPUT = 2
    HOLDING = 3
    INPUT = 4


class DataType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    STRING = "string"
    BOOL = "bool"


class Order(StrEnum):
    """Byte order of a multi-register value, as the letters of its big-endian bytes.

    ABCD is big-endian throughout (high word first); CDAB swaps the words (the usual
    "little-endian word order"); BADC swaps the bytes in each word; DCBA reverses all.
    """

    ABCD = "ABCD"
    CDAB = "CDAB"
    BADC = "BADC"
    DCBA = "DCBA"


WORDS: Mapping[DataType, int] = {
    DataType.INT16: 1,
    DataType.UINT16: 1,
    DataType.INT32: 2,
    DataType.UINT32: 2,
    DataType.INT64: 4,
    DataType.UINT64: 4,
    DataType.FLOAT32: 2,
    DataType.FLOAT64: 4,
    DataType.BOOL: 1,
}


def _address(value: Any) -> Any:
    """Accept addresses written in hex (``0x0048``) as datasheets print them."""
    if isinstance(value, str):
        return int(value, 0)
    return value


Address = Annotated[int, BeforeValidator(_address), Field(ge=0, le=0xFFFF)]


class RegisterSpec(BaseModel):
    """One value a device publishes: where it is, how it is encoded, what it means."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    address: Address
    function: Function = Function.INPUT
    type: DataType = DataType.FLOAT32
    order: Order = Order.ABCD
    length: int | None = Field(default=None, ge=1, le=MAX_READ_REGISTERS)
    scale: float = 1.0
    offset: float = 0.0
    unit: str = ""
    quantity: str | None = None
    kind: str = "gauge"
    description: str = ""

    @model_validator(mode="after")
    def _length_fits_type(self) -> RegisterSpec:
        if self.type is DataType.STRING and self.length is None:
            raise ValueError("a string register needs 'length' (in registers)")
        if self.type is not DataType.STRING and self.length is not None:
            raise ValueError(f"'length' applies to strings only, not to {self.type}")
        if self.function in (Function.COIL, Function.DISCRETE_INPUT) and self.type not in (
            DataType.BOOL,
        ):
            raise ValueError(f"function {self.function.name} reads bits: type must be bool")
        return self

    @property
    def count(self) -> int:
        """Number of registers (or bits) the value occupies."""
        return self.length if self.length is not None else WORDS[self.type]

    @property
    def end(self) -> int:
        return self.address + self.count


class RegisterMap(BaseModel):
    """A meter model's published registers, with the document they come from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    maker: str
    document: str
    max_registers_per_read: int = Field(default=MAX_READ_REGISTERS, ge=1, le=MAX_READ_REGISTERS)
    notes: str = ""
    registers: tuple[RegisterSpec, ...]

    @model_validator(mode="after")
    def _no_overlap(self) -> RegisterMap:
        names: set[str] = set()
        taken: dict[tuple[Function, int], str] = {}
        for spec in self.registers:
            if spec.name in names:
                raise ValueError(f"register {spec.name!r} is defined twice")
            names.add(spec.name)
            for address in range(spec.address, spec.end):
                other = taken.setdefault((spec.function, address), spec.name)
                if other != spec.name:
                    raise ValueError(
                        f"register {spec.name!r} overlaps {other!r} at address {address:#06x}"
                    )
        return self

    def __getitem__(self, name: str) -> RegisterSpec:
        for spec in self.registers:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def names(self) -> list[str]:
        return [spec.name for spec in self.registers]


def available_maps() -> list[str]:
    """Names of the register maps shipped with meterledger."""
    return sorted(path.stem for path in MAPS_DIR.glob("*.yaml"))


@cache
def load_register_map(name_or_path: str) -> RegisterMap:
    """Load a shipped map by name, or a map file by path; raise ConfigError naming the field."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = MAPS_DIR / f"{name_or_path}.yaml"
        if not path.exists():
            raise ConfigError(
                str(name_or_path), "register_map", f"no such map; shipped: {available_maps()}"
            )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), "(file)", str(exc)) from exc
    try:
        return RegisterMap.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError.from_validation(str(path), exc, raw) from exc
