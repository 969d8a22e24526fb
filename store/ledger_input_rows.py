"""Ledger inputs as the tables hold them, read into the records the ledger uses.

The columns each listing selects, and the one place a row becomes an `EntryRecord`,
`InstrumentRecord` or `ProductionRecord` (numbers back to exact Decimals from their text),
with its voiding when it was voided. Split from `store.ledger_inputs`, which does the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from ledger.ports import EntryRecord, EvidenceRef, InstrumentRecord, ProductionRecord

T = TypeVar("T")

ENTRY_COLUMNS = """e.id, e.category, e.quantity, e.unit, e.description, e.entered_by, e.entered_at,
            e.factor, e.gas, e.density, e.density_unit, e.evidence,
            e.voided_at, e.voided_by, e.void_reason"""
INSTRUMENT_COLUMNS = """i.id, i.kind, i.mwh, i.period_start, i.period_end, i.factor, i.certificates,
                 i.entered_by, i.entered_at, i.evidence, i.voided_at, i.voided_by,
                 i.void_reason"""
PRODUCTION_COLUMNS = """p.id, p.line, p.tonnes, p.source, p.entered_by, p.entered_at,
                 p.voided_at, p.voided_by, p.void_reason"""


@dataclass(frozen=True, slots=True)
class Voided:
    """Who voided an input, when, and why."""

    at: datetime
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class Listed(Generic[T]):
    """An input as listed: the record, and its voiding when it was voided."""

    record: T
    voided: Voided | None = None


def voided(at: datetime | None, by: str | None, reason: str | None) -> Voided | None:
    return None if at is None else Voided(at, by or "", reason or "")


def entry_listed(row: tuple[Any, ...], refs: dict[str, EvidenceRef]) -> Listed[EntryRecord]:
    (id_, category, quantity, unit, description, by, at, factor, gas, density, density_unit,
     evidence, voided_at, voided_by, reason) = row  # fmt: skip
    record = EntryRecord(
        id=id_,
        category=category,
        quantity=Decimal(quantity),
        unit=unit,
        description=description,
        entered_by=by,
        entered_at=at,
        factor=factor,
        gas=gas,
        density=None if density is None else Decimal(density),
        density_unit=density_unit,
        evidence=tuple(refs[sha] for sha in evidence),
    )
    return Listed(record, voided(voided_at, voided_by, reason))


def instrument_listed(
    row: tuple[Any, ...], refs: dict[str, EvidenceRef]
) -> Listed[InstrumentRecord]:
    (id_, kind, mwh, start, end, factor, certificates, by, at, evidence, voided_at, voided_by,
     reason) = row  # fmt: skip
    record = InstrumentRecord(
        id=id_,
        kind=kind,
        mwh=Decimal(mwh),
        period_start=start,
        period_end=end,
        factor=Decimal(factor),
        certificates=tuple(certificates),
        entered_by=by,
        entered_at=at,
        evidence=tuple(refs[sha] for sha in evidence),
    )
    return Listed(record, voided(voided_at, voided_by, reason))


def production_listed(row: tuple[Any, ...]) -> Listed[ProductionRecord]:
    id_, line, tonnes, source, by, at, voided_at, voided_by, reason = row
    record = ProductionRecord(id_, line, Decimal(tonnes), source, by, at)
    return Listed(record, voided(voided_at, voided_by, reason))
