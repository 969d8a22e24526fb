"""Statements: a period's ledger as an immutable, hashed, chained document.

A statement's content is serialised canonically (sorted keys, Decimals as exact strings,
instants in UTC) and hashed together with the hash of the site's previous statement, so
that changing any figure of any earlier statement breaks every hash after it. Corrections
are new versions that say why (restatements); nothing is edited in place. An auditor's
``verify`` recomputes the chain from an export with this module alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ledger.findings import Finding

if TYPE_CHECKING:
    from ledger.instruments import InstrumentUse
    from ledger.manual import EntryActivity
    from ledger.product_lines import Allocation
    from ledger.production import Output

GENESIS = "0" * 64  # the "previous hash" of a site's first statement


class Status(StrEnum):
    """open → closed (draft) → reviewed → approved (locked)."""

    OPEN = "open"
    CLOSED = "closed"
    REVIEWED = "reviewed"
    APPROVED = "approved"


@dataclass(frozen=True, slots=True)
class Evidence:
    """A reading a boundary value rests on, as an auditor would look it up."""

    ts: datetime
    value: Decimal
    quality: int


@dataclass(frozen=True, slots=True)
class Activity:
    """The activity data behind lines: a point's quantity over the period and its backing."""

    key: str  # e.g. "grid-main/energy_import"
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
    evidence: tuple[Evidence, ...]
    corrections: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Kpi:
    """An intensity: a numerator per unit of output, with both kept for recomputation."""

    name: str  # e.g. "electricity per output"
    value: Decimal
    unit: str  # e.g. "kWh/t"
    numerator: Decimal
    denominator: Decimal


@dataclass(frozen=True, slots=True)
class Line:
    """One emission line, with what it was computed from.

    ``basis`` separates the two scope-2 views: ``location`` and ``market`` lines are
    alternatives, never added together; scope-1 (and scope-3) lines are ``direct`` and
    count in both; ``memo`` lines (PV self-consumption) carry no tCO2e and count in none.
    """

    key: str  # stable within a period: e.g. "scope2/electricity/location/grid-main"
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
    basis: str = "direct"
    activity_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Statement:
    site: str
    period: str  # "2026-03"
    version: int
    lines: tuple[Line, ...]
    findings: tuple[Finding, ...] = ()
    activities: tuple[Activity, ...] = ()
    kpis: tuple[Kpi, ...] = ()
    reason: str | None = None  # why this version exists, for restatements
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    entries: tuple[EntryActivity, ...] = ()  # manual entries, with their evidence hashes
    instruments: tuple[InstrumentUse, ...] = ()  # contractual instruments and their part
    production: tuple[Output, ...] = ()  # each line's output and where it comes from
    allocations: tuple[Allocation, ...] = ()  # shared meters split between lines

    def content(self) -> dict[str, Any]:
        """What the hash covers: every figure and its lineage, not the workflow status."""
        return {
            "site": self.site,
            "period": self.period,
            "version": self.version,
            "reason": self.reason,
            "computed_at": self.computed_at,
            "lines": [_fields(line) for line in sorted(self.lines, key=lambda x: x.key)],
            "activities": [_fields(a) for a in sorted(self.activities, key=lambda a: a.key)],
            "kpis": [_fields(k) for k in sorted(self.kpis, key=lambda k: k.name)],
            "entries": [_fields(e) for e in sorted(self.entries, key=lambda e: e.key)],
            "instruments": [_fields(i) for i in sorted(self.instruments, key=lambda i: i.key)],
            "production": [_fields(o) for o in sorted(self.production, key=lambda o: o.line)],
            "allocations": [_fields(a) for a in sorted(self.allocations, key=lambda a: a.key)],
            "findings": [
                [f.code, f.subject, f.detail, f.source]
                for f in sorted(self.findings, key=lambda f: (f.code, f.subject, f.detail))
            ],
        }

    def total(self, basis: str = "location", scope: str | None = None) -> Decimal:
        """tCO2e on a ``location`` or ``market`` basis (direct lines count in both)."""
        return sum(
            (
                line.tco2e
                for line in self.lines
                if line.basis in ("direct", basis) and scope in (None, line.scope)
            ),
            Decimal(0),
        )


def _fields(record: Any) -> Any:
    """A dataclass as plain data, recursively, for the canonical form."""
    if isinstance(record, tuple):
        return [_fields(item) for item in record]
    if hasattr(record, "__slots__") and hasattr(record, "__dataclass_fields__"):
        return {name: _fields(getattr(record, name)) for name in record.__dataclass_fields__}
    return record


def canonical(content: Any) -> bytes:
    """Deterministic bytes for any content of dicts, lists, Decimals, strings and instants."""
    return json.dumps(
        content, default=_plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be hashed canonically")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} has no canonical form")


