"""Series queries: bucket statistics, counter brackets at many instants, raw pages.

Where each runs: the same SQL on plain PostgreSQL (15 on the development machine, 16 in
the embedded server) and on TimescaleDB 2.19, because it uses only core functions both
have. Fixed buckets (minutes, hours) are ``date_bin(width, ts, origin)`` with the origin
at local midnight; days and months are ``date_trunc('day' | 'month', ts, zone)``, which
is local midnight in the site's zone, DST days included (23 and 25 hours). TimescaleDB's
``time_bucket(width, ts, zone)`` computes the same bins; it is not used because, for
buckets of an hour or more, the input is ``reading_hourly`` (at most 744 rows a month), so
there is nothing for its planner optimisations to win, and one statement for both engines
is one thing to test.

Statistics of buckets of an hour or more come from ``reading_hourly`` when every bucket
boundary falls on a whole UTC hour (any zone with whole-hour offsets); otherwise, and for
minute buckets, from the accepted raw readings. Either way only accepted readings count
(no REJECTED flag, not NaN), as in the ledger.

`PrefetchedCounterSource` answers the ledger's counter ports for a page of buckets from
rows fetched once per page, so the ledger's own roll-up can run bucket by bucket without
a query per bucket.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import psycopg

from ledger.periods import Interval
from ledger.ports import Bracket, Break, CounterSource, Coverage, MeterEvent, Reading
from meterledger.errors import StoreError
from store.quality import REJECTED
from store.transaction import Connections

Bins = Literal["fixed", "day", "month"]
HOUR = timedelta(hours=1)
_ACCEPTED = f"quality & {int(REJECTED)} = 0 AND value <> 'NaN'"


@dataclass(frozen=True, slots=True)
class BucketStats:
    """Accepted readings of one bucket: count, sum, extremes, and the time they vouch for.

    ``vouched`` is what the ledger's coverage credits: one expected interval per reading,
    at most the length of each hour (or minute bucket) holding them.
    """

    start: datetime
    count: int
    total: float
    low: float
    high: float
    first_ts: datetime
    last_ts: datetime
    vouched: timedelta

    @property
    def mean(self) -> float:
        return self.total / self.count


def _bin(bins: Bins, column: str) -> str:
    if bins == "fixed":
        return f"date_bin(%(width)s, {column}, %(origin)s)"
    return f"date_trunc('{bins}', {column}, %(zone)s)"


def hourly_fits(bounds: Sequence[datetime]) -> bool:
    """Whether every boundary is a whole UTC hour, so hourly statistics tile the buckets."""
    return all(b.timestamp() % 3600 == 0 for b in bounds)


async def bucket_stats(
    pool: Connections,
    point_id: int,
    bounds: Sequence[datetime],
    *,
    bins: Bins,
    width: timedelta,
    origin: datetime,
    zone: str,
    expected: timedelta,
) -> dict[datetime, BucketStats]:
    """Statistics of each bucket with readings, keyed by bucket start (``bounds[i]``).

    ``width`` is the fixed bin width (ignored for days and months); buckets without an
    accepted reading are absent.
    """
    start, end = bounds[0], bounds[-1]
    hourly = width >= HOUR and hourly_fits(bounds)
    if hourly:
        sql = f"""
SELECT {_bin(bins, "hour")} AS bin, sum(n), sum(sum), min(min), max(max), min(first_ts),
       max(last_ts), sum(least(3600, n * %(expected)s))
FROM reading_hourly WHERE point_id = %(p)s AND hour >= %(start)s AND hour < %(end)s
GROUP BY 1 ORDER BY 1"""
    else:
        sql = f"""
SELECT {_bin(bins, "ts")} AS bin, count(*), sum(value), min(value), max(value), min(ts),
       max(ts), count(*) * %(expected)s
FROM reading WHERE point_id = %(p)s AND ts >= %(start)s AND ts < %(end)s AND {_ACCEPTED}
GROUP BY 1 ORDER BY 1"""
    params = {
        "p": point_id,
        "start": start,
        "end": end,
        "width": width,
        "origin": origin,
        "zone": zone,
        "expected": expected.total_seconds(),
    }
    found: dict[datetime, BucketStats] = {}
    index = {b: i for i, b in enumerate(bounds)}
    for row in await _rows(pool, sql, params, point_id):
        key = max(row[0], start)  # the first bucket is clipped to the range asked for
        at = index[key] if key in index else bisect_right(bounds, key) - 1
        length = bounds[at + 1] - bounds[at]
        vouched = min(timedelta(seconds=float(row[7])), length)
        _bin_start, n, total, low, high, first_ts, last_ts, _ = row
        found[bounds[at]] = BucketStats(
            bounds[at], int(n), total, low, high, first_ts, last_ts, vouched
        )
    return found


_BRACKETS = f"""
SELECT b.t, bef.ts, bef.value, bef.quality, aft.ts, aft.value, aft.quality
FROM unnest(%(bounds)s::text[]::timestamptz[]) AS b(t)
LEFT JOIN LATERAL (
    SELECT ts, value, quality FROM reading
    WHERE point_id = %(p)s AND ts < b.t AND quality & {int(REJECTED)} = 0
    ORDER BY ts DESC LIMIT 1) bef ON true
