"""The Spirax Sarco TVA map turns the flowmeter's scaled integers into the plant's units.

Raw register words below are what the meter sends per IM-P192-02 MI Issue 2, p. 45:
totals as two registers, low first (total = high x 65536 + low), in kg and kWh;
16-bit values multiplied by the table's "received data scale".
"""

from __future__ import annotations

import pytest

from collector.decoding import decode
from collector.register_map import DataType, Function, Order, load_register_map

TVA = load_register_map("spirax_sarco_tva")


def test_mass_total_is_low_word_first_kilograms_read_as_tonnes() -> None:
    kilograms = 41_000_123  # high word 625, low word 39_099
    registers = [kilograms % 65536, kilograms // 65536]
    assert decode(TVA["mass"], registers) == pytest.approx(41_000.123)


def test_mass_total_above_two_to_the_31_stays_positive() -> None:
    kilograms = 3_000_000_000  # past int32: a signed reading would turn negative
    registers = [kilograms % 65536, kilograms // 65536]
    assert decode(TVA["mass"], registers) == pytest.approx(3_000_000.0)


def test_energy_total_in_kwh_reads_as_gigajoules() -> None:
    kwh = 31_111_111
    registers = [kwh % 65536, kwh // 65536]
    assert decode(TVA["energy"], registers) == pytest.approx(kwh * 0.0036)


def test_gauge_pressure_in_hundredths_of_a_bar_reads_as_absolute_megapascals() -> None:
    # 7.99 barg is sent as 799; + one standard atmosphere = 0.900325 MPa absolute.
    assert decode(TVA["pressure"], [799]) == pytest.approx(0.900325)


def test_temperature_in_tenths_of_a_degree_reads_as_degrees() -> None:
    assert decode(TVA["temperature"], [1853]) == pytest.approx(185.3)


def test_flow_and_power_read_as_tonnes_and_gigajoules_per_hour() -> None:
    assert decode(TVA["mass_flow"], [2500]) == pytest.approx(2.5)
    assert decode(TVA["heat_flow"], [1875]) == pytest.approx(6.75)


def test_map_has_the_datasheet_addresses_in_the_holding_table() -> None:
    expected = {
        "mass": (0, DataType.UINT32),
        "mass_flow": (2, DataType.UINT16),
        "pressure": (3, DataType.INT16),
        "temperature": (4, DataType.INT16),
        "heat_flow": (6, DataType.UINT16),
        "energy": (7, DataType.UINT32),
    }
    assert {spec.name: (spec.address, spec.type) for spec in TVA.registers} == expected
    assert all(spec.function is Function.HOLDING for spec in TVA.registers)
    assert TVA["mass"].order is Order.CDAB
    assert TVA["energy"].order is Order.CDAB
    assert {spec.name for spec in TVA.registers if spec.kind == "counter"} == {"mass", "energy"}
