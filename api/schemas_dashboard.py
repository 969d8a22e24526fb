"""Response models of the routes the dashboard needs beyond the catalog, series and ledger:
who is calling, the live meter tree, device health, and statements month by month."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas_ledger import Breakdown, KpiOut


class Me(BaseModel):
    """The caller's token, and the actions its role admits (by api.policy)."""

    name: str
    role: str = Field(examples=["manager"])
    site: str | None = Field(description="the one site the token is limited to; null: all")
    may: list[str] = Field(
        description="actions the role may take: close, review, approve, restate, "
        "record_event, lineage, audit",
        examples=[["close", "review", "approve", "restate", "record_event", "lineage"]],
    )


class FlowNode(BaseModel):
    """A meter in the live tree: its rate, and what its sub-meters leave unmetered."""

    meter: str
    name: str
    role: str
    point_id: int | None = Field(description="the gauge shown (power or flow); null if none")
    unit: str | None = Field(examples=["kW"])
    value: float | None = Field(description="the newest reading of that gauge")
    ts: datetime | None
    served: float | None = Field(
        description="what the loads behind this meter draw: its own value plus the "
        "generation behind it (electricity mains); null without a value"
    )
    unmetered: float | None = Field(
        description="served minus the sub-meters' values; null without sub-meters or values"
    )
    unmetered_share: float | None = Field(description="unmetered / served, when served > 0")
    generation: list[FlowNode] = Field(default_factory=list)
    children: list[FlowNode] = Field(default_factory=list)


class CarrierFlow(BaseModel):
    carrier: str = Field(examples=["electricity"])
    roots: list[FlowNode] = Field(description="main meters (and orphans) of the carrier")


class Flow(BaseModel):
    site: str
    timezone: str
    carriers: list[CarrierFlow]


class PointHealth(BaseModel):
    point: str
    point_id: int
    quantity: str
    unit: str
    ts: datetime | None
    value: float | None
    quality: list[str] | None = Field(description="flags of the newest reading")


class Device(BaseModel):
    """A meter as the collector sees it: when it was last heard of, and how polls go."""

    meter: str
    name: str
    carrier: str
    last_seen: datetime | None = Field(description="the newest reading of any of its points")
    expected_interval: float = Field(description="seconds between readings, from its source")
    online: bool = Field(description="a reading within three expected intervals (15 s at least)")
    source: str | None = Field(description="the Modbus source polling it; null for MQTT or unknown")
    errors: int | None = Field(
        description="failed polls since the collector started; null when no collector runs "
        "in this process or the meter is not polled"
    )
    last_success: datetime | None = Field(description="the collector's last successful poll")
    poll_latency_ms: float | None = Field(
        description="mean time to poll this device since the collector started"
    )
    points: list[PointHealth]


class Devices(BaseModel):
    site: str
    as_of: datetime
    collector: bool = Field(description="whether a collector reports in this process")
    items: list[Device]


class MonthFigures(BaseModel):
    """One month's latest stored statement, in brief."""

    period: str = Field(examples=["2026-03"])
    status: str
    version: int
    total_location: Decimal
    total_market: Decimal
    breakdown: list[Breakdown] = Field(description="by scope and by carrier, both bases")
    kpis: list[KpiOut]


class TargetMonth(BaseModel):
    period: str = Field(examples=["2026-03"])
    tco2e: Decimal = Field(description="the month's allowance on the trajectory")


class TargetOut(BaseModel):
    """The site's target (plant file ``ledger.targets``): a linear absolute contraction."""

    base_year: int
    base_tco2e: Decimal
    annual_reduction: Decimal = Field(description="share of the base cut each year")
    basis: Literal["location", "market"]
    months: list[TargetMonth] = Field(description="every month from `from` to `to`")


class History(BaseModel):
    site: str
    start: str = Field(serialization_alias="from")
    end: str = Field(serialization_alias="to")
    months: list[MonthFigures] = Field(description="months with a statement, oldest first")
    target: TargetOut | None = Field(default=None, description="none when no target is set")