LEFT JOIN LATERAL (
    SELECT ts, value, quality FROM reading
    WHERE point_id = %(p)s AND ts >= b.t AND quality & {int(REJECTED)} = 0
    ORDER BY ts LIMIT 1) aft ON true"""


async def brackets(
    pool: Connections, point_id: int, instants: Sequence[datetime]
) -> dict[datetime, Bracket]:
    """`ledger.ports.BoundaryReadings.around` at every instant, in one statement."""
    # ISO text is several times cheaper to send than a list of aware datetimes.
    bounds = [t.isoformat() for t in instants]
    rows = await _rows(pool, _BRACKETS, {"p": point_id, "bounds": bounds}, point_id)
    return {
        t: Bracket(
            Reading(b_ts, b_value, b_quality) if b_ts is not None else None,
            Reading(a_ts, a_value, a_quality) if a_ts is not None else None,
        )
        for t, b_ts, b_value, b_quality, a_ts, a_value, a_quality in rows
    }


_RAW = """
SELECT ts, value, quality FROM reading
WHERE point_id = %(p)s AND ts >= %(start)s AND ts < %(end)s
ORDER BY ts LIMIT %(limit)s"""


async def raw_readings(
    pool: Connections, point_id: int, start: datetime, end: datetime, limit: int
) -> list[tuple[datetime, float, int]]:
    """Stored readings with ``start <= ts < end``, rejected ones included with their flags."""
    params = {"p": point_id, "start": start, "end": end, "limit": limit}
    return [(ts, v, q) for ts, v, q in await _rows(pool, _RAW, params, point_id)]


async def _rows(
    pool: Connections, sql: str, params: dict[str, Any], point_id: int
) -> list[tuple[Any, ...]]:
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(sql.encode(), params)
            return await cur.fetchall()
    except psycopg.Error as exc:
        raise StoreError(f"series of point {point_id}: {exc}") from exc


class PrefetchedCounterSource:
    """The counter ports for one point over one page of buckets, from prefetched rows.

    ``around`` answers the page's bucket boundaries from ``brackets`` and asks ``store``
    for any other instant (the readings around a meter event: rare). ``breaks`` and
    ``between`` filter what was fetched for the whole page, which covers every range the
    roll-up of one of its buckets asks about. ``coverage`` is the bucket's statistics;
    its longest gap is measured at the bucket's edges only.
    """

    def __init__(
        self,
        store: CounterSource,
        brackets: dict[datetime, Bracket],
        breaks: Sequence[Break],
        events: Sequence[MeterEvent],
        stats: dict[datetime, BucketStats],
    ) -> None:
        self._store = store
        self._brackets = brackets
        self._breaks = list(breaks)
        self._break_ts = [b.reading.ts for b in breaks]
        self._events = list(events)
        self._event_ts = [e.ts for e in events]
        self._stats = stats

    async def around(self, point_id: int, instant: datetime) -> Bracket:
        found = self._brackets.get(instant)
        return found if found is not None else await self._store.around(point_id, instant)

    async def breaks(self, point_id: int, first: datetime, last: datetime) -> Sequence[Break]:
        lo, hi = bisect_left(self._break_ts, first), bisect_right(self._break_ts, last)
        return self._breaks[lo:hi]

    async def between(self, point_id: int, first: datetime, last: datetime) -> Sequence[MeterEvent]:
        lo, hi = bisect_left(self._event_ts, first), bisect_right(self._event_ts, last)
        return self._events[lo:hi]

    async def coverage(
        self, point_id: int, interval: Interval, expected_interval: timedelta
    ) -> Coverage:
        stats = self._stats.get(interval.start)
        if stats is None:
            return Coverage(timedelta(0), interval.duration)
        edges = max(stats.first_ts - interval.start, interval.end - stats.last_ts)
        return Coverage(stats.vouched, edges)
