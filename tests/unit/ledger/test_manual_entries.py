"""Manual activity entries: unit checks by dimension, cited factors, evidence in lineage."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ledger.factorsets import COLUMNS, parse_factor_set, shipped
from ledger.gwp import AR5, AR6
from ledger.manual import EntryFactors, entry_result, state_entry
from ledger.ports import EntryRecord, EvidenceRef
from meterledger.errors import InputError

MARCH = (date(2026, 3, 1), date(2026, 4, 1))
SETS = shipped()
FACTORS = EntryFactors("CN", SETS["cn-ndrc-defaults"], SETS["cn-cpcd-freight"], AR5, SETS)
INVOICE = EvidenceRef("ab" * 32, "invoice-0312.pdf", "application/pdf", 48213)


def entry(category: str, quantity: str, unit: str, **extra: object) -> EntryRecord:
    return EntryRecord(
        id=7,
        category=category,
        quantity=Decimal(quantity),
        unit=unit,
        description="test",
        entered_by="energy.manager",
        entered_at=datetime(2026, 4, 2, 9, tzinfo=UTC),
        **extra,  # type: ignore[arg-type]
    )


def test_road_freight_in_tonne_km_matches_the_brief() -> None:
    # 65 t × 561 km × 0.129 kgCO2e/t·km = 4,703.985 kgCO2e
    line, findings = state_entry(entry("road_freight", "36465", "t·km"), FACTORS, *MARCH)
    assert line.tco2e == Decimal("4.703985")
    assert line.scope == "3"
    assert "cn-road-freight-18t" in line.factor_id
    assert "FACTOR_YEAR_UNKNOWN" in {f.code for f in findings}


def test_freight_in_km_against_a_per_tonne_km_factor_is_refused_naming_both() -> None:
    with pytest.raises(InputError) as refused:
        state_entry(entry("road_freight", "561", "km"), FACTORS, *MARCH)
    assert refused.value.field == "quantity"
    assert "561 km" in str(refused.value)
    assert "t·km" in str(refused.value)
    assert "[length]" in str(refused.value)


def test_diesel_in_tonnes_uses_the_ndrc_parameters() -> None:
    line, _ = state_entry(entry("diesel", "0.4", "t"), FACTORS, *MARCH)
    # 0.4 t × 42.652 GJ/t × 0.0202 tC/GJ × 0.98 × 44/12
    expected = Decimal("0.4") * Decimal("42.652") * Decimal("0.0202") * Decimal("0.98") * 44 / 12
    assert abs(line.tco2e - expected) < Decimal("1e-20")
    assert line.scope == "1"
    assert line.activity_keys == ("entry/7",)
    for parameter in ("cn-diesel-ncv", "cn-diesel-cc", "cn-diesel-of"):
        assert parameter in line.factor_id


def test_diesel_in_litres_needs_the_density_and_converts_with_it() -> None:
    with pytest.raises(InputError) as refused:
        state_entry(entry("diesel", "1200", "L"), FACTORS, *MARCH)
    assert refused.value.field == "density"
    in_litres = entry("diesel", "1200", "L", density=Decimal("0.84"), density_unit="kg/L")
    line, _ = state_entry(in_litres, FACTORS, *MARCH)
    in_tonnes, _ = state_entry(entry("diesel", "1.008", "t"), FACTORS, *MARCH)
    assert line.tco2e == in_tonnes.tco2e
    assert "A = V × density = 1200 L × 0.84 kg/L = 1.008 t; " in line.formula
    assert (line.activity, line.activity_unit) == (Decimal(1200), "L")


def test_diesel_in_kilowatt_hours_is_refused() -> None:
    with pytest.raises(InputError, match=r"diesel needs \[mass\] or \[volume\]"):
        state_entry(entry("diesel", "500", "kWh"), FACTORS, *MARCH)


def test_a_chosen_factor_per_litre_wins_and_converts_tonnes_back_to_litres() -> None:
    chosen = entry(
        "diesel",
        "0.84",
        "t",
        factor="uk-desnz-2024/gb-diesel-2024",
        density=Decimal("0.84"),
        density_unit="kg/L",
    )
    year = (date(2024, 3, 1), date(2024, 4, 1))
    line, _ = state_entry(chosen, FACTORS, *year)
    assert line.tco2e == Decimal("2.5121")  # 1000 L × 2.5121 kgCO2e/L
    assert "uk-desnz-2024@1/gb-diesel-2024" in line.factor_id
    with pytest.raises(InputError, match="not for"):
        state_entry(chosen, FACTORS, *MARCH)  # the DESNZ 2024 factor is for 2024 only


def test_refrigerant_top_up_is_mass_times_the_blends_gwp() -> None:
    line, _ = state_entry(entry("refrigerant", "12", "kg", gas="r410a"), FACTORS, *MARCH)
    assert line.tco2e == Decimal("23.082")  # 0.012 t × (0.5 × 677 + 0.5 × 3170)
    assert line.carrier == "R-410A"
    assert "0.5 × 677 + 0.5 × 3170 = 1923.5 (AR5)" in line.formula
    ar6 = EntryFactors("CN", FACTORS.fuels, FACTORS.freight, AR6, SETS)
    line6, _ = state_entry(entry("refrigerant", "12", "kg", gas="R-134a"), ar6, *MARCH)
    assert line6.tco2e == Decimal("18.36")  # 0.012 t × 1530


def test_refrigerant_needs_a_known_gas_and_a_mass() -> None:
    with pytest.raises(InputError, match="names its gas"):
        state_entry(entry("refrigerant", "12", "kg"), FACTORS, *MARCH)
    with pytest.raises(InputError, match="known refrigerants are"):
        state_entry(entry("refrigerant", "12", "kg", gas="R-999"), FACTORS, *MARCH)
    with pytest.raises(InputError, match=r"\[mass\]"):
        state_entry(entry("refrigerant", "12", "L", gas="R-410A"), FACTORS, *MARCH)


def test_unknown_category_and_non_positive_quantity_are_refused() -> None:
    with pytest.raises(InputError, match="known categories are diesel"):
        state_entry(entry("coal", "1", "t"), FACTORS, *MARCH)
    with pytest.raises(InputError, match="must be positive"):
        state_entry(entry("diesel", "0", "t"), FACTORS, *MARCH)


def test_a_refused_entry_at_close_is_a_blocking_finding_with_its_evidence_kept() -> None:
    result = entry_result(entry("road_freight", "561", "km", evidence=(INVOICE,)), FACTORS, *MARCH)
    assert result.line is None
    assert [f.code for f in result.findings] == ["ENTRY_REFUSED"]
    assert result.activity.evidence == (("ab" * 32, "invoice-0312.pdf", "application/pdf", 48213),)


def test_the_briefs_diesel_case_entered_by_hand_is_1_258049_tco2() -> None:
    # CC 0.0202 tC/GJ, OF 0.98, NCV 43.33 GJ/t, 0.4 t: a plant's own tested parameters.
    text = "\n".join(
        [
            "# set: plant-diesel",
            "# version: 1",
            ",".join(COLUMNS),
            *(
                f"d-{kind},{kind},diesel,CN,,{value},{top},{bottom},2026,,,lab,report 7,,,"
                for kind, value, top, bottom in (
                    ("NCV", "43.33", "GJ", "t"),
                    ("CC", "0.0202", "tC", "GJ"),
                    ("OF", "0.98", "1", "1"),
                )
            ),
        ]
    )
    fuels = parse_factor_set(text, "plant-diesel.csv")
    own = EntryFactors("CN", fuels, None, AR5, {})
    line, findings = state_entry(entry("diesel", "0.4", "t"), own, *MARCH)
    assert line.tco2e.quantize(Decimal("1E-6")) == Decimal("1.258049")
    assert findings == ()
