"""Request and response models of the write routes: what they accept, validated at the edge.

Models refuse unknown fields and name the field and value they reject, so a client learns
what to fix from the problem+json answer, and nothing reaches the store half-checked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from api.problems import problem_response
from ledger.statements import LineChange
from store.catalog import POINT_PATTERN

#: The problems every write route can answer (401 and 403 are added from the policy).
ERRORS: dict[int | str, dict[str, Any]] = {
    404: problem_response("The site, meter or point named in the path does not exist"),
    409: problem_response("The workflow does not allow this move now (blocking findings listed)"),
    422: problem_response("A field of the request cannot be used; the problem names it and value"),
    503: problem_response("The database could not be reached or refused; nothing was written"),
}


def _storable(text: str) -> str:
    if "\x00" in text:  # PostgreSQL text cannot hold NUL: refuse it here, not with a 503
        raise ValueError("must not contain NUL characters")
    return text


def _reason(text: str) -> str:
    if not text.strip():
        raise ValueError("must say why, not be blank")
    return _storable(text.strip())


Reason = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_reason)]
Note = Annotated[str, Field(max_length=2000), AfterValidator(_storable)]
Serial = Annotated[str, Field(max_length=100), AfterValidator(_storable)]
#: Meter events from before electronic meters are typing errors.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = Field(
        default=None, description="why a month that has a version is computed again"
    )


class RestatementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="why an approved month is restated (kept in the chain)")


StoredStatus = Literal["closed", "reviewed", "approved"]


class PeriodState(BaseModel):
    """The latest version of a site's month after the action."""

    site: str
    period: str = Field(examples=["2026-03"])
    version: int
    status: StoredStatus
    hash: str = Field(description="SHA-256 of the previous hash and the canonical content")
    previous_hash: str
    reason: str | None
    created_at: datetime


class LineChangeOut(BaseModel):
    key: str
    before: Decimal | None = Field(description="tCO2e in the approved version; null: new line")
    after: Decimal | None = Field(description="tCO2e now; null: the line is gone")
    fields: list[str] = Field(description="the inputs that moved (activity, factor_id, …)")

    @classmethod
    def of(cls, change: LineChange) -> LineChangeOut:
        return cls(
            key=change.key, before=change.before, after=change.after, fields=list(change.fields)
        )


class RestatementState(PeriodState):
    changes: list[LineChangeOut]


PointKey = Annotated[str, Field(pattern=POINT_PATTERN, examples=["energy_import"])]
Reading = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Multiplier = Annotated[
    Decimal,
    Field(gt=0, le=1_000_000, allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000},
                {"type": "string", "pattern": r"^[0-9]{1,7}(\.[0-9]{1,12})?$"},
            ],
            "description": "a CT×PT multiplier above 0 and at most 1000000, exact as a string",
        }
    ),
]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ts: AwareDatetime = Field(description="when it happened, with a UTC offset (from 1970)")
    note: Note | None = None

    @field_validator("ts")
    @classmethod
    def _not_before_1970(cls, ts: datetime) -> datetime:
        if ts < EARLIEST:
            raise ValueError("must be 1970 or later")
        return ts


class Replacement(_Event):
    """A counter swapped for a new one: the old register's last value and the new one's first."""

    kind: Literal["replacement"]
    point: PointKey
    final_reading: Reading = Field(description="the old meter's register when removed")
    initial_reading: Reading = Field(description="the new meter's register when installed")
    serial: Serial | None = Field(default=None, description="the new meter's serial number")


class Reset(_Event):
    """A counter set back (usually to zero) in place; the values are optional but help."""

    kind: Literal["reset"]
    point: PointKey
    final_reading: Reading | None = None
    initial_reading: Reading | None = None


class RatioChange(_Event):
    """New current or voltage transformers: the multiplier of the stored values changes."""

    kind: Literal["ratio_change"]
    point: PointKey | None = Field(default=None, description="null: every counter of the meter")
    multiplier_before: Multiplier
    multiplier_after: Multiplier
    reading: Reading | None = Field(default=None, description="the register at the change")

    @model_validator(mode="after")
    def _changes(self) -> RatioChange:
        if self.multiplier_before == self.multiplier_after:
            raise ValueError(f"multiplier_after equals multiplier_before ({self.multiplier_after})")
        return self


MeterEventBody = Replacement | Reset | RatioChange
MeterEventIn = Annotated[MeterEventBody, Field(discriminator="kind")]


class MeterEventOut(BaseModel):
    site: str
    meter: str
    point: str | None
    kind: Literal["replacement", "reset", "ratio_change"]
    ts: datetime
    recorded: bool = Field(description="false: the same event was already recorded")
