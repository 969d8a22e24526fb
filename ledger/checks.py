"""Consistency checks on a whole statement, run before anything is issued (BRIEF rule 4).

They read only the statement, so an auditor's ``verify`` can run them on an export.
"""

from __future__ import annotations

from decimal import Decimal

from ledger.findings import Finding
from ledger.statements import Statement


def total_covers_metered_scope2(statement: Statement) -> list[Finding]:
    """A finding for each basis whose total is below the scope 2 the meters alone state.

    Every other line adds to the total, so a total below the metered scope 2 means a line
    took something away (a negative entry, an edited export): never a valid statement.
    """
    findings = []
    for basis in ("location", "market"):
        metered = sum(
            (
                line.tco2e
                for line in statement.lines
                if line.scope == "2" and line.meter is not None and line.basis == basis
            ),
            Decimal(0),
        )
        total = statement.total(basis)
        if total < metered:
            detail = f"{basis}-based total {total} tCO2e is below the metered scope 2 {metered}"
            findings.append(Finding("TOTAL_BELOW_METERED_SCOPE2", statement.site, detail, "checks"))
    return findings
