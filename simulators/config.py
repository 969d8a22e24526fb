"""The ``simulation`` section of the plant file: a load model per simulated meter."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class MeterSimulation(BaseModel):
    """A daily load shape: base load always, process load on weekday shifts, plus noise.

    ``base`` and ``peak`` are kW for electricity and Nm³/h for gas.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: Literal["electricity", "gas"]
    base: float = Field(ge=0)
    peak: float = Field(ge=0)
    shift_start: float = Field(default=8, ge=0, lt=24, description="local hour")
    shift_end: float = Field(default=20, gt=0, le=24, description="local hour")
    weekend_factor: float = Field(default=0.3, ge=0, le=1)
    noise: float = Field(default=0.05, ge=0, lt=1, description="relative, per minute")
    initial: float = Field(default=0, ge=0, description="counter value at the origin")
    seed: int = 0
    step: float = Field(default=1.0, gt=0, le=60, description="integration step, s")

    @model_validator(mode="after")
    def _ordered(self) -> MeterSimulation:
        if self.peak < self.base:
            raise ValueError(f"peak ({self.peak}) is below base ({self.base})")
        if self.shift_end <= self.shift_start:
            raise ValueError("shift_end must be after shift_start")
        return self


class SimulationConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    origin: datetime | None = Field(
        default=None,
        description="instant at which counters equal 'initial'; default: when simulation starts",
    )
    meters: dict[str, MeterSimulation] = {}
