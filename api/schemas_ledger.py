"""Response models of the ledger routes: statements, periods, versions, diffs, lineage.

Figures are exact decimal strings, as the statement's canonical content holds them. Line,
activity and KPI models let through fields the ledger adds later, so a statement is
shown whole even when it is newer than this API.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: A month as the API takes it (YYYY-MM). Years 1970-2999: before 1970 a zone's local
#: midnight may fall off the whole UTC hour (Shanghai kept local mean time, +08:05:43,
#: until 1901), which no meter reading ever needs.
MONTH_PATTERN = r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])$"


class FactorRecord(BaseModel):
    """A cited factor record, as the factor set states it."""

    ref: str = Field(examples=["cn-mee-grid@1/cn-grid-2022"])
    set: str
    version: str
    set_digest: str = Field(description="SHA-256 of the factor set's text")
    id: str
    kind: str = Field(description="factor, or a fuel parameter: NCV, CC, OF")
    carrier: str
    region: str
    gas: str
    value: Decimal
    numerator: str
    denominator: str
    data_year: int | None
    valid_from: date | None
    valid_to: date | None
    publisher: str
    document: str
    url: str
    superseded_by: str
    notes: str


class LineOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    key: str = Field(examples=["scope2/electricity/location/grid-main"])
    scope: str
    category: str
    carrier: str
    meter: str | None
    activity: Decimal
    activity_unit: str
    factor_id: str
    factor_version: str
    tco2e: Decimal
    formula: str
    basis: str = Field(description="location, market, direct (both) or memo (neither)")
    activity_keys: list[str]


class EvidenceOut(BaseModel):
    ts: datetime
    value: Decimal
    quality: int
    flags: list[str] = Field(description="names of the quality flags")


class ActivityOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    key: str = Field(examples=["grid-main/energy_import"])
    meter: str
    point: str
    point_id: int
    quantity: Decimal
    unit: str
    method: str
    coverage: Decimal
    estimated_share: Decimal
    start_value: Decimal | None
    end_value: Decimal | None
    evidence: list[EvidenceOut]
    corrections: list[str]


class KpiOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    value: Decimal
    unit: str


class FindingOut(BaseModel):
    code: str
    subject: str
    detail: str
    source: str


class Breakdown(BaseModel):
    """tCO2e of a group of lines on both scope-2 bases (direct lines count in both)."""

    by: Literal["scope", "category", "carrier", "meter"]
    key: str
    location: Decimal
    market: Decimal


class StatementOut(BaseModel):
    site: str
    period: str
    version: int
    status: str = Field(description="closed, reviewed, approved; to-date for month-to-date")
    hash: str | None = None
    previous_hash: str | None = None
    created_at: datetime | None = None
    reason: str | None
    computed_at: datetime
    total_location: Decimal = Field(description="tCO2e, location-based scope 2")
    total_market: Decimal = Field(description="tCO2e, market-based scope 2")
    coverage: Decimal | None = Field(description="the lowest coverage of any activity")
    breakdown: list[Breakdown]
    lines: list[LineOut]
    activities: list[ActivityOut]
    kpis: list[KpiOut]
    findings: list[FindingOut]
    factors: list[FactorRecord] = Field(description="every factor record the lines used")
    other: dict[str, Any] = Field(
        description="the rest of the statement's content as stored (entries, instruments, …)"
    )
    pending_restatement: list[dict[str, Any]] | None = None


class MonthToDate(StatementOut):
    as_of: datetime
    start: datetime = Field(description="the month's start: local midnight, in UTC")
    end: datetime = Field(description="the month's end: local midnight, in UTC")


class PeriodOut(BaseModel):
    period: str = Field(examples=["2026-03"])
    status: Literal["open", "closed", "reviewed", "approved"]
    version: int | None
    hash: str | None
    created_at: datetime | None
    pending_restatement: bool


class VersionOut(BaseModel):
    version: int
    status: str
    hash: str
    previous_hash: str
    reason: str | None
    created_at: datetime
    total_location: Decimal
    total_market: Decimal


class ChangeOut(BaseModel):
    key: str
    before: Decimal | None
    after: Decimal | None
    delta: Decimal
    fields: list[str] = Field(description="the inputs that moved (activity, factor_id, …)")


class DiffOut(BaseModel):
    site: str
    period: str
    before: int
    after: int
    reason: str | None = Field(description="why the later version exists")
    changes: list[ChangeOut]


class AppliedEvent(BaseModel):
    id: int
    ts: datetime
    kind: str
    old_value: float | None
    new_value: float | None
    detail: dict[str, Any]
    recorded_at: datetime
    recorded_by: str | None
    applied: bool = Field(description="recorded before this version was computed")


class ActivityLineage(ActivityOut):
    events: list[AppliedEvent]


class Lineage(BaseModel):
    """From one statement line down to readings, events, factor records and formula."""

    site: str
    period: str
    version: int
    hash: str
    start: datetime = Field(description="the period's start: local midnight, in UTC")
    end: datetime
    line: LineOut
    activities: list[ActivityLineage]
    factors: list[FactorRecord]
    formula: str
    recompute: list[str] = Field(description="the steps, in words, to recompute the line")


class ChainCheck(BaseModel):
    site: str
    statements: int
    intact: bool
    findings: list[FindingOut]
