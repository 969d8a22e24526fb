"""Series queries: a page of buckets (statistics and counter brackets) in one statement, raw pages.

Where each runs: the same SQL on plain PostgreSQL (15 on the development machine, 16 in
the embedded server) and on TimescaleDB 2.19, because it uses only core functions both
have. Buckets are given by their boundaries, computed in the site's time zone by
`api.buckets` (DST days of 23 and 25 hours, months), and rows are assigned to them with
``width_bucket(ts, boundaries)``, so one statement serves minutes, hours, days and months.
TimescaleDB's ``time_bucket`` is not used: for buckets of an hour or more the input is
``reading_hourly`` (at most 744 rows a month), so there is nothing for its planner
optimisations to win, and one statement for both engines is one thing to test.

Statistics of buckets come from ``reading_hourly`` when every bucket boundary falls on a
whole UTC hour (any zone with whole-hour offsets); otherwise from the accepted raw
readings. Either way only accepted readings count (no REJECTED flag, not NaN), as in the
ledger. The readings around every boundary (for counters) come from the same statement,
two index probes a boundary: one round trip a page.

`PrefetchedCounterSource` answers the ledger's counter ports for a page of buckets from
rows fetched once per page, so the ledger's own roll-up can run bucket by bucket without
a query per bucket.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import psycopg

from ledger.periods import Interval
from ledger.ports import Bracket, Break, CounterSource, Coverage, MeterEvent, Reading
from meterledger.errors import StoreError
from store.quality import REJECTED
from store.transaction import Connections

_ACCEPTED = f"quality & {int(REJECTED)} = 0 AND value <> 'NaN'"


class BucketStats(NamedTuple):
    """Accepted readings of one bucket: count, sum, extremes, and the time they vouch for.

    ``vouched`` is what the ledger's coverage credits: one expected interval per reading,
    at most the length of each hour (or minute bucket) holding them. A named tuple: a
    page builds hundreds, and a frozen dataclass costs several times more to build.
    """

    start: datetime
    readings: int
    total: float
    low: float
    high: float
    first_ts: datetime
    last_ts: datetime
    vouched: timedelta

    @property
    def mean(self) -> float:
        return self.total / self.readings


def hourly_fits(bounds: Sequence[datetime]) -> bool:
    """Whether every boundary is a whole UTC hour, so hourly statistics tile the buckets."""
    return all(b.timestamp() % 3600 == 0 for b in bounds)


@dataclass(frozen=True, slots=True)
class BucketPage:
    """What one page of buckets is computed from, fetched in one statement.

    ``stats`` by bucket start (buckets without an accepted reading are absent);
    ``brackets`` the accepted readings around every boundary (counters only).
    """

    stats: dict[datetime, BucketStats]
    brackets: dict[datetime, Bracket]


# Buckets by position: width_bucket(x, bounds) is i when bounds[i-1] <= x < bounds[i] (1-based),
# whatever their widths (minutes, DST days, months), so no bin arithmetic is repeated here.
_HOURLY_STATS = """
SELECT width_bucket(hour, (SELECT a FROM bounds)) AS i, sum(n), sum(sum), min(min),
       max(max), min(first_ts), max(last_ts), sum(least(3600, n * %(expected)s))
FROM reading_hourly WHERE point_id = %(p)s AND hour >= %(start)s AND hour < %(end)s
GROUP BY 1"""
_RAW_STATS = f"""
SELECT width_bucket(ts, (SELECT a FROM bounds)) AS i, count(*), sum(value),
       min(value), max(value), min(ts), max(ts), count(*) * %(expected)s
FROM reading WHERE point_id = %(p)s AND ts >= %(start)s AND ts < %(end)s AND {_ACCEPTED}
GROUP BY 1"""
_AROUND = f"""
LEFT JOIN LATERAL (
    SELECT ts, value, quality FROM reading
    WHERE point_id = %(p)s AND ts < b.t AND quality & {int(REJECTED)} = 0
    ORDER BY ts DESC LIMIT 1) bef ON true
LEFT JOIN LATERAL (
    SELECT ts, value, quality FROM reading
    WHERE point_id = %(p)s AND ts >= b.t AND quality & {int(REJECTED)} = 0
    ORDER BY ts LIMIT 1) aft ON true"""


def _page_sql(hourly: bool, around: bool) -> str:
    brackets = (
        "bef.ts, bef.value, bef.quality, aft.ts, aft.value, aft.quality"
        if around
        else ("NULL, NULL, NULL, NULL, NULL, NULL")
    )
    return f"""
WITH bounds AS (SELECT %(bounds)s::timestamptz[] AS a),
s AS ({_HOURLY_STATS if hourly else _RAW_STATS})
SELECT b.i, s.*, {brackets}
FROM unnest((SELECT a FROM bounds)) WITH ORDINALITY AS b(t, i)
LEFT JOIN s ON s.i = b.i {_AROUND if around else ""}
ORDER BY b.i"""


async def bucket_page(
    pool: Connections,
    point_id: int,
    bounds: Sequence[datetime],
    *,
    expected: timedelta,
    brackets: bool,
) -> BucketPage:
    """Statistics of each bucket ``[bounds[i], bounds[i+1])`` and, with ``brackets``, the
    readings around every boundary (`ledger.ports.BoundaryReadings.around`), in one statement.

    Statistics of buckets of an hour or more come from ``reading_hourly`` when every
    boundary is a whole UTC hour, otherwise from the accepted raw readings.
    """
    hourly = hourly_fits(bounds)
    params = {
        "p": point_id,
        # One array literal of ISO texts: several times cheaper to send than a list of
        # aware datetimes, or of strings (each of which psycopg checks for quoting).
        "bounds": "{" + ",".join(t.isoformat() for t in bounds) + "}",
        "start": bounds[0],
        "end": bounds[-1],
        "expected": expected.total_seconds(),
    }
    stats: dict[datetime, BucketStats] = {}
    around: dict[datetime, Bracket] = {}
    last = len(bounds)
    # Binary results: a page is hundreds of rows of timestamps, parsed faster than text.
    for row in await _rows(pool, _page_sql(hourly, brackets), params, point_id, binary=True):
        i, _, n, total, low, high, first_ts, last_ts, vouched = row[:9]
        at = bounds[i - 1]
        if n is not None and i < last:
            length = bounds[i] - at
            seconds = min(timedelta(seconds=float(vouched)), length)
            stats[at] = BucketStats(at, int(n), total, low, high, first_ts, last_ts, seconds)
        if brackets:
            b_ts, b_value, b_quality, a_ts, a_value, a_quality = row[9:]
            around[at] = Bracket(
                Reading(b_ts, b_value, b_quality) if b_ts is not None else None,
                Reading(a_ts, a_value, a_quality) if a_ts is not None else None,
            )
    return BucketPage(stats, around)


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
    pool: Connections, sql: str, params: dict[str, Any], point_id: int, *, binary: bool = False
) -> list[tuple[Any, ...]]:
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(sql.encode(), params, binary=binary)
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
