"""The factor registry: versioned, cited factor sets and the choice of a factor for a period.

A record is an emission factor (``kind`` ``factor``, with its gas) or a fuel parameter
(``NCV``, ``CC``, ``OF``) for the parameter method ``EF = CC × OF × 44/12``. Every record
carries its publisher and document, because a number an auditor cannot trace is not
evidence (BRIEF rule 3). Sets are read from CSV by ``ledger.factorsets`` (format in
docs/factors.md).

Sets are immutable once loaded and carry the SHA-256 of their text, so a closed period can
pin exactly the factors it used; a corrected set is a new version, never an edit.

Choosing a factor (``FactorSet.select``): among the records for the carrier and region
whose validity covers the whole period, drop those superseded by another that also covers
it, then take the latest data year not after the period's year (or, when every one is later,
the earliest). A data year other than the period's is reported as a finding, not hidden
(BRIEF rule 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from ledger.findings import Finding
from ledger.quantities import Rate
from meterledger.errors import FactorError

KINDS = ("factor", "NCV", "CC", "OF")


@dataclass(frozen=True, slots=True)
class Factor:
    """One cited record of a factor set: an emission factor or a fuel parameter."""

    id: str
    kind: str
    carrier: str
    region: str
    gas: str
    rate: Rate
    data_year: int | None
    valid_from: date | None
    valid_to: date | None
    publisher: str
    document: str
    url: str
    superseded_by: str
    notes: str
    set_name: str
    set_version: str

    @property
    def value(self) -> Decimal:
        return self.rate.value

    @property
    def ref(self) -> str:
        """Name the record with its set and version: ``cn-mee-grid@2025.1/cn-grid-2022``."""
        return f"{self.set_name}@{self.set_version}/{self.id}"

    def covers(self, start: date, end: date) -> bool:
        """Say whether the half-open period [start, end) lies inside this record's validity."""
        after_start = self.valid_from is None or self.valid_from <= start
        before_end = self.valid_to is None or end <= self.valid_to
        return after_start and before_end


@dataclass(frozen=True, slots=True)
class Selection:
    """The factor chosen for a period, and what the reader must know about the choice."""

    factor: Factor
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class FactorSet:
    """A loaded, immutable, versioned factor set."""

    name: str
    version: str
    title: str
    factors: tuple[Factor, ...]
    digest: str

    def get(self, factor_id: str) -> Factor:
        """Return the record with this id, or raise FactorError naming the set."""
        for factor in self.factors:
            if factor.id == factor_id:
                return factor
        raise FactorError(f"{self.name}@{self.version}", f"no record with id {factor_id!r}")

    def select(
        self,
        carrier: str,
        region: str,
        period_start: date,
        period_end: date,
        *,
        kind: str = "factor",
        gas: str | None = None,
    ) -> Selection:
        """Choose the record for a carrier and region valid for [period_start, period_end).

        Datetimes are taken at their (local) date. Raises FactorError naming the carrier,
        region and period when nothing fits, or when two records fit equally well.
        """
        start, end = _day(period_start), _day(period_end)
        subject = f"{kind} {carrier} in {region} for [{start}, {end})"
        if end <= start:
            raise FactorError(subject, "the period ends before it starts")
        pool = [
            f
            for f in self.factors
            if (f.kind, f.carrier, f.region) == (kind, carrier, region) and gas in (None, f.gas)
        ]
        if not pool:
            raise FactorError(
                subject, f"set {self.name}@{self.version} has none{self._hint(carrier)}"
            )
        valid = [f for f in pool if f.covers(start, end)]
        if not valid:
            spans = "; ".join(f"{f.id} [{f.valid_from or '…'}, {f.valid_to or '…'})" for f in pool)
            raise FactorError(subject, f"no record is valid for the whole period ({spans})")
        ids = {f.id for f in valid}
        current = [f for f in valid if f.superseded_by not in ids]
        chosen = _by_data_year(current, start.year)
        if len(chosen) > 1:
            raise FactorError(subject, f"ambiguous: {', '.join(f.id for f in chosen)}")
        return Selection(chosen[0], _year_findings(chosen[0], start, end))

    def _hint(self, carrier: str) -> str:
        regions = sorted({f.region for f in self.factors if f.carrier == carrier})
        return f" (it has {carrier} for {', '.join(regions)})" if regions else ""


def _day(moment: date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _by_data_year(candidates: list[Factor], year: int) -> list[Factor]:
    """Keep the records of the latest data year not after ``year``, else of the earliest.

    Records with a data year are preferred to records without one; only when none has a
    year are the undated ones kept (and selection reports FACTOR_YEAR_UNKNOWN).
    """
    dated = [f for f in candidates if f.data_year is not None]
    if not dated:
        return candidates
    years = {f.data_year for f in dated if f.data_year is not None}
    best = max((y for y in years if y <= year), default=min(years))
    return [f for f in dated if f.data_year == best]


def _year_findings(factor: Factor, start: date, end: date) -> tuple[Finding, ...]:
    findings = []
    if factor.data_year is None:
        detail = f"the source states no data year; used for the period starting {start}"
        findings.append(Finding("FACTOR_YEAR_UNKNOWN", factor.ref, detail, "factor selection"))
    elif factor.data_year != start.year:
        detail = f"data year {factor.data_year} used for a period of {start.year}"
        findings.append(Finding("FACTOR_YEAR_MISMATCH", factor.ref, detail, "factor selection"))
    if (end - timedelta(days=1)).year != start.year:
        detail = f"[{start}, {end}) spans years; data year compared with {start.year}"
        findings.append(Finding("PERIOD_SPANS_YEARS", factor.ref, detail, "factor selection"))
    return tuple(findings)
