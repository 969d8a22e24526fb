"""Units are checked on every value (BRIEF rule 1), and values stay Decimal."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from ledger.quantities import (
    Quantity,
    add,
    convert,
    convert_rate,
    dimension,
    multiply,
    normalise,
    plain,
    pretty,
    product,
    q,
    rate,
    subtract,
    total,
)
from meterledger.errors import UnitError

D = Decimal


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("m³", "m**3"),
        ("m3", "m**3"),
        ("m3/h", "m**3/h"),
        ("Nm³", "Nm3"),
        ("Nm3", "Nm3"),
        ("Nm^3", "Nm3"),
        ("Nm**3", "Nm3"),
        ("10⁴Nm³", "e4Nm3"),
        ("10^4 Nm3", "e4Nm3"),
        ("10**4 Nm**3", "e4Nm3"),
        ("万Nm3", "e4Nm3"),
        ("GJ/10⁴Nm³", "GJ/e4Nm3"),
        ("t·km", "t*km"),
        ("tkm", "t*km"),
        ("tonne.km", "t*km"),
        ("kgCO2e/t·km", "kgCO2e/(t*km)"),
        ("kgCO2e/(t·km)", "kgCO2e/(t*km)"),
        ("t CO2e", "tCO2e"),
        ("tCO₂-eq", "tCO2e"),
        ("kg CO2", "kgCO2"),
        ("tCO2/MWh", "tCO2/MWh"),
        ("%", "percent"),
        ("1", ""),
        ("", ""),
    ],
)
def test_unit_spellings_normalise_before_parsing(written: str, normalised: str) -> None:
    assert normalise(written) == normalised
    dimension(normalised)  # and the registry knows the result


def test_normal_cubic_metres_are_not_number_metres_nor_cubic_metres() -> None:
    assert dimension(normalise("Nm³")) == "[normal volume]"
    assert dimension(normalise("m³")) == "[volume]"
    with pytest.raises(UnitError, match=r"\[normal volume\] is not \[volume\]"):
        convert(q(1, "Nm³"), "m³")
    assert convert(q(3, "10⁴Nm³"), "Nm3") == q(30000, "Nm3")


def test_conversions_stay_decimal_and_exact() -> None:
    assert convert(q(1, "MWh"), "kWh") == q(1000, "kWh")
    assert convert(q("222690", "kWh"), "MWh").value == D("222.690")
    assert convert(q(1, "t"), "kg").value == 1000
    assert convert(q(1, "kWh"), "GJ").value == D("0.0036")
    third = convert(q(1, "GJ"), "kWh").value
    assert isinstance(third, Decimal)
    assert third == D(1000) / D("3.6")  # non-terminating: rounded to the context, 28 digits
    assert convert_rate(rate("15.3", "tC/TJ"), "tC", "GJ") == rate("0.0153", "tC/GJ")
    assert convert_rate(rate("0.5366", "kgCO2/kWh"), "tCO2", "MWh").value == D("0.5366")
    assert convert(q(99, "%"), "").value == D("0.99")


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        q(0.1, "kWh")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        q("NaN", "kWh")


@pytest.mark.parametrize("text", ["¨I\xf1\x8f\x98\xb9𩟹È¯*\x1e¼", "kWh)(", "**", "1/"])
def test_text_that_breaks_the_parser_is_a_unit_error(text: str) -> None:
    """Found by the API's contract test: pint failed with an AssertionError, a 500."""
    with pytest.raises(UnitError):
        dimension(text)


def test_unknown_unit_is_named() -> None:
    with pytest.raises(UnitError, match="kWhh: unknown unit"):
        q(1, "kWhh")


def test_tco2e_plus_kg_is_a_dimension_error() -> None:
    with pytest.raises(UnitError) as error:
        add(q(1, "tCO2e"), q(1, "kg"))
    assert str(error.value) == "tCO2e + kg: [mass] cannot be added to [CO2e]"


def test_kg_added_to_t_is_fine_after_conversion() -> None:
    assert add(q(1, "t"), q(500, "kg")) == q("1.500", "t")
    assert subtract(q(1, "MWh"), q(250, "kWh")) == q("0.750", "MWh")
    assert total([q(1, "kWh"), q(1, "MWh")], "kWh") == q(1001, "kWh")


def test_kw_is_not_kwh() -> None:
    with pytest.raises(UnitError, match=r"kW × tCO2/MWh: activity is \[power\]"):
        multiply(q(1602, "kW"), rate("0.5703", "tCO2/MWh"))


def test_tce_is_not_tco2() -> None:
    with pytest.raises(UnitError) as error:
        convert(q(1, "tce"), "tCO2")
    assert str(error.value) == "tce → tCO2: [coal equivalent] is not [CO2]"
    with pytest.raises(UnitError, match=r"\[coal equivalent\] cannot be added to \[CO2\]"):
        add(q(1, "tCO2"), q(1, "tce"))


def test_co2_and_co2e_are_separate_dimensions() -> None:
    with pytest.raises(UnitError, match=r"\[CO2\] cannot be added to \[CO2e\]"):
        add(q(1, "tCO2e"), q(1, "tCO2"))
    with pytest.raises(UnitError, match=r"\[CH4\] is not \[CO2e\]"):
        convert(q(1, "tCH4"), "tCO2e")
    assert convert(q(1500, "kgCO2e"), "tCO2e") == q("1.5", "tCO2e")


def test_multiply_returns_the_factor_numerator_unit() -> None:
    result = multiply(q(222690, "kWh"), rate("0.5703", "tCO2/MWh"))
    assert result.unit == "tCO2"
    assert result.value == D("127.000107")
    assert multiply(q(2, "10⁴Nm³"), rate("389.31", "GJ", "10⁴Nm³")) == q("778.62", "GJ")


def test_product_makes_freight_tonne_kilometres() -> None:
    assert product(q(65, "t"), q(561, "km")) == Quantity(D(36465), "t*km")
    assert dimension("t*km") == "[mass·length]"


def test_printing_uses_report_spellings() -> None:
    assert pretty("kgCO2e/(t*km)") == "kgCO2e/(t·km)"
    assert pretty("GJ/e4Nm3") == "GJ/10⁴Nm³"
    assert str(q("127.0001070", "tCO2")) == "127.000107 tCO2"
    assert plain(D("1E+3")) == "1000"
    assert str(rate("0.129", "kgCO2e/t·km")) == "0.129 kgCO2e/(t·km)"


def test_importing_the_module_does_not_build_the_registry() -> None:
    code = "import sys, ledger.quantities; print('pint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