def content_hash(statement: Statement, previous_hash: str) -> str:
    """SHA-256 of the previous hash and the statement's canonical content."""
    digest = hashlib.sha256(previous_hash.encode())
    digest.update(canonical(statement.content()))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Sealed:
    """A statement with its place in the chain."""

    statement: Statement
    previous_hash: str
    hash: str


def seal(statement: Statement, previous_hash: str | None) -> Sealed:
    """Place a statement after the chain head ``previous_hash`` (None: the first)."""
    previous_hash = previous_hash or GENESIS
    return Sealed(statement, previous_hash, content_hash(statement, previous_hash))


def verify_stored(chain: Sequence[tuple[str, bytes, str]]) -> list[Finding]:
    """Verify stored (previous hash, canonical content, hash) triples in chain order.

    Works on the bytes as stored or exported, so no statement object need be rebuilt.
    """
    findings = []
    expected = GENESIS
    for index, (previous, content, recorded) in enumerate(chain):
        doc = json.loads(content)
        subject = f"{doc['site']} {doc['period']} v{doc['version']} (#{index + 1})"
        if previous != expected:
            findings.append(
                Finding(
                    "CHAIN_BROKEN",
                    subject,
                    f"previous hash {previous[:12]}… should be {expected[:12]}…",
                    "verify_stored",
                )
            )
        digest = hashlib.sha256(previous.encode())
        digest.update(content)
        if digest.hexdigest() != recorded:
            findings.append(
                Finding(
                    "CONTENT_CHANGED",
                    subject,
                    f"content hashes to {digest.hexdigest()[:12]}…, recorded {recorded[:12]}…",
                    "verify_stored",
                )
            )
        expected = recorded
    return findings


def findings_of(content: bytes) -> list[Finding]:
    """The findings recorded in a statement's canonical content."""
    return [Finding(*row) for row in json.loads(content)["findings"]]


def verify_chain(chain: Sequence[Sealed]) -> list[Finding]:
    """Recompute every hash in order; a finding for each link that does not hold."""
    return verify_stored(
        [(s.previous_hash, canonical(s.statement.content()), s.hash) for s in chain]
    )


@dataclass(frozen=True, slots=True)
class LineChange:
    key: str
    before: Decimal | None  # None: the line is new
    after: Decimal | None  # None: the line is gone
    fields: tuple[str, ...]  # which inputs changed (activity, factor_id, …)

    @property
    def delta(self) -> Decimal:
        return (self.after or Decimal(0)) - (self.before or Decimal(0))


def diff(before: Statement, after: Statement) -> list[LineChange]:
    """What a restatement changes, line by line, with the inputs that moved."""
    old: Mapping[str, Line] = {line.key: line for line in before.lines}
    new: Mapping[str, Line] = {line.key: line for line in after.lines}
    changes = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None:
            moved = tuple(
                n for n in Line.__slots__ if n != "key" and getattr(a, n) != getattr(b, n)
            )
            if moved:
                changes.append(LineChange(key, a.tco2e, b.tco2e, moved))
        else:
            changes.append(LineChange(key, a.tco2e if a else None, b.tco2e if b else None, ()))
    return changes


def stored_diff(content: bytes, after: Statement) -> list[LineChange]:
    """What recomputing would change in a stored statement, line by line.

    Compares the figures and their inputs as stored (canonical content) with a fresh
    computation, so late readings, late entries or a new factor show up as a pending
    restatement. KPIs are compared too (key ``kpi/<name>``, before and after as values),
    since an entered production figure moves them without moving any line.
    """
    doc = json.loads(content)
    old = {line["key"]: line for line in doc["lines"]}
    new = {line.key: _fields(line) for line in after.lines}
    new = json.loads(canonical(new))
    return _line_changes(old, new) + _kpi_changes(doc.get("kpis", []), after.kpis)


def _kpi_changes(stored: Sequence[Mapping[str, Any]], fresh: Sequence[Kpi]) -> list[LineChange]:
    old = {k["name"]: Decimal(k["value"]) for k in stored}
    new = {k.name: k.value for k in fresh}
    return [
        LineChange(f"kpi/{name}", old.get(name), new.get(name), ("value",))
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    ]


def _line_changes(
    old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]
) -> list[LineChange]:
    changes = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        before = Decimal(a["tco2e"]) if a else None
        now = Decimal(b["tco2e"]) if b else None
        if a is not None and b is not None:
            moved = tuple(n for n in _COMPARED if a.get(n) != b.get(n))
            if moved:
                changes.append(LineChange(key, before, now, moved))
        else:
            changes.append(LineChange(key, before, now, ()))
    return changes


_COMPARED = ("activity", "activity_unit", "factor_id", "factor_version", "tco2e")
