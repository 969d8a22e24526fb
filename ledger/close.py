"""Close a period: roll up every metered carrier, apply cited factors, check, and state.

This is the one computation behind a month's statement, the month-to-date view and an
auditor's recomputation: it reads only through the roll-up ports and the factor sets it is
given, so the same code runs on the live store or on an export bundle. Which meters carry
emissions follows the GHG Protocol and the brief:

- electricity, main meters: scope 2 from net import (import - export), location-based
  with the grid factor and market-based with contractual instruments first, the rest at
  the grid factor (no residual mix is published for China; a finding says so);
- natural gas, main meters: scope 1 from Nm³ with NCV, carbon content and oxidation;
- steam and heat bought in, main meters with a GJ counter: scope 2 at the heat factor;
- sub-meters, generation (PV), water: no emission lines (they would count twice, or have
  none); sub-meters are checked against their main meter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from ledger.consumption import BLOCKING as ROLLUP_BLOCKING
from ledger.counters import CounterPoint
from ledger.emissions import (
    Emission,
    Instrument,
    electricity_location,
    electricity_market,
    fuel_combustion,
)
from ledger.emissions import emission as single_factor
from ledger.factors import Factor, FactorSet
from ledger.findings import Finding
from ledger.intensity import intensities
from ledger.periods import Month, Period
from ledger.ports import CounterSource
from ledger.quantities import Quantity, q
from ledger.rollup import ActivityLine, roll_up_counter
from ledger.statements import Activity, Evidence, Line, Statement

#: Sub-meters may read this much above their main meter before it is a finding (class 1
#: meters each err by up to 1 %).
SUBMETER_TOLERANCE = Decimal("0.02")


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
    """Everything a site's statement is computed from besides the readings."""

    site: str
    zone: str
    region: str
    meters: tuple[MeterBook, ...]
    electricity: FactorSet
    fuels: FactorSet
    heat: FactorSet
    instruments: tuple[Instrument, ...] = ()


async def compute_statement(
    book: SiteBook,
    month: Month,
    source: CounterSource,
    *,
    version: int = 1,
    reason: str | None = None,
    computed_at: datetime | None = None,
) -> Statement:
    """Compute a site's statement for a month (or the part of it that has passed)."""
    period = Period(book.zone, month)
    activities: dict[str, tuple[MeterBook, ActivityLine]] = {}
    for meter in book.meters:
        for point_key, counter in meter.counters.values():
            line = await roll_up_counter(source, counter, period.interval)
            activities[f"{meter.key}/{point_key}"] = (meter, line)
    lines: list[Line] = []
    findings: list[Finding] = []
    for meter in book.meters:
        if meter.role != "main":
            continue
        made, found = _lines_for(book, meter, activities, period)
        lines += made
        findings += found
    findings += _rollup_findings(activities)
    findings += _submeter_balance(book, activities)
    findings += _unbacked_lines(lines, activities)
    statement = Statement(
        site=book.site,
        period=str(month),
        version=version,
        lines=tuple(lines),
        findings=tuple(findings),
        activities=tuple(_activity(key, m, a) for key, (m, a) in sorted(activities.items())),
        reason=reason,
        computed_at=computed_at or datetime.now(UTC),
    )
    kpis, kpi_findings = intensities(book, activities, statement)
    return replace(statement, kpis=kpis, findings=statement.findings + kpi_findings)


