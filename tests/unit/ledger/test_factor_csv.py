"""Factor sets from CSV: the shipped sets load, and bad files fail naming line and column."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledger.factorsets import COLUMNS, parse_factor_set, read_factor_set, shipped
from meterledger.errors import FactorError

HEADER = ",".join(COLUMNS)
GOOD = "grid,factor,electricity_grid,CN,CO2,0.5703,tCO2,MWh,2022,2022-01-01,,MEE,43号,,,"


def _load(*rows: str, meta: str = "# set: test\n# version: 1\n") -> None:
    parse_factor_set(meta + "\n".join([HEADER, *rows]), "test.csv")


def _error(*rows: str) -> FactorError:
    with pytest.raises(FactorError) as error:
        _load(*rows)
    return error.value


def test_shipped_sets_load_and_are_cited() -> None:
    sets = shipped()
    assert set(sets) == {
        "cn-mee-grid",
        "cn-mee-nbs-electricity",
        "cn-ndrc-defaults",
        "cn-cpcd-freight",
        "uk-desnz-2024",
    }
    for factor_set in sets.values():
        assert factor_set.version
        assert len(factor_set.digest) == 64
        for factor in factor_set.factors:
            assert factor.publisher
            assert factor.document or factor.url
            assert isinstance(factor.value, Decimal)


def test_shipped_values_match_their_sources() -> None:
    sets = shipped()
    grid = sets["cn-mee-grid"]
    assert [grid.get(i).value for i in ("cn-grid-2019-2020", "cn-grid-2021", "cn-grid-2022")] == [
        Decimal("0.6101"),
        Decimal("0.5810"),
        Decimal("0.5703"),
    ]
    mee_nbs = sets["cn-mee-nbs-electricity"]
    assert mee_nbs.get("cn-2022").value == Decimal("0.5366")
    assert mee_nbs.get("cn-2022").rate.unit == "kgCO2/kWh"
    assert mee_nbs.get("cn-2022-excl-market").value == Decimal("0.5856")
    assert len([f for f in mee_nbs.factors if f.id.endswith("-2022")]) == 1 + 7 + 30
    defaults = sets["cn-ndrc-defaults"]
    assert defaults.get("cn-diesel-ncv").rate.unit == "GJ/t"
    assert defaults.get("cn-purchased-heat").value == Decimal("0.11")
    uk = sets["uk-desnz-2024"]
    assert uk.get("gb-electricity-2024").value == Decimal("0.20705")
    assert uk.get("gb-electricity-2024").gas == "CO2e"


def test_a_factor_set_is_read_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(f"# set: mine\n# version: 2024.2\n# title: Ours\n{HEADER}\n{GOOD}\n")
    factors = read_factor_set(path)
    assert (factors.name, factors.version, factors.title) == ("mine", "2024.2", "Ours")
    assert factors.get("grid").ref == "mine@2024.2/grid"


def test_value_error_names_line_column_and_value() -> None:
    error = _error(GOOD.replace("0.5703", "0,5703", 1).replace(",0,5703,", ',"0,5703",'))
    assert error.line == 4
    assert error.column == "value"
    assert error.value == "0,5703"
    assert str(error).startswith("test.csv line 4, column value: '0,5703': cannot be read")


def test_unknown_unit_names_its_column() -> None:
    error = _error(GOOD.replace(",MWh,", ",MWhh,"))
    assert (error.line, error.column, error.value) == (4, "denominator", "MWhh")
    assert "unknown unit" in error.reason


def test_gas_and_unit_must_agree() -> None:
    error = _error(GOOD.replace(",tCO2,", ",tCO2e,"))
    assert error.column == "numerator"
    assert error.reason == "'tCO2e': gas CO2 needs [CO2], tCO2e is [CO2e]"


def test_tce_numerator_is_not_an_emission_factor() -> None:
    error = _error(GOOD.replace(",tCO2,", ",tce,"))
    assert "[coal equivalent]" in error.reason


def test_parameter_dimensions_are_checked() -> None:
    row = "ncv,NCV,natural_gas,CN,,389.31,GJ,kg,,,,NDRC,1722号,,,"
    assert _error(row.replace(",GJ,", ",t,")).column == "numerator"
    cc = "cc,CC,natural_gas,CN,,15.3,tC,Nm3,,,,NDRC,1722号,,,"
    assert _error(cc).column == "denominator"
    _load(row, cc.replace(",Nm3,", ",TJ,"))


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ((",factor,", ",fctor,"), "kind"),
        ((",CO2,", ",CO3,"), "gas"),
        ((",electricity_grid,", ",Electricity Grid,"), "carrier"),
        ((",2022,", ",22,"), "data_year"),
        ((",2022-01-01,", ",2022-13-01,"), "valid_from"),
        ((",2022-01-01,,", ",2022-01-01,2021-01-01,"), "valid_to"),
        ((",MEE,43号,", ",,43号,"), "publisher"),
        ((",MEE,43号,", ",MEE,,"), "document"),
        ((",0.5703,", ",-1,"), "value"),
    ],
)
def test_each_column_is_validated(change: tuple[str, str], column: str) -> None:
    error = _error(GOOD.replace(*change, 1))
    assert (error.line, error.column) == (4, column)


def test_duplicate_ids_and_dangling_superseded_by_are_refused() -> None:
    assert _error(GOOD, GOOD).reason == "'grid': duplicate id"
    dangling = GOOD[: -len(",,")] + ",nowhere,"
    error = _error(dangling)
    assert (error.column, error.value) == ("superseded_by", "nowhere")


def test_header_and_columns_are_required() -> None:
    with pytest.raises(FactorError, match="no '# version: …' line"):
        _load(GOOD, meta="# set: test\n")
    with pytest.raises(FactorError, match="the first row must name the columns"):
        parse_factor_set("# set: a\n# version: 1\n" + GOOD, "x.csv")
    assert "17 fields, expected 16" in _error(GOOD + ",extra").reason


def test_the_example_in_docs_factors_md_loads() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "factors.md").read_text()
    example = doc.split("```\n# set: my-utility", 1)[1].split("```", 1)[0]
    factors = parse_factor_set("# set: my-utility" + example, "docs/factors.md")
    assert factors.get("supplier-2024").rate.unit == "kgCO2/kWh"
