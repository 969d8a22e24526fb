"""Contractual instruments in a month's market-based scope 2: each MWh used once.

An instrument (a batch of green certificates, a green-power contract) is recorded once
with its MWh and its period. A period longer than a month is shared out over the months
it covers in proportion to their days, with ``allocate``, so the months' parts add up to
the recorded MWh exactly and no month claims the whole (a finding says it was prorated).
A site with several grid meters then draws on the month's parts meter after meter, never
beyond a meter's net import; what is left over is reported once, not dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ledger.emissions import Instrument
from ledger.findings import Finding, allocate
from ledger.periods import Month
from ledger.ports import InstrumentRecord
from ledger.quantities import Quantity, convert, q, rate
from ledger.quantities import subtract as minus

_PLACES = 3  # parts are shared out to the Wh


@dataclass(frozen=True, slots=True)
class InstrumentUse:
    """An instrument as the statement records it: as entered, and this month's part."""

    key: str  # "instrument/3"
    instrument_id: int
    kind: str
    mwh: Decimal
    period_start: date
    period_end: date
    factor: Decimal  # tCO2/MWh
    certificates: tuple[str, ...]
    entered_by: str
    entered_at: datetime
    evidence: tuple[tuple[str, str, str, int], ...]
    month_kwh: Decimal  # the part that falls in this month


def month_part(record: InstrumentRecord, month: Month) -> tuple[Instrument | None, list[Finding]]:
    """Return the instrument's part in ``month`` (None when its period misses the month)."""
    start, end = month.first_day, month.next().first_day
    if record.period_end <= start or record.period_start >= end:
        return None, []
    spans = _months(record.period_start, record.period_end)
    days = [Decimal((b - a).days) for _, a, b in spans]
    total = q(record.mwh, "MWh")
    kwh = convert(total, "kWh").value
    places = max(_PLACES, -_exponent(kwh))
    parts = allocate(kwh, days, places)
    index = [m for m, _, _ in spans].index(month)
    part = parts[index]
    findings = []
    if len(spans) > 1:
        detail = (
            f"{total} over [{record.period_start}, {record.period_end}): "
            f"{days[index]} of {sum(days)} days, {part} kWh in {month}"
        )
        findings.append(Finding("INSTRUMENT_PRORATED", f"instrument/{record.id}", detail, "market"))
    _, a, b = spans[index]
    instrument = Instrument(
        id=str(record.id),
        kind=record.kind,
        energy=q(part, "kWh"),
        period_start=a,
        period_end=b,
        rate=rate(record.factor, "tCO2/MWh"),
    )
    return instrument, findings


def use_of(record: InstrumentRecord, part: Instrument | None) -> InstrumentUse:
    """The statement's record of an instrument and of its part in the month."""
    return InstrumentUse(
        key=f"instrument/{record.id}",
        instrument_id=record.id,
        kind=record.kind,
        mwh=record.mwh,
        period_start=record.period_start,
        period_end=record.period_end,
        factor=record.factor,
        certificates=record.certificates,
        entered_by=record.entered_by,
        entered_at=record.entered_at,
        evidence=tuple((e.sha256, e.filename, e.media_type, e.size) for e in record.evidence),
        month_kwh=convert(part.energy, "kWh").value if part else Decimal(0),
    )


def distribute(
    nets: Sequence[tuple[str, Quantity]], instruments: Sequence[Instrument]
) -> tuple[dict[str, list[Instrument]], list[Finding]]:
    """Give each meter, in order, instrument parts up to its net import.

    An instrument may be split between meters; what no meter can take is one
    ``INSTRUMENTS_EXCEED_CONSUMPTION`` finding per instrument.
    """
    queue = list(instruments)
    out: dict[str, list[Instrument]] = {key: [] for key, _ in nets}
    for key, net in nets:
        room = net
        while queue and room.value > 0:
            item = queue[0]
            energy = convert(item.energy, room.unit)
            if energy.value <= room.value:
                out[key].append(item)
                room = minus(room, energy)
                queue.pop(0)
            else:
                out[key].append(_with_energy(item, room))
                queue[0] = _with_energy(item, minus(energy, room))
                room = Quantity(Decimal(0), room.unit)
    findings = [
        Finding(
            "INSTRUMENTS_EXCEED_CONSUMPTION",
            f"instrument/{item.id}",
            f"{item.energy} of {item.kind} exceeds the net import left; not applied",
            "market",
        )
        for item in queue
        if item.energy.value > 0
    ]
    return out, findings


def _with_energy(item: Instrument, energy: Quantity) -> Instrument:
    return Instrument(item.id, item.kind, energy, item.period_start, item.period_end, item.rate)


def _months(start: date, end: date) -> list[tuple[Month, date, date]]:
    """The months [start, end) touches, each with its clipped span of dates."""
    spans = []
    month = Month.of(start)
    while month.first_day < end:
        a = max(start, month.first_day)
        b = min(end, month.next().first_day)
        spans.append((month, a, b))
        month = month.next()
    return spans


def _exponent(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0
