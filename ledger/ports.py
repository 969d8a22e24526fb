"""Ports through which the ledger reads meter data; ``store`` implements them.

Each port answers with a handful of rows however dense the readings are: a month of one
counter costs two boundary look-ups, one look-up of the few readings where the counter
broke (wraps, resets), one of the few meter events, and one aggregate for coverage. Nothing
here ever hands the ledger a month of raw readings, so the roll-up costs points x periods,
not readings (DESIGN.md, "Consumption from counters at the period boundaries").

The ports are async because the store is; the arithmetic behind them is not
(`ledger.counters`), so an auditor can recompute a line from the evidence it carries.

The inputs no meter sees (manual entries with their evidence files, contractual
instruments, entered production) come through `InputSource` as the store holds them:
Decimal values with their unit strings, which the ledger checks (`ledger.manual`).

Every port sees *accepted* readings only: a reading whose flags include one of the
validator's REJECTED flags (collector/validation.py) is invisible here, as it never became
its point's baseline. Values stay floats, as stored; the ledger converts them to Decimal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, Protocol

from ledger.periods import Interval, Month


@dataclass(frozen=True, slots=True)
class Reading:
    """One accepted reading of a point: what the table holds, nothing computed."""

    ts: datetime
    value: float
    quality: int = 0


@dataclass(frozen=True, slots=True)
class Bracket:
    """The accepted readings on either side of an instant.

    ``before`` is the last with ``ts < instant`` and ``after`` the first with
    ``ts >= instant``: a reading at the instant itself belongs to what starts there, as a
    period is half-open and as the validator counts a reading at a reset's instant as the
    new meter's. Either is None where the point has no such reading.
    """

    before: Reading | None
    after: Reading | None

    def readings(self) -> tuple[Reading, ...]:
        return tuple(r for r in (self.before, self.after) if r is not None)


BreakKind = Literal["wrap", "reset"]


@dataclass(frozen=True, slots=True)
class Break:
    """An accepted counter reading flagged COUNTER_WRAP or COUNTER_RESET, with the one before.

    ``previous`` is the accepted reading immediately before ``reading`` (None for a
    point's first reading): the ledger differences exactly that step, so it needs it.
    """

    kind: BreakKind
    reading: Reading
    previous: Reading | None


@dataclass(frozen=True, slots=True)
class Splice:
    """A meter replacement or reset: the stored value jumps at ``ts``.

    ``final_value`` is the old register's last value, ``initial_value`` the new one's
    first (from ``meter_event.old_value`` and ``new_value``); None when not recorded.
    Readings at or after ``ts`` are the new register's.
    """

    event_id: int
    ts: datetime
    kind: Literal["replacement", "reset"]
    final_value: float | None
    initial_value: float | None


@dataclass(frozen=True, slots=True)
class RatioChange:
    """A CT/PT change: increases of the stored value count ``multiplier_after`` from ``ts``.

    The multipliers are those of this point's stored values (1 where the collector
    applies the ratio itself). ``value`` is the stored value at the change when someone
    read it; otherwise the ledger interpolates it from the readings around ``ts``.
    """

    event_id: int
    ts: datetime
    multiplier_before: Decimal
    multiplier_after: Decimal
    value: float | None = None


MeterEvent = Splice | RatioChange


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of an interval real readings back, and the longest stretch without any."""

    covered: timedelta
    longest_gap: timedelta


@dataclass(frozen=True, slots=True)
class BucketMean:
    """The mean of a gauge's accepted readings over ``[start, start + bucket)``."""

    start: datetime
    mean: float
    count: int


class BoundaryReadings(Protocol):
    async def around(self, point_id: int, instant: datetime) -> Bracket:
        """Return the accepted readings on either side of ``instant`` (see `Bracket`)."""
        ...


class CounterBreaks(Protocol):
    async def breaks(self, point_id: int, first: datetime, last: datetime) -> Sequence[Break]:
        """Return the point's breaks with ``first <= ts <= last``, oldest first.

        Closed at both ends: a break at the very instant of a boundary reading changes
        how that reading is differenced.
        """
        ...


class MeterEvents(Protocol):
    async def between(self, point_id: int, first: datetime, last: datetime) -> Sequence[MeterEvent]:
        """Return the splices and ratio changes hitting the point, ``first <= ts <= last``.

        Oldest first; manual readings are not events here.
        """
        ...


class CoverageSource(Protocol):
    async def coverage(
        self, point_id: int, interval: Interval, expected_interval: timedelta
    ) -> Coverage:
        """Measure the interval in buckets of ``expected_interval`` aligned on its start.

        ``covered`` is the total length of the buckets holding at least one accepted
        reading (the last bucket clipped to the interval); ``longest_gap`` the longest run
        of empty buckets, the interval's edges included (the whole interval when empty).
        """
        ...


class GaugeSeries(Protocol):
    async def bucket_means(
        self, point_id: int, interval: Interval, bucket: timedelta
    ) -> Sequence[BucketMean]:
        """Return the mean of accepted readings per bucket aligned on the interval's start.

        Oldest first; buckets without readings are left out, not zero.
        """
        ...


class CounterSource(BoundaryReadings, CounterBreaks, MeterEvents, CoverageSource, Protocol):
    """Everything the counter roll-up reads, as one object the store hands in."""


class RollupSource(CounterSource, GaugeSeries, Protocol):
    """Everything a roll-up of counters and gauges reads."""


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """A file kept as evidence, named by the SHA-256 of its bytes (the store keeps them)."""

    sha256: str
    filename: str
    media_type: str
    size: int


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """A manual activity entry as stored: something no meter sees, such as diesel bought,
    a refrigerant top-up or road freight, with the files that prove it.

    ``factor`` names a chosen factor record (``set/id``), otherwise the category's default
    applies; ``gas`` is the refrigerant; ``density`` converts litres of fuel to mass.
    """

    id: int
    category: str
    quantity: Decimal
    unit: str
    description: str
    entered_by: str
    entered_at: datetime
    factor: str | None = None
    gas: str | None = None
    density: Decimal | None = None
    density_unit: str | None = None
    evidence: tuple[EvidenceRef, ...] = ()


@dataclass(frozen=True, slots=True)
class InstrumentRecord:
    """A contractual instrument as stored: MWh over ``[period_start, period_end)`` at its
    own factor (tCO2/MWh), with the certificate ids and the files that prove it."""

    id: int
    kind: str
    mwh: Decimal
    period_start: date
    period_end: date
    factor: Decimal
    certificates: tuple[str, ...]
    entered_by: str
    entered_at: datetime
    evidence: tuple[EvidenceRef, ...] = ()


@dataclass(frozen=True, slots=True)
class ProductionRecord:
    """A line's output for a month as entered (tonnes), and where the figure comes from."""

    id: int
    line: str
    tonnes: Decimal
    source: str
    entered_by: str
    entered_at: datetime


@dataclass(frozen=True, slots=True)
class PeriodInputs:
    """Everything entered for a site's month."""

    entries: tuple[EntryRecord, ...] = ()
    instruments: tuple[InstrumentRecord, ...] = ()
    production: tuple[ProductionRecord, ...] = ()


class InputSource(Protocol):
    async def period_inputs(self, site: str, month: Month) -> PeriodInputs:
        """Return the live (not voided) inputs of a site's month.

        Entries and production of that month, oldest first; instruments whose period
        overlaps the month's local dates (the ledger takes the month's share).
        """
        ...
