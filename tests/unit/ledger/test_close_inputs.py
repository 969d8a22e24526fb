"""A month's statement with everything the meters do not see: entries, instruments,
entered production, PV, per-line KPIs, all inside the hashed content."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ledger.close import MeterBook, SiteBook, compute_statement
from ledger.counters import CounterPoint
from ledger.factorsets import shipped
from ledger.memory import MemoryInputs, MemorySource, QualityBits
from ledger.periods import Month
from ledger.ports import (
    EntryRecord,
    EvidenceRef,
    InstrumentRecord,
    PeriodInputs,
    ProductionRecord,
    Reading,
)
from ledger.product_lines import LineBook, SharedMeter
from ledger.statements import canonical, seal
from ledger.workflow import BLOCKING

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 1, tzinfo=SHANGHAI).astimezone(UTC)
END = datetime(2026, 4, 1, tzinfo=SHANGHAI).astimezone(UTC)
MARCH = Month(2026, 3)
ENTERED = datetime(2026, 4, 2, 9, tzinfo=UTC)
RECEIPT = EvidenceRef("c0ffee" + "0" * 58, "diesel-0312.pdf", "application/pdf", 1024)


def counter(first: float, last: float) -> list[Reading]:
    return [Reading(START, first), Reading(END, last)]


def meter(key: str, carrier: str, role: str, parent: str | None, **points: int) -> MeterBook:
    units = {"energy_import": "kWh", "energy_export": "kWh", "energy_generation": "kWh",
             "volume": "Nm3", "production": "t"}  # fmt: skip
    counters = {q: (q, CounterPoint(pid, units[q])) for q, pid in points.items()}
    return MeterBook(key, carrier, role, parent, counters)


def book() -> SiteBook:
    sets = shipped()
    return SiteBook(
        site="dairy",
        zone="Asia/Shanghai",
        region="CN",
        meters=(
            meter("grid-main", "electricity", "main", None, energy_import=1, energy_export=2),
            meter("pv-roof", "electricity", "generation", None, energy_generation=6),
            meter("ws-a", "electricity", "sub", "grid-main", energy_import=3),
            meter("boiler-gas", "natural_gas", "main", None, volume=4),
            meter("line-1", "other", "main", None, production=5),
        ),
        electricity=sets["cn-mee-grid"],
        fuels=sets["cn-ndrc-defaults"],
        heat=sets["cn-ndrc-defaults"],
        freight=sets["cn-cpcd-freight"],
        library=sets,
        lines=(LineBook("line-1", ("ws-a",)), LineBook("line-2")),
        shared=(SharedMeter("boiler-gas", ("line-1", "line-2")),),
    )


SOURCE = MemorySource(
    QualityBits(rejected=89, wrap=2, reset=4),
    {
        1: counter(1_000_000, 1_222_690),
        2: counter(500, 1000),
        3: counter(0, 200_000),
        4: counter(380_000, 390_000),
        5: counter(20_000, 21_500),
        6: counter(0, 150_000),
    },
)
DIESEL = EntryRecord(11, "diesel", Decimal("0.4"), "t", "generator", "ops", ENTERED,
                     evidence=(RECEIPT,))  # fmt: skip
GEC = InstrumentRecord(3, "GEC", Decimal(50), date(2026, 3, 1), date(2026, 4, 1), Decimal(0),
                       ("GEC-1",), "ops", ENTERED, (RECEIPT,))  # fmt: skip
INPUTS = PeriodInputs(
    entries=(DIESEL,),
    instruments=(GEC,),
    production=(
        ProductionRecord(1, "line-1", Decimal(1400), "MES month report", "ops", ENTERED),
        ProductionRecord(2, "line-2", Decimal(600), "stock count", "ops", ENTERED),
    ),
)


async def statement_with(inputs: PeriodInputs = INPUTS):  # type: ignore[no-untyped-def]
    return await compute_statement(
        book(), MARCH, SOURCE, inputs=MemoryInputs({("dairy", MARCH): inputs})
    )


async def test_instruments_cover_their_mwh_at_their_factor_and_the_rest_at_the_grid() -> None:
    statement = await statement_with()
    market = sorted((x for x in statement.lines if x.basis == "market"), key=lambda x: x.key)
    assert [(x.activity, x.activity_unit) for x in market] == [
        (Decimal(50_000), "kWh"),
        (Decimal(172_190), "kWh"),  # 222,690 - 500 exported - 50,000 covered
    ]
    assert market[0].tco2e == 0
    assert market[1].tco2e == Decimal("172.19") * Decimal("0.5703")
    assert "MARKET_BASED_FALLBACK" not in {f.code for f in statement.findings}
    (use,) = statement.instruments
    assert (use.month_kwh, use.certificates) == (Decimal(50_000), ("GEC-1",))


async def test_manual_entries_are_lines_with_their_evidence_in_the_lineage() -> None:
    statement = await statement_with()
    diesel = next(x for x in statement.lines if x.key.endswith("entry-11"))
    assert diesel.activity_keys == ("entry/11",)
    assert diesel.scope == "1"
    (entry,) = statement.entries
    assert entry.evidence[0][0] == RECEIPT.sha256
    assert RECEIPT.sha256 in canonical(statement.content()).decode()
    other = replace(RECEIPT, sha256="d" * 64)
    changed = await statement_with(replace(INPUTS, entries=(replace(DIESEL, evidence=(other,)),)))
    changed = replace(changed, computed_at=statement.computed_at)
    assert seal(changed, None).hash != seal(statement, None).hash  # the hash covers evidence


async def test_pv_self_consumption_is_shown_and_kept_out_of_every_total() -> None:
    statement = await statement_with()
    pv = next(x for x in statement.lines if x.basis == "memo")
    assert pv.activity == Decimal(149_500)  # 150,000 generated - 500 exported
    assert pv.tco2e == 0
    location = [x for x in statement.lines if x.basis == "location"]
    assert [x.activity for x in location] == [Decimal(222_190)]  # import - export only


async def test_entered_output_wins_and_feeds_site_and_line_kpis() -> None:
    statement = await statement_with()
    assert {o.line: (o.tonnes, o.source) for o in statement.production} == {
        "line-1": (Decimal(1400), "entry"),
        "line-2": (Decimal(600), "entry"),
    }
    codes = {f.code for f in statement.findings}
    assert "PRODUCTION_ENTRY_OVERRIDES_COUNTER" in codes
    kpis = {k.name: k for k in statement.kpis}
    site = kpis["electricity per output"]
    assert (site.numerator, site.denominator) == (Decimal(372_190), Decimal(2000))
    line1 = kpis["line-1: electricity per output"]
    assert (line1.numerator, line1.denominator) == (Decimal(200_000), Decimal(1400))
    (gas,) = statement.allocations
    assert gas.shares == (Decimal(7000), Decimal(3000))  # 10,000 Nm3 by 1,400 : 600 t
    assert kpis["line-2: natural gas per output"].numerator == Decimal(3000)
    carbon = kpis["line-2: carbon per output, location-based"].numerator
    gas_line = next(x for x in statement.lines if x.carrier == "natural_gas")
    assert carbon == gas_line.tco2e * 3000 / 10_000
    assert not codes & BLOCKING


async def test_without_inputs_the_statement_rests_on_the_meters_alone() -> None:
    statement = await compute_statement(book(), MARCH, SOURCE)
    assert statement.entries == ()
    assert statement.instruments == ()
    assert {o.line: o.source for o in statement.production} == {"line-1": "counter"}
    assert "MARKET_BASED_FALLBACK" in {f.code for f in statement.findings}
    assert "LINE_WITHOUT_OUTPUT" in {f.code for f in statement.findings}  # line-2
