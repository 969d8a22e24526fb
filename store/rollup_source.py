"""The ledger's roll-up ports (`ledger.ports.RollupSource`) over PostgreSQL.

Each answer is a handful of rows whatever the reading density: boundary look-ups and
breaks use the primary key and a partial index; coverage and gauge means come from
``reading_hourly``, the statistics the writer keeps per point and hour. Coverage is exact
across hour boundaries (each hour keeps its first and last reading's instant) and, within
an hour, credits one expected interval per reading, which is what "backed by real
readings" means at any polling rate. A period off the whole UTC hour (a +05:30 site) is
summed from the raw readings instead, by the same definitions (`_RAW_COVERAGE`).
`ledger.memory.MemorySource` is the reference these
queries must agree with; tests/integration/test_rollup_source.py runs both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from psycopg_pool import AsyncConnectionPool

from ledger.periods import Interval
from ledger.ports import (
    Bracket,
    Break,
    BucketMean,
    Coverage,
    MeterEvent,
    RatioChange,
    Reading,
    Splice,
)
from store.quality import BREAKS, REJECTED, Quality
from store.queries import fetch_all

HOUR = timedelta(hours=1)
MICROSECOND = timedelta(microseconds=1)

_AROUND = f"""
(SELECT 0, ts, value, quality FROM reading
 WHERE point_id = %(p)s AND ts < %(t)s AND quality & {int(REJECTED)} = 0
 AND value <> 'NaN' ORDER BY ts DESC LIMIT 1)
UNION ALL
(SELECT 1, ts, value, quality FROM reading
 WHERE point_id = %(p)s AND ts >= %(t)s AND quality & {int(REJECTED)} = 0
 AND value <> 'NaN' ORDER BY ts LIMIT 1)"""

# Breaks a page at a time, in time order. Without statistics on ``quality & 6`` the
# planner takes most of a point's readings for breaks, so a query over the whole month
# is costed in proportion to the reading rate: at 1-minute readings its custom plan went
# parallel with JIT, 100-400 ms for 0.1 ms of work (bench/ledger_close.py). Under a small
# LIMIT the estimate is a few breaks' worth at any rate, and the plan a plain index scan.
BREAKS_PAGE = 10
_BREAKS = f"""
SELECT b.ts, b.value, b.quality, prev.ts, prev.value, prev.quality
FROM (
    SELECT point_id, ts, value, quality FROM reading
    WHERE point_id = %(p)s AND ts > %(after)s AND ts <= %(last)s
      AND quality & {int(BREAKS)} <> 0 AND quality & {int(REJECTED)} = 0
    ORDER BY ts LIMIT {BREAKS_PAGE}
) b
LEFT JOIN LATERAL (
    SELECT ts, value, quality FROM reading r
    WHERE r.point_id = b.point_id AND r.ts < b.ts AND r.quality & {int(REJECTED)} = 0
      AND r.value <> 'NaN'
    ORDER BY r.ts DESC LIMIT 1
) prev ON true
ORDER BY b.ts"""

_EVENTS = """
SELECT e.id, e.ts, e.kind, e.old_value, e.new_value, e.detail
FROM meter_event e JOIN point p ON p.meter_id = e.meter_id
WHERE p.id = %(p)s AND (e.point_id IS NULL OR e.point_id = p.id)
  AND e.kind IN ('replacement', 'reset', 'ratio_change')
  AND e.ts BETWEEN %(first)s AND %(last)s
ORDER BY e.ts, e.id"""

# Coverage in one row: each hour credits one expected interval per reading, at most the
# hour; the longest gap runs between one hour's last reading and the next one's first, the
# period's edges included. Summed here, not in Python: a month is 744 hourly rows a point.
_COVERAGE = """
SELECT coalesce(sum(least(%(hour)s::bigint, n * %(step)s::bigint)), 0)::bigint,
       greatest(interval '0', max(gap), %(end)s - coalesce(max(last_ts), %(start)s))
FROM (
    SELECT n, last_ts, first_ts - lag(last_ts, 1, %(start)s) OVER (ORDER BY hour) AS gap
    FROM reading_hourly
    WHERE point_id = %(p)s AND hour >= %(start)s AND hour < %(end)s
) h"""

_HOURS = """
SELECT hour, n, sum, first_ts, last_ts FROM reading_hourly
WHERE point_id = %(p)s AND hour >= %(start)s AND hour < %(end)s
ORDER BY hour"""

# The same two answers from the raw readings, for a period off the whole UTC hour (a site
# at +05:30 or +05:45): hours are counted from the period's start (date_bin) instead of
# UTC's, the last one clipped to the period. Cost grows with the readings, so it is only
# the fallback; on whole-hour periods it gives exactly what the hourly table gives.
_RAW_HOURS = f"""
SELECT date_bin('1 hour', ts, %(start)s) AS hour, count(*) AS n, sum(value) AS sum,
       min(ts) AS first_ts, max(ts) AS last_ts
