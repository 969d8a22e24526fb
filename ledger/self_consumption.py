"""On-site PV in the statement: a memo line, so self-consumed kWh is seen and counted once.

Self-consumed PV never passes the grid meter, so it is already absent from the import that
scope 2 is computed from; it has no emissions and no "reduction" line (that would count
the same kWh twice, BRIEF). What the statement does show is the balance: generation,
export and self-consumption = generation - export, as a ``memo`` line with zero tCO2e that
no total adds up. Export above generation cannot be PV alone (another source exports, or
a meter is wrong): a finding, with the self-consumption taken as zero.
"""

from __future__ import annotations

from decimal import Decimal

from ledger.findings import Finding
from ledger.quantities import Quantity, subtract
from ledger.statements import Line

KEY = "memo/pv-self-consumption"


def pv_line(
    generation: Quantity, export: Quantity, meters: tuple[str, ...], keys: tuple[str, ...]
) -> tuple[Line, tuple[Finding, ...]]:
    """The PV balance of the month: self-consumed = generation - export, zero tCO2e."""
    own = subtract(generation, export)
    findings: tuple[Finding, ...] = ()
    if own.value < 0:
        detail = f"export {export} exceeds PV generation {generation}; self-consumption taken as 0"
        findings = (Finding("PV_EXPORT_EXCEEDS_GENERATION", KEY, detail, "pv"),)
        own = Quantity(Decimal(0), own.unit)
    formula = (
        f"self-consumed = generation - export = {generation} - {export} = {own}; "
        "not purchased, so already outside the grid import of scope 2: no emissions, "
        "no reduction"
    )
    line = Line(
        key=KEY,
        scope="none",
        category="on-site PV self-consumption",
        carrier="electricity",
        meter=", ".join(meters),
        activity=own.value,
        activity_unit=own.unit,
        factor_id="",
        factor_version="",
        tco2e=Decimal(0),
        formula=formula,
        basis="memo",
        activity_keys=keys,
    )
    return line, findings
