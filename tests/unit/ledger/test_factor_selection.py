"""Choosing the factor for a period, and saying when its year does not match."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ledger.factors import FactorSet, Selection
from ledger.factorsets import parse_factor_set, shipped
from meterledger.errors import FactorError

HEADER = (
    "id,kind,carrier,region,gas,value,numerator,denominator,data_year,valid_from,valid_to,"
    "publisher,document,url,superseded_by,notes"
)


def _set(*rows: str) -> FactorSet:
    text = "\n".join(["# set: test", "# version: 7", HEADER, *rows])
    return parse_factor_set(text, "test.csv")


def _grid(
    factor_id: str, value: str, year: str, start: str = "", end: str = "", by: str = ""
) -> str:
    cells = f"{value},tCO2,MWh,{year},{start},{end},MEE,doc,,{by},"
    return f"{factor_id},factor,electricity_grid,CN,CO2,{cells}"


def test_mee_reporting_factor_follows_the_notices_year_by_year() -> None:
    grid = shipped()["cn-mee-grid"]
    chosen = {
        year: grid.select("electricity_grid", "CN", date(year, 3, 1), date(year, 4, 1)).factor.value
        for year in (2019, 2020, 2021, 2022, 2023, 2024)
    }
    assert chosen == {
        2019: Decimal("0.6101"),
        2020: Decimal("0.6101"),
        2021: Decimal("0.5810"),
        2022: Decimal("0.5703"),  # 0.5810 was prescribed for 2022 too, then superseded
        2023: Decimal("0.5703"),
        2024: Decimal("0.5703"),
    }


def test_data_year_other_than_the_period_year_is_a_finding() -> None:
    grid = shipped()["cn-mee-grid"]
    same = grid.select("electricity_grid", "CN", date(2022, 1, 1), date(2023, 1, 1))
    assert same.findings == ()
    later = grid.select("electricity_grid", "CN", date(2024, 5, 1), date(2024, 6, 1))
    (finding,) = later.findings
    assert finding.code == "FACTOR_YEAR_MISMATCH"
    assert finding.subject == "cn-mee-grid@1/cn-grid-2022"
    assert finding.detail == "data year 2022 used for a period of 2024"


def test_latest_data_year_not_after_the_period_wins() -> None:
    electricity = shipped()["cn-mee-nbs-electricity"]

    def pick(year: int) -> Selection:
        return electricity.select("electricity_grid", "CN", date(year, 1, 1), date(year, 2, 1))

    assert pick(2022).factor.value == Decimal("0.5366")
    assert pick(2022).findings == ()
    assert pick(2023).factor.value == Decimal("0.5306")
    assert pick(2025).factor.id == "cn-2023"
    assert [f.code for f in pick(2025).findings] == ["FACTOR_YEAR_MISMATCH"]


def test_earliest_data_year_is_used_when_all_are_later_with_a_finding() -> None:
    north = shipped()["cn-mee-nbs-electricity"].select(
        "electricity_grid", "CN-NORTH", date(2020, 1, 1), date(2020, 2, 1)
    )
    assert north.factor.id == "cn-north-2021"
    assert north.findings[0].detail == "data year 2021 used for a period of 2020"


def test_seed_north_china_factor_is_the_2022_regional_value() -> None:
    north = shipped()["cn-mee-nbs-electricity"].select(
        "electricity_grid", "CN-NORTH", date(2022, 1, 1), date(2023, 1, 1)
    )
    assert north.factor.value == Decimal("0.6776")
    assert "公告2024年第33号" in north.factor.document


def test_no_factor_names_carrier_region_and_period() -> None:
    grid = shipped()["cn-mee-grid"]
    with pytest.raises(FactorError) as error:
        grid.select("electricity_grid", "CN-XZ", date(2024, 1, 1), date(2024, 2, 1))
    assert error.value.subject == "factor electricity_grid in CN-XZ for [2024-01-01, 2024-02-01)"
    assert "has none (it has electricity_grid for CN)" in error.value.reason
    with pytest.raises(FactorError, match=r"no record is valid for the whole period"):
        grid.select("electricity_grid", "CN", date(2018, 1, 1), date(2018, 2, 1))


def test_validity_window_excludes_later_periods() -> None:
    uk = shipped()["uk-desnz-2024"]
    assert uk.select("electricity_grid", "GB", date(2024, 1, 1), date(2025, 1, 1)).findings == ()
    with pytest.raises(FactorError, match="gb-electricity-2024 \\[2024-01-01, 2025-01-01\\)"):
        uk.select("electricity_grid", "GB", date(2025, 1, 1), date(2025, 2, 1))


def test_a_period_straddling_the_end_of_validity_has_no_factor() -> None:
    factors = _set(_grid("a", "0.6", "2021", "2021-01-01", "2022-01-01"))
    with pytest.raises(FactorError, match="valid for the whole period"):
        factors.select("electricity_grid", "CN", date(2021, 12, 15), date(2022, 1, 15))


def test_unknown_data_year_and_year_spanning_periods_are_findings() -> None:
    factors = _set(_grid("a", "0.6", ""))
    selection = factors.select("electricity_grid", "CN", date(2023, 4, 1), date(2024, 4, 1))
    assert [f.code for f in selection.findings] == ["FACTOR_YEAR_UNKNOWN", "PERIOD_SPANS_YEARS"]


def test_two_records_of_the_same_year_are_ambiguous() -> None:
    factors = _set(_grid("a", "0.6", "2021"), _grid("b", "0.7", "2021"))
    with pytest.raises(FactorError, match="ambiguous: a, b"):
        factors.select("electricity_grid", "CN", date(2021, 1, 1), date(2021, 2, 1))


def test_datetimes_are_taken_at_their_date_and_reversed_periods_refused() -> None:
    factors = _set(_grid("a", "0.6", "2021"))
    start = datetime(2021, 1, 1, tzinfo=UTC)
    assert factors.select("electricity_grid", "CN", start, datetime(2021, 2, 1)).factor.id == "a"
    with pytest.raises(FactorError, match="ends before it starts"):
        factors.select("electricity_grid", "CN", date(2021, 2, 1), date(2021, 1, 1))


def test_parameters_are_selected_by_kind() -> None:
    defaults = shipped()["cn-ndrc-defaults"]
    period = (date(2024, 1, 1), date(2024, 2, 1))
    ncv = defaults.select("natural_gas", "CN", *period, kind="NCV")
    assert ncv.factor.rate.value == Decimal("389.31")
    assert ncv.factor.rate.denominator == "e4Nm3"
    assert [f.code for f in ncv.findings] == ["FACTOR_YEAR_UNKNOWN"]
    with pytest.raises(FactorError, match="has none"):
        defaults.select("natural_gas", "CN", *period)  # no emission factor, only parameters
