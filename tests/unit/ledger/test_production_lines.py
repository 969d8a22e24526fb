"""Production per line, allocation of shared meters, per-line KPIs, PV, the scope-2 check."""

from datetime import UTC, datetime
from decimal import Decimal

from ledger.checks import total_covers_metered_scope2
from ledger.ports import ProductionRecord
from ledger.product_lines import LineBook, Metered, SharedMeter, line_kpis
from ledger.production import outputs
from ledger.quantities import q
from ledger.self_consumption import pv_line
from ledger.statements import Line, Statement

NOON = datetime(2026, 4, 2, 12, tzinfo=UTC)


def produced(line: str, tonnes: str, entry_id: int = 1, at: datetime = NOON) -> ProductionRecord:
    return ProductionRecord(entry_id, line, Decimal(tonnes), "MES month report", "planner", at)


def test_an_entered_output_wins_over_the_counter_and_says_so() -> None:
    made, findings = outputs({"line-cups": Decimal("412.3")}, [produced("line-cups", "406")])
    assert [(o.line, o.tonnes, o.source, o.counter) for o in made] == [
        ("line-cups", Decimal(406), "entry", Decimal("412.3"))
    ]
    assert [f.code for f in findings] == ["PRODUCTION_ENTRY_OVERRIDES_COUNTER"]
    assert "412.3" in findings[0].detail
    assert "406" in findings[0].detail


def test_an_entry_fills_in_for_a_line_without_counter_and_agreeing_sources_are_quiet() -> None:
    made, findings = outputs(
        {"line-cups": Decimal(406)},
        [produced("line-cups", "406"), produced("line-bottles", "203", 2)],
    )
    assert {o.line: o.tonnes for o in made} == {"line-bottles": 203, "line-cups": 406}
    assert findings == ()


def test_shared_meter_split_by_output_conserves_the_total_as_in_the_brief() -> None:
    kpis, allocations, findings = line_kpis(
        [LineBook("line-a"), LineBook("line-b")],
        [SharedMeter("ws-utilities", ("line-a", "line-b"))],
        {"ws-utilities": Metered("electricity", Decimal(42033), "sub")},
        {"line-a": Decimal(406), "line-b": Decimal(203)},
        {},
    )
    (split,) = allocations
    assert split.shares == (Decimal(28022), Decimal(14011))  # 42,033 kWh over 406 + 203
    assert sum(split.shares) == split.total
    by_name = {k.name: k for k in kpis}
    a, b = by_name["line-a: electricity per output"], by_name["line-b: electricity per output"]
    assert (a.numerator, a.denominator) == (Decimal(28022), Decimal(406))
    assert a.value == b.value  # split by output: the same kWh/t on both lines
    assert findings == ()


def test_fixed_weights_split_a_meter_and_dedicated_meters_count_whole() -> None:
    kpis, allocations, _ = line_kpis(
        [LineBook("line-a", ("filler-a",)), LineBook("line-b")],
        [
            SharedMeter(
                "boiler-gas", ("line-a", "line-b"), {"line-a": Decimal(3), "line-b": Decimal(1)}
            )
        ],
        {
            "filler-a": Metered("electricity", Decimal(1000), "sub"),
            "boiler-gas": Metered("natural_gas", Decimal("1000.4"), "main"),
        },
        {"line-a": Decimal(10), "line-b": Decimal(5)},
        {
            ("natural_gas", "location"): Decimal("0.002"),
            ("natural_gas", "market"): Decimal("0.002"),
        },
    )
    assert allocations[0].shares == (Decimal("750.3"), Decimal("250.1"))
    by_name = {k.name: k for k in kpis}
    assert by_name["line-a: electricity per output"].numerator == Decimal(1000)
    assert by_name["line-a: natural gas per output"].numerator == Decimal("750.3")
    carbon = by_name["line-b: carbon per output, location-based"]
    assert carbon.numerator == Decimal("250.1") * Decimal("0.002")
    assert "line-b: electricity per output" not in by_name  # line b has no electricity


def test_a_line_without_output_gets_no_kpis_and_a_finding() -> None:
    kpis, allocations, findings = line_kpis(
        [LineBook("line-a", ("filler-a",))],
        [SharedMeter("ws", ("line-a",))],
        {
            "filler-a": Metered("electricity", Decimal(5), "sub"),
            "ws": Metered("electricity", Decimal(5), "sub"),
        },
        {},
        {},
    )
    assert kpis == ()
    assert allocations == ()
    assert {f.code for f in findings} == {"LINE_WITHOUT_OUTPUT", "ALLOCATION_IMPOSSIBLE"}


def test_pv_self_consumption_is_a_memo_line_with_no_emissions() -> None:
    line, findings = pv_line(q(150_000, "kWh"), q(20_000, "kWh"), ("pv-roof",), ())
    assert (line.activity, line.tco2e) == (Decimal(130_000), Decimal(0))
    assert (line.basis, line.scope) == ("memo", "none")
    assert "150000 kWh - 20000 kWh = 130000 kWh" in line.formula
    assert findings == ()
    statement = Statement("s", "2026-03", 1, (line,))
    assert statement.total("location") == statement.total("market") == 0


def test_export_above_generation_is_a_finding_and_no_negative_self_consumption() -> None:
    line, findings = pv_line(q(10_000, "kWh"), q(12_000, "kWh"), ("pv-roof",), ())
    assert line.activity == 0
    assert [f.code for f in findings] == ["PV_EXPORT_EXCEEDS_GENERATION"]


def scope2(tco2e: str, basis: str = "location", meter: str | None = "grid-main") -> Line:
    return Line(
        f"scope2/{basis}/{meter}", "2", "purchased electricity", "electricity", meter,
        Decimal(1), "kWh", "f", "1", Decimal(tco2e), "E = A × EF", basis,
    )  # fmt: skip


def test_a_total_below_the_metered_scope_2_is_a_finding() -> None:
    negative = Line(
        "scope1/x", "1", "fuel combustion", "diesel", None, Decimal(-1), "t", "f", "1",
        Decimal(-5), "E", "direct",
    )  # fmt: skip
    fine = Statement("s", "2026-03", 1, (scope2("127.000107"), scope2("100", "market")))
    assert total_covers_metered_scope2(fine) == []
    broken = Statement("s", "2026-03", 1, (*fine.lines, negative))
    found = total_covers_metered_scope2(broken)
    assert [f.code for f in found] == ["TOTAL_BELOW_METERED_SCOPE2"] * 2
    assert "122.000107" in found[0].detail
    assert "127.000107" in found[0].detail
