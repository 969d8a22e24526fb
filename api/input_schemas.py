"""Request and response models of the ledger-input routes (api/input_routes.py).

Numbers travel as exact decimals (strings in JSON, as stored); what the ledger's unit
rules refuse is refused by the route with the ledger's own message, not here.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from fastapi import UploadFile
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.write_schemas import LineChangeOut, Note, Reason
from store.ledger_input_rows import Listed, Voided

T = TypeVar("T")


def _unsigned(value: Decimal) -> Decimal:
    return value + 0  # "-0" passes ge=0, but the tables keep digits without a sign


def _text(text: str) -> str:
    if "\x00" in text:  # PostgreSQL text cannot hold NUL: refuse it here, not with a 503
        raise ValueError("must not contain NUL characters")
    if not text.strip():
        raise ValueError("must not be blank")
    return text.strip()


#: Up to 18 digits before the point and 12 after: more than any meter or invoice has.
Amount = Annotated[
    Decimal,
    Field(ge=0, max_digits=30, decimal_places=12, allow_inf_nan=False),
    AfterValidator(_unsigned),
]
Text = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_text)]
#: Units as the ledger reads them ("t", "L", "kg", "t·km"); the ledger checks the dimension.
Unit = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_text)]
LineKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)]


class VoidRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="why the input no longer counts (kept with it)")


class EntryForm(BaseModel):
    """A manual activity entry, sent as multipart/form-data with its evidence files."""

    model_config = ConfigDict(extra="forbid")

    category: Literal["diesel", "refrigerant", "road_freight"]
    quantity: Amount = Field(description="the amount, exact: 1200, 0.4, 36465")
    unit: Unit = Field(examples=["L"], description="t or L (diesel), kg (refrigerant), t·km")
    density: Amount | None = Field(default=None, description="diesel in litres: kg/L")
    density_unit: Unit | None = Field(default=None, examples=["kg/L"])
    gas: Text | None = Field(default=None, examples=["R-410A"], description="the refrigerant")
    factor: Text | None = Field(
        default=None, examples=["uk-desnz-2024/gb-diesel-2024"], description="SET/ID to use"
    )
    description: Note = ""
    evidence: list[UploadFile] = Field(default_factory=list, max_length=20)


class InstrumentForm(BaseModel):
    """A contractual instrument, sent as multipart/form-data with its evidence files."""

    model_config = ConfigDict(extra="forbid")

    kind: Text = Field(examples=["GEC"], description="GEC, I-REC, green-power PPA …")
    mwh: Amount = Field(gt=0, description="MWh it covers over the period")
    period_start: date = Field(description="first day it covers")
    period_end: date = Field(description="first day it no longer covers")
    factor: Amount = Field(description="its own factor in tCO2/MWh (often 0)")
    certificates: list[Text] = Field(default_factory=list, max_length=1000)
    evidence: list[UploadFile] = Field(default_factory=list, max_length=20)


class ProductionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: LineKey = Field(examples=["line-cups"])
    tonnes: Amount = Field(description="the month's output in tonnes, exact as a string")
    source: Text = Field(examples=["MES month report"], description="where the figure comes from")
    replace: bool = Field(default=False, description="void the month's live figure first")


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from `ledger.ports.EvidenceRef`

    sha256: str = Field(description="SHA-256 of the file's bytes, as stored")
    filename: str
    media_type: str
    size: int


class VoidedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from `store...Voided`

    at: datetime
    by: str
    reason: str


class ListedOut(BaseModel):
    """An input as listed: read field by field from its ledger record, plus its voiding."""

    model_config = ConfigDict(from_attributes=True)

    voided: VoidedOut | None = None

    @classmethod
    def of(cls, listed: Listed[Any]) -> Self:
        shown = cls.model_validate(listed.record)
        return shown.model_copy(update={"voided": _voided(listed.voided)})


def _voided(voided: Voided | None) -> VoidedOut | None:
    return None if voided is None else VoidedOut.model_validate(voided)


class MonthEffect(BaseModel):
    """What an input does to a month it counts in."""

    period: str = Field(examples=["2026-03"])
    status: str = Field(examples=["approved"], description="open, closed, reviewed, approved")
    effect: str = Field(description="taken at close, draft to close again, or pending")
    pending_restatement: list[LineChangeOut] = Field(
        default_factory=list, description="approved month: the lines a restatement would move"
    )


class EntryOut(ListedOut):
    id: int
    category: str
    quantity: Decimal
    unit: str
    description: str
    factor: str | None
    gas: str | None
    density: Decimal | None
    density_unit: str | None
    entered_by: str
    entered_at: datetime
    evidence: list[EvidenceOut]


class EntryAdded(EntryOut):
    tco2e: Decimal = Field(description="the entry's emissions as the ledger states them")
    formula: str
    months: list[MonthEffect]


class InstrumentOut(ListedOut):
    id: int
    kind: str
    mwh: Decimal
    period_start: date = Field(description="first day covered")
    period_end: date = Field(description="first day no longer covered")
    factor: Decimal = Field(description="tCO2/MWh")
    certificates: list[str]
    entered_by: str
    entered_at: datetime
    evidence: list[EvidenceOut]


class InstrumentAdded(InstrumentOut):
    months: list[MonthEffect]


class ProductionOut(ListedOut):
    id: int
    line: str
    tonnes: Decimal
    source: str
    entered_by: str
    entered_at: datetime


class ProductionAdded(ProductionOut):
    months: list[MonthEffect]


class VoidOut(BaseModel):
    id: int
    voided: bool = True
    months: list[MonthEffect]


class Items(BaseModel, Generic[T]):
    items: list[T]
