"""Findings: what a consistency check reports, as values rather than exceptions.

A check never raises on bad data; it returns ``Finding``s so a period can list every
problem at once and an auditor can read them beside the numbers. Closing a period with
blocking findings is where an error is raised, not here.

The Decimal arithmetic that must keep totals whole lives here too, because the seeds keep
breaking it and its checks produce nothing but findings: parts that must add up to a
printed total, rounded figures whose rounded parts no longer add up (BRIEF rules 2 and 4),
and allocation by keys that conserves the total exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a check found: a stable ``code``, what it is about, the detail, and where.

    ``subject`` names the thing (a line, a factor id, a stage), ``source`` the check or
    document that produced it, so the same code can be counted across periods.
    """

    code: str
    subject: str
    detail: str
    source: str


def parts_sum_to_total(
    parts: Sequence[Decimal], total: Decimal, *, subject: str = "total"
) -> list[Finding]:
    """Return a finding when the parts do not add up exactly to the stated total.

    Exact means exact: the comparison is between Decimals at full precision, so a printed
    total that was typed rather than summed (seed 000's 0.694447 for parts adding to
    0.694405) is caught however small the gap.
    """
    computed = sum(parts, Decimal(0))
    if computed == total:
        return []
    return [
        Finding(
            code="PARTS_DO_NOT_SUM",
            subject=subject,
            detail=f"parts add up to {computed}, stated total is {total} "
            f"(difference {total - computed})",
            source="parts_sum_to_total",
        )
    ]


def display(value: Decimal, places: int) -> str:
    """Format a value rounded half-up to ``places`` decimals, for display only.

    Half-up (四舍五入) is what the Chinese reports and verifiers use; the ledger itself keeps
    the unrounded value, and shares are always computed from unrounded values.
    """
    quantum = Decimal(1).scaleb(-places)
    return str(value.quantize(quantum, rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class RoundedTable:
    """Rounded parts and total, ready to print, and what the reader must be told."""

    parts: tuple[str, ...]
    total: str
    findings: tuple[Finding, ...]


def display_table(parts: Sequence[Decimal], places: int, *, subject: str = "table") -> RoundedTable:
    """Round parts and their exact total for display, and say when they stop adding up.

    The total is the rounded exact sum, never the sum of rounded parts; when the two differ
    the table carries a ``ROUNDED_PARTS_DIFFER`` finding so the report can footnote it.
    """
    exact = sum(parts, Decimal(0))
    shown = tuple(display(part, places) for part in parts)
    total = display(exact, places)
    rounded_sum = sum((Decimal(text) for text in shown), Decimal(0))
    findings: tuple[Finding, ...] = ()
    if rounded_sum != Decimal(total):
        findings = (
            Finding(
                code="ROUNDED_PARTS_DIFFER",
                subject=subject,
                detail=f"rounded parts add up to {rounded_sum}, the rounded total is "
                f"{total}; the total is computed from unrounded values",
                source="display_table",
            ),
        )
    return RoundedTable(parts=shown, total=total, findings=findings)


def allocate(amount: Decimal, keys: Iterable[Decimal], places: int | None = None) -> list[Decimal]:
    """Split an amount in proportion to keys so the shares add up to it exactly.

    Shares are rounded to ``places`` decimals (default: as many as ``amount`` has) by the
    largest-remainder method: every share is rounded down, then the units left over go to
    the largest remainders, earlier keys first on a tie. Keys must be non-negative with a
    positive sum.
    """
    weights = [Decimal(key) for key in keys]
    if (
        not amount.is_finite()
        or amount < 0
        or any(weight < 0 for weight in weights)
        or sum(weights, Decimal(0)) <= 0
    ):
        raise ValueError(
            f"cannot allocate {amount} by keys {weights}: need non-negative "
            "amount and keys, and keys with a positive sum"
        )
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked above
    unit = Decimal(1).scaleb(-places if places is not None else min(exponent, 0))
    units = amount / unit
    if units != units.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of {unit}")
    weight_sum = sum(weights, Decimal(0))
    exact = [units * weight / weight_sum for weight in weights]
    floors = [int(share) for share in exact]
    leftover = int(units) - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in order[:leftover]:
        floors[index] += 1
    return [Decimal(share) * unit for share in floors]