FROM reading
WHERE point_id = %(p)s AND ts >= %(start)s AND ts < %(end)s
  AND quality & {int(REJECTED)} = 0 AND value <> 'NaN'
GROUP BY 1"""
_RAW_COVERAGE = f"""
SELECT coalesce(sum(least(%(hour)s::bigint,
                          (extract(epoch FROM %(end)s - hour) * 1e6)::bigint,
                          n * %(step)s::bigint)), 0)::bigint,
       greatest(interval '0', max(gap), %(end)s - coalesce(max(last_ts), %(start)s))
FROM (
    SELECT hour, n, last_ts, first_ts - lag(last_ts, 1, %(start)s) OVER (ORDER BY hour) AS gap
    FROM ({_RAW_HOURS}) r
) h"""
_RAW_BUCKETS = f"""
SELECT date_bin(%(bucket)s, ts, %(start)s), count(*), sum(value)
FROM reading
WHERE point_id = %(p)s AND ts >= %(start)s AND ts < %(end)s
  AND quality & {int(REJECTED)} = 0 AND value <> 'NaN'
GROUP BY 1 ORDER BY 1"""


class StoreRollupSource:
    """Every roll-up port, reading through ``pool``."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def _rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return await fetch_all(self._pool, sql, params, f"roll-up query for point {params['p']}")

    async def around(self, point_id: int, instant: datetime) -> Bracket:
        found = {
            side: Reading(ts, value, quality)
            for side, ts, value, quality in await self._rows(_AROUND, {"p": point_id, "t": instant})
        }
        return Bracket(found.get(0), found.get(1))

    async def breaks(self, point_id: int, first: datetime, last: datetime) -> Sequence[Break]:
        found: list[Break] = []
        after = first - MICROSECOND  # timestamps are whole microseconds: ts >= first
        while True:
            params = {"p": point_id, "after": after, "last": last}
            rows = await self._rows(_BREAKS, params)
            found += [
                Break(
                    "reset" if quality & Quality.COUNTER_RESET else "wrap",
                    Reading(ts, value, quality),
                    Reading(p_ts, p_value, p_quality) if p_ts is not None else None,
                )
                for ts, value, quality, p_ts, p_value, p_quality in rows
            ]
            if len(rows) < BREAKS_PAGE:
                return found
            after = rows[-1][0]

    async def between(self, point_id: int, first: datetime, last: datetime) -> Sequence[MeterEvent]:
        rows = await self._rows(_EVENTS, {"p": point_id, "first": first, "last": last})
        return [_event(*row) for row in rows]

    async def coverage(
        self, point_id: int, interval: Interval, expected_interval: timedelta
    ) -> Coverage:
        params = {
            "p": point_id,
            "start": interval.start,
            "end": interval.end,
            "hour": HOUR // MICROSECOND,
            "step": expected_interval // MICROSECOND,
        }
        sql = _COVERAGE if whole_hours(interval) else _RAW_COVERAGE
        [(covered, longest)] = await self._rows(sql, params)
        return Coverage(min(timedelta(microseconds=covered), interval.duration), longest)

    async def bucket_means(
        self, point_id: int, interval: Interval, bucket: timedelta
    ) -> Sequence[BucketMean]:
        params = {"p": point_id, "start": interval.start, "end": interval.end, "bucket": bucket}
        if bucket % HOUR or not whole_hours(interval):  # buckets the hours do not tile
            rows = await self._rows(_RAW_BUCKETS, params)
            return [BucketMean(start, total / n, n) for start, n, total in rows]
        groups: dict[datetime, tuple[int, float]] = {}
        for hour, n, total, _first, _last in await self._rows(_HOURS, params):
            start = interval.start + (hour - interval.start) // bucket * bucket
            count, value = groups.get(start, (0, 0.0))
            groups[start] = (count + n, value + total)
        return [BucketMean(s, total / n, n) for s, (n, total) in sorted(groups.items())]


def whole_hours(interval: Interval) -> bool:
    """Whether the interval starts and ends on whole UTC hours, which the hourly table tiles."""
    return not (interval.start.timestamp() % 3600 or interval.end.timestamp() % 3600)


def _event(
    event_id: int,
    ts: datetime,
    kind: str,
    old_value: float | None,
    new_value: float | None,
    detail: dict[str, Any],
) -> MeterEvent:
    if kind == "ratio_change":
        return RatioChange(
            event_id,
            ts,
            Decimal(str(detail["multiplier_before"])),
            Decimal(str(detail["multiplier_after"])),
            detail.get("value"),
        )
    return Splice(
        event_id, ts, "replacement" if kind == "replacement" else "reset", old_value, new_value
    )
