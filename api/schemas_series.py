"""Response models of the series route."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from api.schemas_catalog import Point


class SeriesBucket(BaseModel):
    """One bucket ``[start, end)``: consumption for a counter, mean/min/max for a gauge."""

    start: datetime
    end: datetime
    coverage: float = Field(
        ge=0, le=1, description="share of the bucket backed by accepted readings"
    )
    readings: int = Field(description="accepted readings in the bucket")
    consumption: Decimal | None = Field(
        default=None,
        description="counters: V(end) - V(start) by the ledger's rule, wraps and meter "
        "events corrected; an exact decimal string",
    )
    method: str | None = Field(default=None, examples=["counter-boundary with interpolation"])
    estimated_share: Decimal | None = Field(
        default=None, description="counters: share of the consumption resting on estimates"
    )
    corrections: list[str] = Field(
        default_factory=list, description="counters: corrections applied (wrap, replacement…)"
    )
    findings: list[str] = Field(default_factory=list, description="codes of ledger findings")
    mean: float | None = Field(default=None, description="gauges: mean of accepted readings")
    min: float | None = None
    max: float | None = None


class RawReading(BaseModel):
    """A stored reading as the collector wrote it, rejected ones included."""

    ts: datetime
    value: float
    quality: list[str]


class Series(BaseModel):
    point: Point
    unit: str = Field(examples=["kWh"], description="unit of values and consumption")
    resolution: str
    zone: str = Field(description="time zone of the bucket boundaries (the site's)")
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    buckets: list[SeriesBucket] | None = Field(default=None, description="null at `raw`")
    readings: list[RawReading] | None = Field(default=None, description="only at `raw`")
    next_cursor: str | None
