"""Intensity KPIs of a period: energy, gas, steam and carbon per tonne of output.

Output is the sum of the lines' outputs (`ledger.production`: a production counter,
quantity ``production``, or an entered figure, which wins); numerators come from the same
activities the statement states, so a KPI and the statement can never disagree. Each KPI
keeps its numerator and denominator, and a check confirms KPI x output = total, the check
seed 000 fails (a per-pole figure printed as the total).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING

from ledger.findings import Finding
from ledger.statements import Kpi, Statement

if TYPE_CHECKING:
    from ledger.close import MeterBook, SiteBook
    from ledger.rollup import ActivityLine

Activities = Mapping[str, tuple["MeterBook", "ActivityLine"]]
TOLERANCE = Decimal("1e-20")  # relative: what 28 significant digits of division leave


def intensities(
    book: SiteBook, activities: Activities, statement: Statement, output: Decimal
) -> tuple[tuple[Kpi, ...], tuple[Finding, ...]]:
    """The site's KPIs for the period over ``output`` tonnes, and findings about them."""
    if output <= 0:
        return (), (
            Finding(
                "NO_PRODUCTION",
                book.site,
                "no production output recorded: no intensity KPIs",
                "intensity",
            ),
        )
    electricity = (
        _sum(activities, "energy_import", lambda m: m.carrier == "electricity" and m.role == "main")
        - _sum(
            activities, "energy_export", lambda m: m.carrier == "electricity" and m.role == "main"
        )
        + _sum(activities, "energy_generation", lambda m: m.role == "generation")
    )
    numerators = {
        ("electricity per output", "kWh/t"): electricity,
        ("natural gas per output", "Nm3/t"): _sum(
            activities, "volume", lambda m: m.carrier == "natural_gas" and m.role == "main"
        ),
        ("steam per output", "t/t"): _sum(activities, "mass", lambda m: m.carrier == "steam"),
        ("carbon per output, location-based", "tCO2e/t"): statement.total("location"),
        ("carbon per output, market-based", "tCO2e/t"): statement.total("market"),
    }
    kpis = []
    findings: list[Finding] = []
    for (name, unit), numerator in numerators.items():
        kpi, found = ratio(name, unit, numerator, output)
        kpis.append(kpi)
        findings += found
    return tuple(kpis), tuple(findings)


def ratio(
    name: str, unit: str, numerator: Decimal, output: Decimal
) -> tuple[Kpi, tuple[Finding, ...]]:
    """One KPI, checked so that KPI x output gives the numerator back (seed 000's error)."""
    with localcontext() as context:
        context.prec = 28
        kpi = Kpi(name, numerator / output, unit, numerator, output)
        back = kpi.value * output
    if numerator and abs(back - numerator) > abs(numerator) * TOLERANCE:
        detail = f"{kpi.value} x {output} = {back}, not {numerator}"
        return kpi, (Finding("INTENSITY_INCONSISTENT", name, detail, "intensity"),)
    return kpi, ()


def _sum(activities: Activities, quantity: str, wanted: Callable[[MeterBook], bool]) -> Decimal:
    """The period's total of one quantity over the meters ``wanted`` accepts."""
    total = Decimal(0)
    for meter, line in activities.values():
        counter = meter.counters.get(quantity)
        if counter is not None and line.point_id == counter[1].point_id and wanted(meter):
            total += line.quantity
    return total
