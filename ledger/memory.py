"""The roll-up ports over readings held in memory.

Two uses: an auditor's ``verify`` recomputes lines from an export bundle with no database,
and the unit tests run the roll-up against it. It is also the executable statement of what
each port means, which the store's SQL must match row for row (an integration test can
run both on the same readings).

The ledger knows nothing of the collector's quality bits (it may not import ``store``), so
whoever builds this source says which bits reject a reading and which mark a wrap or a
reset; the composition root passes ``store.quality``'s values.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ledger.gauges import bucket_coverage
from ledger.periods import Interval, Month
from ledger.ports import (
    Bracket,
    Break,
    BreakKind,
    BucketMean,
    Coverage,
    MeterEvent,
    PeriodInputs,
    Reading,
)


@dataclass(frozen=True, slots=True)
class QualityBits:
    """Which quality bits reject a reading, and which mark a counter wrap or reset."""

    rejected: int
    wrap: int
    reset: int


class MemorySource:
    """Every roll-up port (`ledger.ports.RollupSource`) over in-memory readings and events."""

    def __init__(
        self,
        bits: QualityBits,
        readings: Mapping[int, Iterable[Reading]],
        events: Mapping[int, Sequence[MeterEvent]] | None = None,
    ) -> None:
        self._bits = bits
        self._readings = {
            point: sorted((r for r in rows if _accepted(r, bits.rejected)), key=_ts)
            for point, rows in readings.items()
        }
        self._times = {point: [r.ts for r in rows] for point, rows in self._readings.items()}
        self._events = {point: sorted(rows, key=_ts) for point, rows in (events or {}).items()}

    def _rows(self, point_id: int) -> tuple[list[Reading], list[datetime]]:
        return self._readings.get(point_id, []), self._times.get(point_id, [])

    async def around(self, point_id: int, instant: datetime) -> Bracket:
        rows, times = self._rows(point_id)
        i = bisect_left(times, instant)
        return Bracket(rows[i - 1] if i > 0 else None, rows[i] if i < len(rows) else None)

    async def breaks(self, point_id: int, first: datetime, last: datetime) -> Sequence[Break]:
        rows, _ = self._rows(point_id)
        found = []
        for i, row in enumerate(rows):
            kind = self._break_kind(row.quality)
            if kind is not None and first <= row.ts <= last:
                found.append(Break(kind, row, rows[i - 1] if i > 0 else None))
        return found

    def _break_kind(self, quality: int) -> BreakKind | None:
        if quality & self._bits.reset:
            return "reset"
        return "wrap" if quality & self._bits.wrap else None

    async def between(self, point_id: int, first: datetime, last: datetime) -> Sequence[MeterEvent]:
        return [e for e in self._events.get(point_id, []) if first <= e.ts <= last]

    async def coverage(
        self, point_id: int, interval: Interval, expected_interval: timedelta
    ) -> Coverage:
        rows = self._in(point_id, interval)
        starts = sorted({_bucket(r.ts, interval, expected_interval) for r in rows})
        buckets = [BucketMean(start, 0.0, 1) for start in starts]
        return bucket_coverage(buckets, interval, expected_interval)

    async def bucket_means(
        self, point_id: int, interval: Interval, bucket: timedelta
    ) -> Sequence[BucketMean]:
        groups: dict[datetime, list[float]] = {}
        for r in self._in(point_id, interval):
            groups.setdefault(_bucket(r.ts, interval, bucket), []).append(r.value)
        return [BucketMean(s, sum(v) / len(v), len(v)) for s, v in sorted(groups.items())]

    def _in(self, point_id: int, interval: Interval) -> list[Reading]:
        rows, times = self._rows(point_id)
        return rows[bisect_left(times, interval.start) : bisect_left(times, interval.end)]


def _bucket(ts: datetime, interval: Interval, width: timedelta) -> datetime:
    """The start of the bucket holding ``ts``, buckets aligned on the interval's start."""
    return interval.start + (ts - interval.start) // width * width


def _accepted(reading: Reading, rejected: int) -> bool:
    """No rejecting flag and a number: NaN has no place in a counter's arithmetic."""
    return not reading.quality & rejected and reading.value == reading.value


def _ts(row: Reading | MeterEvent) -> datetime:
    return row.ts


class MemoryInputs:
    """The `ledger.ports.InputSource` over inputs held in memory (an export, a test)."""

    def __init__(self, inputs: Mapping[tuple[str, Month], PeriodInputs] | None = None) -> None:
        self._inputs = dict(inputs or {})

    async def period_inputs(self, site: str, month: Month) -> PeriodInputs:
        return self._inputs.get((site, month), PeriodInputs())
