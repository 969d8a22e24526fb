"""Full precision until display; allocation and rounding that keep totals whole."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.findings import allocate, display, display_table, parts_sum_to_total

D = Decimal


def test_display_rounds_half_up_only_for_display() -> None:
    assert display(D("0.0073580595"), 6) == "0.007358"
    assert display(D("2.5"), 0) == "3"
    assert display(D("0.1234500"), 4) == "0.1235"
    assert display(D("127.000107"), 2) == "127.00"


def test_display_table_total_is_the_rounded_exact_sum() -> None:
    table = display_table([D("0.666449"), D("0.018391"), D("0.009565")], 3)
    assert table.parts == ("0.666", "0.018", "0.010")
    assert table.total == "0.694"
    assert table.findings == ()


def test_parts_sum_to_total_is_exact() -> None:
    assert parts_sum_to_total([D("0.1"), D("0.2")], D("0.3")) == []
    assert parts_sum_to_total([], D(0)) == []
    (finding,) = parts_sum_to_total([D("0.1"), D("0.2")], D("0.30000001"))
    assert finding.detail.endswith("(difference 1E-8)")


def test_allocation_hands_leftover_units_to_largest_remainders() -> None:
    assert allocate(D(100), [D(1), D(1), D(1)]) == [D(34), D(33), D(33)]
    assert allocate(D("100.00"), [D(1), D(1), D(1)]) == [D("33.34"), D("33.33"), D("33.33")]
    assert allocate(D(10), [D(1), D(2), D(7)], places=1) == [D(1), D(2), D(7)]
    shares = allocate(D("42033.7"), [D(406), D(203), D(0)])
    assert sum(shares) == D("42033.7")
    assert shares[2] == 0


@pytest.mark.parametrize(
    ("amount", "keys"),
    [(D(-1), [D(1)]), (D(1), [D(-1), D(2)]), (D(1), [D(0)]), (D(1), [])],
)
def test_allocation_refuses_bad_keys(amount: Decimal, keys: list[Decimal]) -> None:
    with pytest.raises(ValueError, match="cannot allocate"):
        allocate(amount, keys)


def test_allocation_refuses_amounts_finer_than_the_places() -> None:
    with pytest.raises(ValueError, match="not a whole number"):
        allocate(D("1.5"), [D(1)], places=0)
