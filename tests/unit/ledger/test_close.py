from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ledger.close import MeterBook, SiteBook, compute_statement
from ledger.counters import CounterPoint
from ledger.factorsets import shipped
from ledger.memory import MemorySource, QualityBits
from ledger.periods import Month
from ledger.ports import Reading
from ledger.workflow import BLOCKING

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 1, tzinfo=SHANGHAI).astimezone(UTC)
END = datetime(2026, 4, 1, tzinfo=SHANGHAI).astimezone(UTC)
BITS = QualityBits(rejected=89, wrap=2, reset=4)


def counter(first: float, last: float) -> list[Reading]:
    """Readings on the month's boundaries and one in between."""
    middle = START + (END - START) / 2
    return [Reading(START, first), Reading(middle, (first + last) / 2), Reading(END, last)]


def book() -> SiteBook:
    sets = shipped()

    def meter(key: str, carrier: str, role: str, parent: str | None, **points: int) -> MeterBook:
        units = {"energy_import": "kWh", "energy_export": "kWh", "volume": "Nm3", "production": "t"}
        return MeterBook(
            key,
            carrier,
            role,
            parent,
            {
                quantity: (quantity, CounterPoint(pid, units[quantity]))
                for quantity, pid in points.items()
            },
        )

    return SiteBook(
        site="dairy",
        zone="Asia/Shanghai",
        region="CN",
        meters=(
            meter("grid-main", "electricity", "main", None, energy_import=1, energy_export=2),
            meter("workshop-a", "electricity", "sub", "grid-main", energy_import=3),
            meter("boiler-gas", "natural_gas", "main", None, volume=4),
            meter("line-1", "other", "main", None, production=5),
        ),
        electricity=sets["cn-mee-grid"],
        fuels=sets["cn-ndrc-defaults"],
        heat=sets["cn-ndrc-defaults"],
    )


READINGS = {
    1: counter(1_000_000, 1_222_690),
    2: counter(500, 500),
    3: counter(0, 200_000),
    4: counter(380_000, 390_000),
    5: counter(20_000, 21_500),
}
SOURCE = MemorySource(BITS, READINGS)


async def test_march_statement_states_both_scopes_with_lineage() -> None:
    statement = await compute_statement(book(), Month(2026, 3), SOURCE)
    lines = {line.key: line for line in statement.lines}
    grid = lines["scope2/electricity/location/grid-main"]
    assert grid.activity == Decimal(222690)
    assert grid.tco2e == Decimal("127.000107")  # the brief's case: 222,690 kWh x 0.5703
    assert "cn-grid-2022" in grid.factor_id
    gas = lines["scope1/stationary-combustion/natural_gas/boiler-gas"]
    assert gas.activity == Decimal(10000)
    assert round(gas.tco2e, 3) == Decimal("21.622")  # NDRC defaults: 21.622 t per 10^4 Nm3
    assert statement.total("location") == grid.tco2e + gas.tco2e
    assert statement.total("market") == statement.total("location")  # grid factor fallback
    codes = {f.code for f in statement.findings}
    assert {"MARKET_BASED_FALLBACK", "UNMETERED_SHARE"} <= codes
    assert not codes & BLOCKING
    activity = {a.key: a for a in statement.activities}["grid-main/energy_import"]
    assert [e.ts for e in activity.evidence] == [START, START + (END - START) / 2, END]
    assert activity.coverage < 1  # three readings do not back a whole month


async def test_missing_readings_block_the_statement() -> None:
    source = MemorySource(BITS, {1: [], 2: [], 3: [], 4: counter(0, 10)})
    statement = await compute_statement(book(), Month(2026, 3), source)
    codes = {f.code for f in statement.findings}
    assert codes & BLOCKING


async def test_submeters_above_their_main_meter_are_a_finding() -> None:
    source = MemorySource(BITS, {**READINGS, 3: counter(0, 300_000)})
    statement = await compute_statement(book(), Month(2026, 3), source)
    assert "SUBMETERS_EXCEED_MAIN" in {f.code for f in statement.findings}


async def test_intensities_use_the_stated_totals_and_recompute() -> None:
    statement = await compute_statement(book(), Month(2026, 3), SOURCE)
    kpis = {k.name: k for k in statement.kpis}
    electricity = kpis["electricity per output"]
    assert (electricity.numerator, electricity.denominator) == (Decimal(222690), Decimal(1500))
    assert electricity.value == Decimal("148.46")
    assert kpis["natural gas per output"].value * 1500 == Decimal(10000)
    carbon = kpis["carbon per output, location-based"]
    assert carbon.numerator == statement.total("location")
    assert "INTENSITY_INCONSISTENT" not in {f.code for f in statement.findings}


async def test_no_production_means_no_kpis_and_says_so() -> None:
    source = MemorySource(BITS, {**READINGS, 5: counter(0, 0)})
    statement = await compute_statement(book(), Month(2026, 3), source)
    assert statement.kpis == ()
    assert "NO_PRODUCTION" in {f.code for f in statement.findings}


async def test_submeters_are_held_against_the_load_with_the_pv_behind_the_main_meter() -> None:
    # 222,690 kWh import - 500 export + 100,000 kWh of PV the workshop drew as well:
    # 300,000 kWh on the sub-meter is 93 % of the load, not 135 % of the import.
    with_pv = SiteBook(
        **{
            **{f: getattr(book(), f) for f in ("site", "zone", "region", "electricity")},
            "fuels": book().fuels,
            "heat": book().heat,
            "meters": (
                *book().meters,
                MeterBook(
                    "pv",
                    "electricity",
                    "generation",
                    None,
                    {"energy_generation": ("energy_import", CounterPoint(6, "kWh"))},
                ),
            ),
        }
    )
    readings = {**READINGS, 2: counter(500, 1_000), 3: counter(0, 300_000), 6: counter(0, 100_000)}
    statement = await compute_statement(with_pv, Month(2026, 3), MemorySource(BITS, readings))
    found = {f.code: f.detail for f in statement.findings}
    assert "SUBMETERS_EXCEED_MAIN" not in found
    assert found["UNMETERED_SHARE"] == "6.8872% of 322190.0 is not sub-metered"


async def test_month_to_date_rolls_up_to_the_last_whole_hour_not_the_month_end() -> None:
    middle = START + (END - START) / 2
    statement = await compute_statement(
        book(), Month(2026, 3), SOURCE, until=middle + timedelta(minutes=59)
    )
    activity = {a.key: a for a in statement.activities}["grid-main/energy_import"]
    assert activity.quantity == Decimal(222_690) / 2  # the reading at mid-month, exactly
    codes = {f.code for f in statement.findings}
    assert "PART_OF_PERIOD" in codes
    assert "EXTRAPOLATED_END" not in codes
