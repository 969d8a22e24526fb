"""Contractual instruments: a month's part of each, each MWh used once across meters."""

from datetime import UTC, date, datetime
from decimal import Decimal

from ledger.emissions import Instrument
from ledger.instruments import distribute, month_part
from ledger.periods import Month
from ledger.ports import InstrumentRecord
from ledger.quantities import q, rate


def record(mwh: str, start: date, end: date, factor: str = "0") -> InstrumentRecord:
    return InstrumentRecord(
        id=3,
        kind="GEC",
        mwh=Decimal(mwh),
        period_start=start,
        period_end=end,
        factor=Decimal(factor),
        certificates=("GEC-2026-000123",),
        entered_by="energy.manager",
        entered_at=datetime(2026, 1, 5, tzinfo=UTC),
    )


def test_an_instrument_inside_the_month_applies_whole() -> None:
    part, findings = month_part(record("50", date(2026, 3, 1), date(2026, 4, 1)), Month(2026, 3))
    assert part is not None
    assert part.energy == q("50000.000", "kWh")
    assert findings == []


def test_a_yearly_instrument_is_shared_out_by_days_and_adds_up_exactly() -> None:
    yearly = record("100", date(2026, 1, 1), date(2027, 1, 1))
    parts = []
    for number in range(1, 13):
        part, findings = month_part(yearly, Month(2026, number))
        assert part is not None
        parts.append(part.energy.value)
        assert [f.code for f in findings] == ["INSTRUMENT_PRORATED"]
    assert sum(parts) == Decimal(100_000)  # kWh: nothing lost to rounding, nothing made up
    assert parts[1] < parts[0]  # February has 28 days, January 31
    assert abs(parts[0] - Decimal(100_000) * 31 / 365) < Decimal("0.001")


def test_an_instrument_for_another_month_does_not_apply() -> None:
    part, findings = month_part(record("50", date(2026, 5, 1), date(2026, 6, 1)), Month(2026, 3))
    assert (part, findings) == (None, [])


def test_two_meters_draw_on_the_instruments_in_turn_and_the_surplus_is_reported_once() -> None:
    green = Instrument(
        "1", "PPA", q(150, "MWh"), date(2026, 3, 1), date(2026, 4, 1), rate(0, "tCO2/MWh")
    )
    shares, findings = distribute(
        [("grid-a", q(100_000, "kWh")), ("grid-b", q(30_000, "kWh"))], [green]
    )
    a, b = shares["grid-a"], shares["grid-b"]
    assert [x.energy.value for x in a] == [Decimal(100_000)]
    assert [x.energy.value for x in b] == [Decimal(30_000)]
    assert [f.code for f in findings] == ["INSTRUMENTS_EXCEED_CONSUMPTION"]
    assert "20000 kWh" in findings[0].detail
