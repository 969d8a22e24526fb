"""Close a period: roll up every metered carrier, add what was entered, check, and state.

This is the one computation behind a month's statement, the month-to-date view and an
auditor's recomputation: it reads only through the roll-up and input ports and the factor
sets it is given, so the same code runs on the live store or on an export bundle. Which
meters carry emissions follows the GHG Protocol and the brief:

- electricity, main meters: scope 2 from net import (import - export), location-based
  with the grid factor and market-based with contractual instruments first (their part
  in the month, each MWh used once across meters: `ledger.instruments`), the rest at
  the grid factor (no residual mix is published for China; a finding says so);
- natural gas, main meters: scope 1 from Nm³ with NCV, carbon content and oxidation;
- steam and heat bought in, main meters with a GJ counter: scope 2 at the heat factor;
- sub-meters, generation (PV), water: no emission lines (they would count twice, or have
  none); sub-meters are checked against their main meter, and PV gets a memo line with
  its self-consumption (`ledger.self_consumption`).

Manual entries (diesel, refrigerant, freight) become lines of their own
(`ledger.manual`); production per line comes from counters or entries
(`ledger.production`), and KPIs are stated for the site and per line
(`ledger.product_lines`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ledger.checks import total_covers_metered_scope2
from ledger.consumption import BLOCKING as ROLLUP_BLOCKING
from ledger.counters import CounterPoint
from ledger.emissions import Instrument
from ledger.factors import FactorSet
from ledger.findings import Finding
from ledger.gwp import AR5, GwpSet
from ledger.instruments import InstrumentUse, distribute, month_part, use_of
from ledger.intensity import intensities
from ledger.manual import EntryFactors, entry_result
from ledger.measured import carbon_per_unit, counted_output, is_grid, measured, pv_lines
from ledger.metered_lines import amounts, first_day, meter_lines
from ledger.periods import Interval, Month, Period
from ledger.ports import CounterSource, InputSource, PeriodInputs
from ledger.product_lines import LineBook, SharedMeter, line_kpis
from ledger.production import outputs
from ledger.quantities import Quantity, convert, q
from ledger.rollup import ActivityLine, roll_up_counter
from ledger.statements import Activity, Evidence, Line, Statement
from ledger.targets import Target

#: Sub-meters may read this much above their main meter before it is a finding (class 1
#: meters each err by up to 1 %).
SUBMETER_TOLERANCE = Decimal("0.02")
HOUR = timedelta(hours=1)

Activities = Mapping[str, tuple["MeterBook", ActivityLine]]


@dataclass(frozen=True, slots=True)
class MeterBook:
    """A meter as the ledger sees it: carrier, role, place in the tree, and its counters."""

    key: str
    carrier: str
    role: str
    parent: str | None
    counters: Mapping[str, tuple[str, CounterPoint]]  # quantity -> (point key, counter)


@dataclass(frozen=True, slots=True)
class SiteBook:
    """Everything a site's statement is computed from besides the readings and inputs.

    ``freight``, ``gwp`` and ``library`` state manual entries (the freight factor set, the
    GWP set, the sets an entry may name a factor from); ``lines`` and ``shared`` declare
    the production lines for per-line KPIs.
    """

    site: str
    zone: str
    region: str
    meters: tuple[MeterBook, ...]
    electricity: FactorSet
    fuels: FactorSet
    heat: FactorSet
    instruments: tuple[Instrument, ...] = ()
    freight: FactorSet | None = None
    gwp: GwpSet = AR5
    library: Mapping[str, FactorSet] = field(default_factory=dict)
    lines: tuple[LineBook, ...] = ()
    shared: tuple[SharedMeter, ...] = ()
    target: Target | None = None  # the emission target's trajectory, for comparison only

    def entry_factors(self) -> EntryFactors:
        """The factors manual entries of this site are stated with."""
        return EntryFactors(self.region, self.fuels, self.freight, self.gwp, self.library)

    def production_lines(self) -> set[str]:
        """The lines a production figure may be entered for: declared or counted."""
        counted = {m.key for m in self.meters if "production" in m.counters}
        return counted | {line.key for line in self.lines}


async def compute_statement(
    book: SiteBook,
    month: Month,
    source: CounterSource,
    *,
    inputs: InputSource | None = None,
    version: int = 1,
    reason: str | None = None,
    computed_at: datetime | None = None,
    until: datetime | None = None,
) -> Statement:
    """Compute a site's statement for a month, or for the part of it before ``until``.

    ``inputs`` gives the month's manual entries, instruments and entered production;
    without it the statement rests on the meters alone. With ``until`` inside the month
    (month to date) the meters are rolled up to the last whole hour before it instead of
    being extrapolated to the month's end, and a PART_OF_PERIOD finding says so.
    """
    period = Period(book.zone, month)
    metered, part = _metered_span(period.interval, until)
    activities: dict[str, tuple[MeterBook, ActivityLine]] = {}
    for meter in book.meters:
        for point_key, counter in meter.counters.values():
            line = await roll_up_counter(source, counter, metered)
            activities[f"{meter.key}/{point_key}"] = (meter, line)
    given = await inputs.period_inputs(book.site, month) if inputs else PeriodInputs()
    lines, findings, uses = _metered(book, month, period, activities, given)
    findings += part
    entries = [entry_result(e, book.entry_factors(), *_days(month)) for e in given.entries]
    lines += [r.line for r in entries if r.line is not None]
    findings += [f for r in entries for f in r.findings]
    pv, pv_findings = pv_lines(book, activities)
    lines += pv
    findings += pv_findings
    findings += _rollup_findings(activities)
    findings += _submeter_balance(book, activities)
    findings += _unbacked_lines(lines, activities, {r.activity.key for r in entries})
    made, production_findings = outputs(counted_output(activities), given.production)
    statement = Statement(
        site=book.site,
        period=str(month),
        version=version,
        lines=tuple(lines),
        findings=tuple(findings) + production_findings,
        activities=tuple(_activity(key, m, a) for key, (m, a) in sorted(activities.items())),
        reason=reason,
        computed_at=computed_at or datetime.now(UTC),
        entries=tuple(r.activity for r in entries),
        instruments=tuple(uses),
        production=made,
    )
    return _with_kpis(book, activities, statement)


def _metered_span(month: Interval, until: datetime | None) -> tuple[Interval, list[Finding]]:
    """The span the meters are rolled up over: the month, or its whole hours before ``until``.

    Whole hours, because the store's coverage comes from hourly statistics (for a zone on
    the whole UTC hour; +05:30 falls back to the raw readings); at least the first hour, so
    a statement made in a month's first minutes still has a span.
    """
    if until is None or until >= month.end:
        return month, []
    hours = max(1, (until - month.start) // HOUR)
    end = min(month.end, month.start + hours * HOUR)
    detail = f"meters rolled up from {month.start.isoformat()} to {end.isoformat()} only"
    return Interval(month.start, end), [Finding("PART_OF_PERIOD", "period", detail, "close")]


def _with_kpis(book: SiteBook, activities: Activities, statement: Statement) -> Statement:
    """Add the site's and each line's KPIs, the splits behind them, and the final checks."""
    output = sum((o.tonnes for o in statement.production), Decimal(0))
    kpis, kpi_findings = intensities(book, activities, statement, output)
    per_line, allocations, line_findings = line_kpis(
        book.lines,
        book.shared,
        measured(book, activities),
        {o.line: o.tonnes for o in statement.production},
        carbon_per_unit(book, activities, statement),
    )
    extra = (*kpi_findings, *line_findings, *total_covers_metered_scope2(statement))
    return replace(
        statement,
        kpis=kpis + per_line,
        allocations=allocations,
        findings=statement.findings + extra,
    )


def _days(month: Month) -> tuple[date, date]:
    """The month as local dates [first day, first day of the next), as factors are valid."""
    return first_day(month), first_day(month.next())


def _metered(
    book: SiteBook,
    month: Month,
    period: Period,
    activities: Activities,
    given: PeriodInputs,
) -> tuple[list[Line], list[Finding], list[InstrumentUse]]:
    """The main meters' lines, with the month's instruments shared out between meters."""
    findings: list[Finding] = []
    parts: list[Instrument] = list(book.instruments)
    uses: list[InstrumentUse] = []
    for record in given.instruments:
        part, found = month_part(record, month)
        findings += found
        uses.append(use_of(record, part))
        if part is not None:
            parts.append(part)
    nets = [(m.key, _net_import(m, activities)) for m in book.meters if is_grid(m)]
    shares, found = distribute(nets, parts)
    findings += found
    lines: list[Line] = []
    for meter in book.meters:
        if meter.role != "main":
            continue
        made, found = meter_lines(
            book, meter, activities, period, shares.get(meter.key, []), bool(parts)
        )
        lines += made
        findings += found
    return lines, findings, uses


def _net_import(meter: MeterBook, activities: Activities) -> Quantity:
    """Import - export, never below zero (a net export states no negative emissions)."""
    amount = amounts(meter, activities)
    imported = amount["energy_import"]
    net = (
        imported.value
        - convert(amount.get("energy_export", q(0, imported.unit)), imported.unit).value
    )
    return Quantity(max(net, Decimal(0)), imported.unit)


def _activity(key: str, meter: MeterBook, line: ActivityLine) -> Activity:
    trace = line.trace
    start = getattr(trace, "start", None)
    end = getattr(trace, "end", None)
    readings = getattr(trace, "readings", ())
    corrections = getattr(trace, "corrections", ())
    return Activity(
        key=key,
        meter=meter.key,
        point=key.split("/", 1)[1],
        point_id=line.point_id,
        quantity=line.quantity,
        unit=line.unit,
        method=line.method,
        coverage=line.coverage,
        estimated_share=line.estimated_share,
        start_value=start.value if start else None,
        end_value=end.value if end else None,
        evidence=tuple(Evidence(r.ts, Decimal(repr(r.value)), r.quality) for r in readings),
        corrections=tuple(f"{c.kind} at {c.ts.isoformat()}: {c.detail}" for c in corrections),
    )


def _rollup_findings(activities: Activities) -> list[Finding]:
    return [f for _, line in activities.values() for f in line.findings]


def _submeter_balance(book: SiteBook, activities: Activities) -> list[Finding]:
    """Sub-meters against their main meter: the unmetered remainder is a KPI."""
    findings = []
    for main in book.meters:
        children = [m for m in book.meters if m.parent == main.key and m.role == "sub"]
        if not children or "energy_import" not in main.counters:
            continue
        total = _served(book, main, activities)
        parts = sum((_import(c, activities) for c in children), Decimal(0))
        if total <= 0:
            continue
        share = (total - parts) / total
        if parts > total * (1 + SUBMETER_TOLERANCE):
            findings.append(
                Finding(
                    "SUBMETERS_EXCEED_MAIN",
                    main.key,
                    f"sub-meters read {parts}, the main meter {total}",
                    "close",
                )
            )
        else:
            findings.append(
                Finding(
                    "UNMETERED_SHARE",
                    main.key,
                    f"{share:.4%} of {total} is not sub-metered",
                    "close",
                )
            )
    return findings


def _import(meter: MeterBook, activities: Activities) -> Decimal:
    return _counted(meter, "energy_import", activities)


def _counted(meter: MeterBook, quantity: str, activities: Activities) -> Decimal:
    if quantity not in meter.counters:
        return Decimal(0)
    return activities[f"{meter.key}/{meter.counters[quantity][0]}"][1].quantity


def _served(book: SiteBook, main: MeterBook, activities: Activities) -> Decimal:
    """What the loads behind a main meter drew: import - export + the PV behind it.

    PV behind the main meter feeds its sub-meters' loads without passing it, so the
    sub-meters are held against the load, not against the grid import alone. A
    generation meter is behind ``main`` when it names it as parent, or names none and
    ``main`` is the site's only electricity main meter.
    """
    mains = [m for m in book.meters if m.role == "main" and m.carrier == main.carrier]
    behind = [
        m
        for m in book.meters
        if m.role == "generation"
        and (m.parent == main.key or (m.parent is None and mains == [main]))
    ]
    served = _import(main, activities) - _counted(main, "energy_export", activities)
    return served + sum((_counted(m, "energy_generation", activities) for m in behind), Decimal(0))


def _unbacked_lines(
    lines: Sequence[Line], activities: Activities, entries: set[str]
) -> list[Finding]:
    return [
        Finding(
            "LINE_WITHOUT_ACTIVITY", line.key, "a line with a result has no activity data", "close"
        )
        for line in lines
        if line.tco2e and not any(k in activities or k in entries for k in line.activity_keys)
    ]


BLOCKING = ROLLUP_BLOCKING | {
    "LINE_WITHOUT_ACTIVITY",
    "ENTRY_REFUSED",
    "TOTAL_BELOW_METERED_SCOPE2",
}
