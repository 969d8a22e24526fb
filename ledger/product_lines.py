"""Per-line intensity KPIs, with shared meters split between lines by a declared key.

The plant file says which meters serve one production line alone and which meters several
lines share, with the key that splits them: the lines' output that month, or fixed
shares. A shared meter's amount is split with ``allocate``, so the lines' parts add up to
the meter exactly (42,033 kWh over 406 + 203 units gives 28,022 and 14,011 kWh), and each
split is recorded in the statement with its keys.

A line's KPIs are kWh/t (electricity, net of export), Nm³/t (natural gas), t steam/t
(steam mass) and tCO2e/t on both scope-2 bases. A line's tCO2e is its metered amounts at
the site's average tCO2e per kWh of electricity used (purchased and self-consumed PV
together, since a sub-meter cannot tell them apart), per Nm³ of gas burnt and per tonne of
purchased steam; steam from an own boiler carries no tCO2e of its own (its gas does, where
the boiler's gas meter is given to the lines).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ledger.findings import Finding, allocate, parts_sum_to_total
from ledger.intensity import ratio
from ledger.statements import Kpi

#: What a line's KPIs measure: name, KPI unit, and the unit of the metered amount.
MEASURES: Mapping[str, tuple[str, str, str]] = {
    "electricity": ("electricity per output", "kWh/t", "kWh"),
    "natural_gas": ("natural gas per output", "Nm3/t", "Nm3"),
    "steam": ("steam per output", "t/t", "t"),
}
BASES = ("location", "market")


@dataclass(frozen=True, slots=True)
class LineBook:
    """A production line and the meters that serve it alone."""

    key: str
    meters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SharedMeter:
    """A meter several lines share, split by their output or by fixed weights."""

    meter: str
    lines: tuple[str, ...]
    weights: Mapping[str, Decimal] | None = None  # None: by each line's output


@dataclass(frozen=True, slots=True)
class Allocation:
    """One shared meter's amount of one measure split between lines, as the statement
    records it: the keys and the parts, which add up to the total exactly."""

    key: str  # "ws-utilities/electricity"
    meter: str
    measure: str
    unit: str
    total: Decimal
    basis: str  # "output" or "fixed"
    lines: tuple[str, ...]
    weights: tuple[Decimal, ...]
    shares: tuple[Decimal, ...]


@dataclass(frozen=True, slots=True)
class Metered:
    """What a meter measured in the month, by measure (``electricity`` in kWh …)."""

    measure: str
    amount: Decimal
    role: str


def line_kpis(
    lines: Sequence[LineBook],
    shared: Sequence[SharedMeter],
    metered: Mapping[str, Metered],
    outputs: Mapping[str, Decimal],
    carbon: Mapping[tuple[str, str], Decimal],
) -> tuple[tuple[Kpi, ...], tuple[Allocation, ...], tuple[Finding, ...]]:
    """Each line's KPIs, the allocations behind them, and findings.

    ``carbon`` maps (measure, basis) to the site's average tCO2e per unit of the measure.
    """
    amounts: dict[str, dict[str, Decimal]] = {line.key: {} for line in lines}
    findings: list[Finding] = []
    for line in lines:
        for meter in line.meters:
            if meter in metered:
                _add(amounts[line.key], metered[meter].measure, metered[meter].amount)
    allocations = []
    for item in shared:
        if item.meter not in metered:
            continue
        made, found = _split(item, metered[item.meter], outputs)
        findings += found
        if made is not None:
            allocations.append(made)
            for name, share in zip(made.lines, made.shares, strict=True):
                _add(amounts.setdefault(name, {}), made.measure, share)
    kpis: list[Kpi] = []
    for name in sorted(amounts):
        made_kpis, found = _kpis(name, amounts[name], outputs.get(name, Decimal(0)), carbon)
        kpis += made_kpis
        findings += found
    return tuple(kpis), tuple(allocations), tuple(findings)


def _add(into: dict[str, Decimal], measure: str, amount: Decimal) -> None:
    into[measure] = into.get(measure, Decimal(0)) + amount


def _split(
    item: SharedMeter, metered: Metered, outputs: Mapping[str, Decimal]
) -> tuple[Allocation | None, list[Finding]]:
    basis = "output" if item.weights is None else "fixed"
    weights = tuple(
        outputs.get(line, Decimal(0)) if item.weights is None else item.weights[line]
        for line in item.lines
    )
    try:
        shares = tuple(allocate(metered.amount, weights))
    except ValueError as exc:
        detail = f"{metered.amount} {MEASURES[metered.measure][2]} by {basis}: {exc}"
        return None, [Finding("ALLOCATION_IMPOSSIBLE", item.meter, detail, "allocation")]
    subject = f"{item.meter}/{metered.measure}"
    found = parts_sum_to_total(list(shares), metered.amount, subject=subject)
    made = Allocation(
        subject,
        item.meter,
        metered.measure,
        MEASURES[metered.measure][2],
        metered.amount,
        basis,
        item.lines,
        weights,
        shares,
    )
    return made, found


def _kpis(
    line: str,
    amounts: Mapping[str, Decimal],
    output: Decimal,
    carbon: Mapping[tuple[str, str], Decimal],
) -> tuple[list[Kpi], list[Finding]]:
    if output <= 0:
        detail = "no output this month: no per-line KPIs"
        return [], [Finding("LINE_WITHOUT_OUTPUT", line, detail, "intensity")]
    numerators = {
        (f"{line}: {MEASURES[m][0]}", MEASURES[m][1]): amounts[m] for m in MEASURES if m in amounts
    }
    for basis in BASES:
        tco2e = sum(
            (amount * carbon.get((m, basis), Decimal(0)) for m, amount in amounts.items()),
            Decimal(0),
        )
        numerators[(f"{line}: carbon per output, {basis}-based", "tCO2e/t")] = tco2e
    kpis: list[Kpi] = []
    findings: list[Finding] = []
    for (name, unit), numerator in numerators.items():
        kpi, found = ratio(name, unit, numerator, output)
        kpis.append(kpi)
        findings += found
    return kpis, findings
