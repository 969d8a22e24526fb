"""Statements as the API shows them, from their canonical content.

A stored statement is its canonical JSON (the bytes its hash covers); a month-to-date one
is a `ledger.statements.Statement` turned into the same JSON. Both are shown by one
function, so the two can never be presented differently. Totals come from the ledger's
own `Statement.total`, over lines rebuilt from the content.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from api.factor_library import Entry, records_for
from api.schemas_ledger import (
    ActivityOut,
    Breakdown,
    EvidenceOut,
    FactorRecord,
    FindingOut,
    KpiOut,
    LineOut,
    StatementOut,
)
from ledger.factors import Factor
from ledger.periods import Month
from ledger.statements import Kpi, Line, Statement
from store.quality import quality_names

T = TypeVar("T")
_TYPED = ("lines", "activities", "kpis", "findings")
_HEAD = ("site", "period", "version", "reason", "computed_at")


def rebuild(content: bytes | Mapping[str, Any]) -> Statement:
    """The statement's lines and KPIs as ledger objects (enough for totals and diffs)."""
    doc = json.loads(content) if isinstance(content, bytes) else content
    return Statement(
        site=doc["site"],
        period=doc["period"],
        version=doc["version"],
        lines=tuple(_dataclass(Line, row) for row in doc["lines"]),
        kpis=tuple(_dataclass(Kpi, row) for row in doc.get("kpis", [])),
        reason=doc.get("reason"),
        computed_at=datetime.fromisoformat(doc["computed_at"]),
    )


def _dataclass(cls: type[T], row: Mapping[str, Any]) -> T:
    """Build a ledger dataclass from canonical JSON: decimals back from their strings."""
    fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
    values = {}
    for name, spec in fields.items():
        if name not in row:
            continue
        value = row[name]
        kind = str(spec.type)
        if "Decimal" in kind and isinstance(value, str):
            value = Decimal(value)
        elif kind.startswith("tuple") and isinstance(value, list):
            value = tuple(value)
        values[name] = value
    return cls(**values)


def statement_out(
    content: bytes | Mapping[str, Any],
    sets: Mapping[tuple[str, str], Entry],
    *,
    status: str,
    hash: str | None = None,
    previous_hash: str | None = None,
    created_at: datetime | None = None,
) -> StatementOut:
    """Show a statement: its figures, how they break down, and the factor records used."""
    doc = json.loads(content) if isinstance(content, bytes) else content
    statement = rebuild(doc)
    activities = [activity_out(a) for a in doc.get("activities", [])]
    coverages = [a.coverage for a in activities]
    return StatementOut(
        site=doc["site"],
        period=doc["period"],
        version=doc["version"],
        reason=doc.get("reason"),
        computed_at=doc["computed_at"],
        status=status,
        hash=hash,
        previous_hash=previous_hash,
        created_at=created_at,
        total_location=statement.total("location"),
        total_market=statement.total("market"),
        coverage=min(coverages) if coverages else None,
        breakdown=breakdown(statement),
        lines=[LineOut.model_validate(row) for row in doc["lines"]],
        activities=activities,
        kpis=[KpiOut.model_validate(row) for row in doc.get("kpis", [])],
        findings=[
            FindingOut(code=c, subject=s, detail=d, source=o) for c, s, d, o in doc["findings"]
        ],
        factors=factors_used(statement, sets),
        other={k: v for k, v in doc.items() if k not in (*_TYPED, *_HEAD)},
    )


def activity_out(row: Mapping[str, Any]) -> ActivityOut:
    evidence = [
        EvidenceOut(
            ts=e["ts"], value=e["value"], quality=e["quality"], flags=quality_names(e["quality"])
        )
        for e in row.get("evidence", [])
    ]
    return ActivityOut.model_validate({**row, "evidence": evidence})


def breakdown(statement: Statement) -> list[Breakdown]:
    """tCO2e by scope, category, carrier and meter, on both bases, by the ledger's rule."""
    rows = []
    by: Literal["scope", "category", "carrier", "meter"]
    for by in ("scope", "category", "carrier", "meter"):
        groups = sorted({str(getattr(line, by)) for line in statement.lines})
        for key in groups:
            part = Statement(
                statement.site,
                statement.period,
                statement.version,
                tuple(line for line in statement.lines if str(getattr(line, by)) == key),
            )
            rows.append(
                Breakdown(
                    by=by,
                    key=key,
                    location=part.total("location"),
                    market=part.total("market"),
                )
            )
    return rows


def factors_used(statement: Statement, sets: Mapping[tuple[str, str], Entry]) -> list[FactorRecord]:
    """Every factor record behind the statement's lines, each once, in line order."""
    start, end = period_days(statement.period)
    found: dict[str, FactorRecord] = {}
    for line in statement.lines:
        for record in records_for(line.factor_id, dict(sets), start, end):
            digest = sets[(record.set_name, record.set_version)].factor_set.digest
            found.setdefault(record.ref, factor_record(record, digest))
    return list(found.values())


def period_days(period: str) -> tuple[date, date]:
    """The local first day of a month and of the next: what factor validity is tested on."""
    month = Month.parse(period)
    return month.first_day, month.next().first_day


def factor_record(factor: Factor, digest: str) -> FactorRecord:
    return FactorRecord(
        ref=factor.ref,
        set=factor.set_name,
        version=factor.set_version,
        set_digest=digest,
        id=factor.id,
        kind=factor.kind,
        carrier=factor.carrier,
        region=factor.region,
        gas=factor.gas,
        value=factor.value,
        numerator=factor.rate.numerator,
        denominator=factor.rate.denominator,
        data_year=factor.data_year,
        valid_from=factor.valid_from,
        valid_to=factor.valid_to,
        publisher=factor.publisher,
        document=factor.document,
        url=factor.url,
        superseded_by=factor.superseded_by,
        notes=factor.notes,
    )
