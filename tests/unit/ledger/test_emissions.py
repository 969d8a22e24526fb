"""Emission formulas: results are Decimal, carry their lineage, and refuse bad units."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from ledger.emissions import (
    Emission,
    Instrument,
    electricity_location,
    electricity_market,
    emission,
    fuel_combustion,
    fuel_factor,
    gas_co2e,
    multi_gas,
    purchased_steam,
    site_consumption,
    steam_heat,
    total_tco2e,
)
from ledger.factors import Factor
from ledger.factorsets import shipped
from ledger.gwp import AR4, AR5, AR6, gwp_set
from ledger.quantities import q, rate
from meterledger.errors import FactorError, UnitError

D = Decimal
MARCH = (date(2024, 3, 1), date(2024, 4, 1))


def _factor(**changes: object) -> Factor:
    base = shipped()["cn-mee-grid"].get("cn-grid-2022")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_results_are_immutable_and_carry_lineage() -> None:
    result = emission(q(1000, "kWh"), _factor())
    assert isinstance(result.tco2e, Decimal)
    assert result.activity == q(1000, "kWh")
    (use,) = result.factors
    assert (use.ref, use.gas, str(use.rate)) == (
        "cn-mee-grid@1/cn-grid-2022",
        "CO2",
        "0.5703 tCO2/MWh",
    )
    assert result.formula == (
        "E = A × EF = 1000 kWh × 0.5703 tCO2/MWh = 0.5703 tCO2 = 0.5703 tCO2e"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.tco2e = D(0)  # type: ignore[misc]


def test_natural_gas_defaults_give_21_622_tco2_per_1e4_nm3() -> None:
    defaults = shipped()["cn-ndrc-defaults"]
    ncv, cc, of = (defaults.get(f"cn-natural-gas-{p}") for p in ("ncv", "cc", "of"))
    result = fuel_combustion(q(1, "10⁴Nm³"), ncv, cc, of)
    assert result.tco2e == D("21.62188809")
    assert display_kg_per_nm3(result.tco2e) == D("2.162")
    per_nm3 = fuel_combustion(q(10000, "Nm³"), ncv, cc, of)
    assert per_nm3.tco2e == result.tco2e
    assert [u.ref.rsplit("/", 1)[1] for u in result.factors] == [
        "cn-natural-gas-ncv",
        "cn-natural-gas-cc",
        "cn-natural-gas-of",
    ]
    assert fuel_factor(cc, of) == rate("0.055539", "tCO2/GJ")


def display_kg_per_nm3(tco2_per_1e4_nm3: Decimal) -> Decimal:
    return (tco2_per_1e4_nm3 * 1000 / 10000).quantize(D("0.001"))


def test_fuel_in_the_wrong_unit_is_refused() -> None:
    defaults = shipped()["cn-ndrc-defaults"]
    ncv, cc, of = (defaults.get(f"cn-natural-gas-{p}") for p in ("ncv", "cc", "of"))
    with pytest.raises(UnitError, match=r"activity is \[volume\] but the factor wants \[normal"):
        fuel_combustion(q(10000, "m³"), ncv, cc, of)
    with pytest.raises(FactorError, match="is a CC, expected NCV"):
        fuel_combustion(q(1, "t"), cc, ncv, of)


def test_steam_heat_uses_the_callers_enthalpy() -> None:
    # 1.0 MPa, 200 °C: h = 2828.27 kJ/kg (IAPWS-IF97, STACK.md); from the caller's tables.
    heat = steam_heat(q(100, "t"), rate("2828.27", "kJ/kg"))
    assert heat == q("274.453", "GJ")
    assert steam_heat(q(100000, "kg"), rate("2.82827", "MJ/kg")) == heat
    with pytest.raises(ValueError, match="not above feed water"):
        steam_heat(q(1, "t"), rate("80", "kJ/kg"))


def test_purchased_steam_is_heat_times_the_heat_factor() -> None:
    heat_factor = shipped()["cn-ndrc-defaults"].get("cn-purchased-heat")
    result = purchased_steam(q(100, "t"), rate("2828.27", "kJ/kg"), heat_factor)
    assert result.tco2e == D("30.18983")
    assert result.activity == q(100, "t")
    assert result.formula.startswith("Q = M × (h - 83.74) × 10⁻³ = 100 t × (2828.27 - 83.74)")
    assert "E = Q × EF_heat = 274.453 GJ × 0.11 tCO2/GJ = 30.18983 tCO2" in result.formula


def test_location_based_electricity_nets_export() -> None:
    result = electricity_location(q(1200, "MWh"), q(200, "MWh"), _factor())
    assert result.tco2e == D("570.3")
    assert result.activity == q(1000, "MWh")
    assert result.formula.startswith("E = (import - export) × EF_grid = (1200 MWh - 200 MWh)")


def test_net_export_is_zero_with_a_finding() -> None:
    result = electricity_location(q(100, "kWh"), q(300, "kWh"), _factor())
    assert result.tco2e == 0
    assert [f.code for f in result.findings] == ["NET_EXPORT"]


def test_pv_self_consumption_reduces_purchase_without_a_reduction_line() -> None:
    # Seed 004: 766,500 kWh of rooftop PV a year. It shows up only as less import.
    grid = _factor()
    without_pv = electricity_location(q(10_000_000, "kWh"), q(0, "kWh"), grid)
    with_pv = electricity_location(q(9_233_500, "kWh"), q(0, "kWh"), grid)
    saved = without_pv.tco2e - with_pv.tco2e
    assert saved == D("437.13495")  # 766.5 MWh × 0.5703: the lower purchase is all
    assert site_consumption(q(9_233_500, "kWh"), q(0, "kWh"), q(766_500, "kWh")) == q(
        10_000_000, "kWh"
    )  # consumption KPIs still see all the energy used
    lines: list[Emission] = [with_pv]
    assert total_tco2e(lines) == with_pv.tco2e  # no separate PV line to subtract again


def test_market_based_covers_instruments_first_then_the_remainder() -> None:
    remainder = shipped()["cn-mee-nbs-electricity"].get("cn-2022-excl-market")
    gec = Instrument(
        "gec-7", "GEC", q(300, "MWh"), date(2024, 1, 1), date(2025, 1, 1), rate(0, "tCO2/MWh")
    )
    result = electricity_market(q(1000, "MWh"), [gec], remainder, *MARCH)
    covered, rest = result.lines
    assert covered.activity == q(300, "MWh")
    assert covered.tco2e == 0
    assert covered.factors[0].ref == "instrument/GEC/gec-7"
    assert rest.activity == q(700, "MWh")
    assert result.tco2e == D("409.92")  # 700 MWh × 0.5856 kgCO2/kWh
    assert result.findings == ()


def test_instruments_cannot_cover_more_than_consumption() -> None:
    grid = _factor()
    year = (date(2024, 1, 1), date(2025, 1, 1))
    first = Instrument("a", "I-REC", q(600, "MWh"), *year, rate(0, "tCO2/MWh"))
    second = Instrument("b", "GEC", q(600, "MWh"), *year, rate(0, "tCO2/MWh"))
    result = electricity_market(q(1000, "MWh"), [first, second], grid, *MARCH)
    assert [line.activity for line in result.lines] == [
        q(600, "MWh"),
        q(400, "MWh"),
        q(0, "MWh"),
    ]
    assert result.tco2e == 0
    (finding,) = result.findings
    assert finding.code == "INSTRUMENTS_EXCEED_CONSUMPTION"
    assert finding.subject == "b"
    assert "200 MWh of 600 MWh" in finding.detail


def test_instruments_outside_the_period_are_not_applied() -> None:
    old = Instrument(
        "old", "GEC", q(10, "MWh"), date(2022, 1, 1), date(2023, 1, 1), rate(0, "tCO2/MWh")
    )
    result = electricity_market(q(10, "MWh"), [old], _factor(), *MARCH)
    assert result.tco2e == D("5.703")
    assert [f.code for f in result.findings] == ["INSTRUMENT_OUTSIDE_PERIOD"]


def test_non_co2_gases_need_a_gwp_set() -> None:
    ch4 = _factor(id="diesel-ch4", gas="CH4", rate=rate("0.0039", "kgCH4/GJ"))
    with pytest.raises(FactorError, match="a GWP set is needed"):
        emission(q(1000, "GJ"), ch4)
    result = emission(q(1000, "GJ"), ch4, AR5)
    assert result.tco2e == D("0.1092")
    assert result.gwp == "AR5"
    assert result.formula.endswith("= 3.9 kgCH4 × GWP_CH4 28 (AR5) = 0.1092 tCO2e")


def test_multi_gas_sums_each_gas_with_its_gwp() -> None:
    co2 = _factor(id="co2", gas="CO2", rate=rate("74.1", "kgCO2/GJ"))
    ch4 = _factor(id="ch4", gas="CH4_fossil", rate=rate("0.003", "kgCH4/GJ"))
    n2o = _factor(id="n2o", gas="N2O", rate=rate("0.0006", "kgN2O/GJ"))
    lines = multi_gas(q(1000, "GJ"), [co2, ch4, n2o], AR6)
    assert [line.gas for line in lines] == ["CO2", "CH4_fossil", "N2O"]
    assert total_tco2e(lines) == D("74.1") + D("0.003") * D("29.8") + D("0.0006") * 273


def test_gwp_sets_hold_the_published_values() -> None:
    assert (AR4.gwp("CH4"), AR4.gwp("N2O")) == (D(25), D(298))
    assert (AR5.gwp("CH4"), AR5.gwp("N2O")) == (D(28), D(265))
    assert (AR6.gwp("CH4_fossil"), AR6.gwp("CH4_non_fossil"), AR6.gwp("N2O")) == (
        D("29.8"),
        D("27.0"),
        D(273),
    )
    assert AR5.gwp("CH4_fossil") == 28  # one methane value in AR5 serves both
    assert gwp_set("AR5") is AR5
    with pytest.raises(FactorError, match="distinguishes fossil"):
        AR6.gwp("CH4")
    with pytest.raises(FactorError, match="unknown; known sets are AR4, AR5, AR6"):
        gwp_set("SAR")


def test_gas_mass_must_have_the_gases_dimension() -> None:
    with pytest.raises(UnitError, match=r"\[mass\] is not \[CH4\]"):
        gas_co2e("CH4", q(1, "t"), AR5)
    with pytest.raises(FactorError, match="unknown; known gases"):
        gas_co2e("NF3", q(1, "t"), AR5)


def test_a_parameter_is_not_an_emission_factor() -> None:
    ncv = shipped()["cn-ndrc-defaults"].get("cn-diesel-ncv")
    with pytest.raises(FactorError, match="is a NCV parameter, not an emission factor"):
        emission(q(1, "t"), ncv)