def _lines_for(
    book: SiteBook,
    meter: MeterBook,
    activities: Mapping[str, tuple[MeterBook, ActivityLine]],
    period: Period,
) -> tuple[list[Line], list[Finding]]:
    # Factors are valid for calendar periods in local dates.
    local_start, local_end = _first_day(period.month), _first_day(period.month.next())
    amount = _amounts(meter, activities)
    if meter.carrier == "electricity" and "energy_import" in amount:
        imported = amount["energy_import"]
        exported = amount.get("energy_export", q(0, imported.unit))
        selected = book.electricity.select("electricity_grid", book.region, local_start, local_end)
        location = electricity_location(imported, exported, selected.factor)
        net = location.activity
        market = electricity_market(net, book.instruments, selected.factor, local_start, local_end)
        keys = _keys(meter, amount, ("energy_import", "energy_export"))
        found = [*selected.findings, *location.findings, *market.findings]
        if not book.instruments:
            found.append(
                Finding(
                    "MARKET_BASED_FALLBACK",
                    meter.key,
                    "no contractual instruments and no residual mix recorded: "
                    "the market-based view uses the grid factor",
                    "close",
                )
            )
        made = [
            _line(
                f"scope2/electricity/location/{meter.key}",
                "2",
                "purchased electricity",
                meter,
                location,
                selected.factor,
                "location",
                keys,
            )
        ]
        made += [
            _line(
                f"scope2/electricity/market/{meter.key}/{i}",
                "2",
                "purchased electricity",
                meter,
                part,
                None,
                "market",
                keys,
            )
            for i, part in enumerate(market.lines)
        ]
        return made, found
    if meter.carrier == "natural_gas" and "volume" in amount:
        params = [
            book.fuels.select("natural_gas", book.region, local_start, local_end, kind=kind)
            for kind in ("NCV", "CC", "OF")
        ]
        result = fuel_combustion(amount["volume"], *(p.factor for p in params))
        found = [f for p in params for f in p.findings]
        key = f"scope1/stationary-combustion/natural_gas/{meter.key}"
        return [
            _line(
                key,
                "1",
                "stationary combustion",
                meter,
                result,
                params[0].factor,
                "direct",
                _keys(meter, amount, ("volume",)),
            )
        ], found
    if meter.carrier in ("steam", "heat") and "heat" in amount:
        selected = book.heat.select("purchased_heat", book.region, local_start, local_end)
        result = single_factor(amount["heat"], selected.factor)
        key = f"scope2/purchased-heat/{meter.carrier}/{meter.key}"
        return [
            _line(
                key,
                "2",
                f"purchased {meter.carrier}",
                meter,
                result,
                selected.factor,
                "location",
                _keys(meter, amount, ("heat",)),
            ),
            _line(
                key.replace("scope2/", "scope2/market/"),
                "2",
                f"purchased {meter.carrier}",
                meter,
                result,
                selected.factor,
                "market",
                _keys(meter, amount, ("heat",)),
            ),
        ], list(selected.findings)
    if meter.carrier == "steam":
        return [], [
            Finding(
                "STEAM_WITHOUT_HEAT",
                meter.key,
                "purchased steam needs a heat counter (GJ) to be stated",
                "close",
            )
        ]
    return [], []


def _first_day(month: Month) -> date:
    return date(month.year, month.month, 1)


def _amounts(
    meter: MeterBook, activities: Mapping[str, tuple[MeterBook, ActivityLine]]
) -> dict[str, Quantity]:
    out = {}
    for quantity, (point_key, _) in meter.counters.items():
        line = activities[f"{meter.key}/{point_key}"][1]
        out[quantity] = q(line.quantity, line.unit)
    return out


def _keys(
    meter: MeterBook, amount: Mapping[str, Quantity], wanted: Sequence[str]
) -> tuple[str, ...]:
    return tuple(f"{meter.key}/{meter.counters[w][0]}" for w in wanted if w in amount)


def _line(
    key: str,
    scope: str,
    category: str,
    meter: MeterBook,
    result: Emission,
    factor: Factor | None,
    basis: str,
    activity_keys: tuple[str, ...],
) -> Line:
    used = result.factors[0]
    return Line(
        key=key,
        scope=scope,
        category=category,
        carrier=meter.carrier,
        meter=meter.key,
        activity=result.activity.value,
        activity_unit=result.activity.unit,
        factor_id=factor.ref if factor else used.ref,
        factor_version=factor.set_version if factor else "",
        tco2e=result.tco2e,
        formula=result.formula,
        basis=basis,
        activity_keys=activity_keys,
    )


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


def _rollup_findings(activities: Mapping[str, tuple[MeterBook, ActivityLine]]) -> list[Finding]:
    return [f for _, line in activities.values() for f in line.findings]


def _submeter_balance(
    book: SiteBook, activities: Mapping[str, tuple[MeterBook, ActivityLine]]
) -> list[Finding]:
    """Sub-meters against their main meter: the unmetered remainder is a KPI."""
    findings = []
    for main in book.meters:
        children = [m for m in book.meters if m.parent == main.key and m.role == "sub"]
        if not children or "energy_import" not in main.counters:
            continue
        total = _import(main, activities)
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


def _import(meter: MeterBook, activities: Mapping[str, tuple[MeterBook, ActivityLine]]) -> Decimal:
    if "energy_import" not in meter.counters:
        return Decimal(0)
    return activities[f"{meter.key}/{meter.counters['energy_import'][0]}"][1].quantity


def _unbacked_lines(
    lines: Sequence[Line], activities: Mapping[str, tuple[MeterBook, ActivityLine]]
) -> list[Finding]:
    return [
        Finding(
            "LINE_WITHOUT_ACTIVITY", line.key, "a line with a result has no activity data", "close"
        )
        for line in lines
        if line.tco2e and not any(k in activities for k in line.activity_keys)
    ]


BLOCKING = ROLLUP_BLOCKING | {"LINE_WITHOUT_ACTIVITY"}
