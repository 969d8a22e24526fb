"""Response models of the catalog routes: sites, meters, points and meter events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field


class Site(BaseModel):
    key: str = Field(examples=["shenyang-dairy"])
    name: str
    timezone: str = Field(examples=["Asia/Shanghai"], description="IANA zone of month boundaries")
    grid_region: str | None


class Meter(BaseModel):
    """A meter in its site's tree: site → workshop → line → equipment, by ``parent``."""

    site: str
    key: str = Field(examples=["grid-main"])
    name: str
    carrier: str = Field(examples=["electricity"])
    role: Literal["main", "sub", "generation", "export"]
    parent: str | None = Field(description="the meter above this one; null at a tree's root")
    path: list[str] | None = Field(
        description="meter keys from the tree's root down to this meter",
        examples=[["grid-main", "workshop-1", "line-2"]],
    )
    serial: str | None
    model: str | None
    ct_ratio: Decimal
    pt_ratio: Decimal
    installed_at: datetime | None
    removed_at: datetime | None


class Point(BaseModel):
    id: int
    site: str
    meter: str
    key: str = Field(examples=["energy_import"])
    quantity: str = Field(examples=["energy_import"])
    unit: str = Field(examples=["kWh"])
    kind: Literal["counter", "gauge"]
    wrap_value: float | None = Field(description="counters: the register rolls over to 0 here")


class MeterEventRead(BaseModel):
    """A recorded meter event: what the ledger applies to a counter's readings."""

    id: int
    site: str
    meter: str
    point: str | None = Field(description="null: every counter of the meter")
    ts: datetime
    kind: Literal["replacement", "reset", "ratio_change", "manual_reading"]
    old_value: float | None = Field(description="old register's final value (replacement)")
    new_value: float | None = Field(description="new register's initial value (replacement)")
    detail: dict[str, Any]
    recorded_at: datetime
    recorded_by: str | None
