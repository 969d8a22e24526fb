"""Response models of the API: what `/openapi.json` promises."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class LiveValue(BaseModel):
    """The newest reading of one point, with what it measures."""

    site: str
    meter: str
    point: str
    point_id: int
    quantity: str = Field(examples=["energy_import"])
    unit: str = Field(examples=["kWh"])
    kind: Literal["counter", "gauge"]
    ts: datetime | None = Field(description="instant of the reading (UTC); null before the first")
    value: float | None
    quality: list[str] | None = Field(
        description="quality flags of the reading; ['good'] when none is set"
    )


class LiveResponse(BaseModel):
    items: list[LiveValue]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    detail: str | None = None
