"""The worked cases of BRIEF.md, computed at full precision with Decimal.

Each test recomputes a figure the seed reports got wrong or could have got wrong, compares
at full precision, and rounds only where a report would display the figure.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest

from ledger.emissions import emission, fuel_combustion, gas_co2e, saving, total_tco2e
from ledger.factors import Factor
from ledger.factorsets import shipped
from ledger.findings import allocate, display, display_table, parts_sum_to_total
from ledger.gwp import AR5
from ledger.quantities import Quantity, Rate, add, convert, product, q, rate
from meterledger.errors import UnitError

D = Decimal


def _parameter(kind: str, value: str, numerator: str, denominator: str) -> Factor:
    """A parameter as the worked case states it, not from a shipped set."""
    return Factor(
        id=f"worked-{kind}", kind=kind, carrier="diesel", region="CN", gas="",
        rate=rate(value, numerator, denominator), data_year=None, valid_from=None,
        valid_to=None, publisher="BRIEF.md worked case", document="BRIEF.md", url="",
        superseded_by="", notes="", set_name="brief", set_version="1",
    )  # fmt: skip


def _grid(value: str) -> Factor:
    return Factor(
        id=f"grid-{value}", kind="factor", carrier="electricity_grid", region="CN", gas="CO2",
        rate=rate(value, "tCO2/MWh"), data_year=None, valid_from=None, valid_to=None,
        publisher="BRIEF.md worked case", document="BRIEF.md", url="", superseded_by="",
        notes="", set_name="brief", set_version="1",
    )  # fmt: skip


def _per_day(amount: Quantity) -> Rate:
    return rate(amount.value, amount.unit, "day")


def test_grid_electricity_of_a_year_is_127_000107_tco2() -> None:
    factor = shipped()["cn-mee-grid"].get("cn-grid-2022")
    result = emission(q(222690, "kWh"), factor)
    assert result.tco2e == D("127.000107")
    assert result.mass == q("127.000107", "tCO2")
    assert "222690 kWh × 0.5703 tCO2/MWh = 127.000107 tCO2" in result.formula
    assert result.factors[0].ref == "cn-mee-grid@1/cn-grid-2022"


def test_per_pole_figure_is_computed_from_the_unrounded_total() -> None:
    per_pole = emission(q(222690, "kWh"), _grid("0.5703")).tco2e / 17260
    assert per_pole.quantize(D("1E-10")) == D("0.0073580595")
    assert display(per_pole, 6) == "0.007358"
    assert display(per_pole, 6) != "0.018391"  # what seed 000 printed per pole


def test_stage_sum_fails_on_the_printed_total() -> None:
    stages = [D("0.666449"), D("0.018391"), D("0.009565"), D(0), D(0), D(0)]
    assert sum(stages) == D("0.694405")
    assert parts_sum_to_total(stages, D("0.694405")) == []
    (finding,) = parts_sum_to_total(stages, D("0.694447"), subject="seed 000 table 2-11")
    assert finding.code == "PARTS_DO_NOT_SUM"
    assert "0.694405" in finding.detail
    assert "0.000042" in finding.detail


def test_monthly_counter_readings_roll_up_to_222690_kwh_and_127_000107_tco2() -> None:
    # The roll-up itself (interpolation, wraps, replacements) is ledger.rollup's; here the
    # month-end registers are differenced by hand to check the emission arithmetic.
    registers = [
        "10000.00", "10462.50", "10892.50", "11390.00", "11860.00", "12312.50", "12752.50",
        "13237.50", "13745.00", "14212.50", "14662.50", "15110.00", "15567.25",
    ]  # fmt: skip
    ct_ratio = 40
    months = [(D(b) - D(a)) * ct_ratio for a, b in pairwise(registers)]
    assert months == [D(v) for v in (18500, 17200, 19900, 18800, 18100, 17600, 19400,
                                      20300, 18700, 18000, 17900, 18290)]  # fmt: skip
    assert sum(months) == 222690
    grid = _grid("0.5703")
    monthly = [emission(q(kwh, "kWh"), grid) for kwh in months]
    assert total_tco2e(monthly) == D("127.000107")
    assert total_tco2e(monthly) == emission(q(sum(months), "kWh"), grid).tco2e


def test_diesel_from_parameters_is_1_258049_tco2() -> None:
    result = fuel_combustion(
        q("0.4", "t"),
        _parameter("NCV", "43.33", "GJ", "t"),
        _parameter("CC", "0.0202", "tC", "GJ"),
        _parameter("OF", "0.98", "", ""),
    )
    assert result.tco2e.quantize(D("1E-6")) == D("1.258049")
    exact = D("0.4") * D("43.33") * D("0.0202") * D("0.98") * 44 / 12
    assert abs(result.tco2e - exact) < D("1E-25")
    assert "= 0.07258533" in result.formula
    ef = D("0.0202") * D("0.98") * 44 / 12
    assert ef.quantize(D("1E-7")) == D("0.0725853")


def test_allocation_by_units_conserves_the_total() -> None:
    shares = allocate(D(42033), [D(406), D(203)])
    assert shares == [D(28022), D(14011)]
    assert sum(shares) == D(42033)


def test_road_freight_is_4703_985_kgco2e_and_km_alone_is_rejected() -> None:
    factor = shipped()["cn-cpcd-freight"].get("cn-road-freight-18t")
    tonne_km = product(q(65, "t"), q(561, "km"))
    assert tonne_km == q(36465, "t·km")
    result = emission(tonne_km, factor)
    assert result.mass == q("4703.985", "kgCO2e")
    assert result.tco2e == D("4.703985")
    with pytest.raises(UnitError) as error:
        emission(q(561, "km"), factor)
    assert str(error.value) == (
        "km × kgCO2e/(t·km): activity is [length] but the factor wants [mass·length]"
    )


def test_three_gases_at_ar5_are_1_810_tco2e() -> None:
    lines = [
        gas_co2e("CO2", q("1.000", "tCO2"), AR5),
        gas_co2e("CH4", q("0.010", "tCH4"), AR5),
        gas_co2e("N2O", q("0.002", "tN2O"), AR5),
    ]
    assert [line.tco2e for line in lines] == [D("1.000"), D("0.280"), D("0.530")]
    assert total_tco2e(lines) == D("1.810")
    assert lines[1].gwp == "AR5"


def test_dairy_cip_saving_over_a_year() -> None:
    days = q(365, "day")
    water = saving(rate("15.25", "t/day"), rate("2.34", "t/day"), days)
    assert water == q("4712.15", "t")
    before = add(q(1602, "kWh"), q(726, "kWh"))
    after = add(q(1199, "kWh"), q(586, "kWh"))
    electricity = saving(_per_day(before), _per_day(after), days)
    assert electricity == q(198195, "kWh")
    money = electricity.value * D("0.67")  # CNY per kWh: a label, not a unit
    assert money == D("132790.65")
    co2 = emission(electricity, _grid("0.5810"))
    assert co2.tco2e == D("115.151295")
    assert display(co2.tco2e, 3) == "115.151"
    assert convert(water, "kg") == q(4712150, "kg")


def test_dairy_seed_kw_figure_cannot_be_added_to_kwh() -> None:
    # Seed 004 writes the acid/alkali circulation as "1602KW" beside "726度" (kWh).
    with pytest.raises(UnitError, match=r"kWh \+ kW: \[power\] cannot be added to \[energy\]"):
        add(q(726, "kWh"), q(1602, "kW"))
    with pytest.raises(UnitError, match=r"kWh → kW: \[energy\] is not \[power\]"):
        saving(rate(1602, "kW", "day"), rate(1199, "kWh", "day"), q(365, "day"))


def test_rounded_stage_table_says_when_parts_do_not_add_up() -> None:
    table = display_table([D("0.3333"), D("0.3333"), D("0.3334")], 2)
    assert table.parts == ("0.33", "0.33", "0.33")
    assert table.total == "1.00"
    assert [f.code for f in table.findings] == ["ROUNDED_PARTS_DIFFER"]
