"""An emission target's trajectory: a linear absolute contraction, spread by days."""

from decimal import Decimal

from ledger.periods import Month
from ledger.targets import Target

SBTI = Target(2025, Decimal(10_000), Decimal("0.042"))


def test_each_year_cuts_the_same_share_of_the_base() -> None:
    assert SBTI.year(2025) == 10_000
    assert SBTI.year(2026) == 9_580
    assert SBTI.year(2030) == 7_900
    assert SBTI.year(2024) == 10_000  # before the base year: the base


def test_the_allowance_never_goes_below_zero() -> None:
    assert SBTI.year(2050) == 0


def test_months_share_their_year_by_days_and_add_up_to_it() -> None:
    months = [SBTI.month(Month(2028, m)) for m in range(1, 13)]
    assert SBTI.month(Month(2028, 2)) == SBTI.year(2028) * 29 / 366  # a leap year
    assert abs(sum(months) - SBTI.year(2028)) < Decimal("1e-20")
