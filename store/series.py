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
ledger. The readings around every boundary (for counters) come from the same statement:
at whole-hour boundaries from each hour's first and last reading (migration 0010) and one
probe past either end of the page, so a month of hours is one range read; at finer ones,
two index probes a boundary. One round trip a page either way.

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

from ledger.periods import Interval
from ledger.ports import Bracket, Break, CounterSource, Coverage, MeterEvent, Reading
from store.quality import REJECTED
from store.queries import fetch_all
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


class Edge(NamedTuple):
    """The accepted readings either side of a bucket boundary, as plain fields (None where
    there is no such reading): `ledger.ports.Bracket` without building two readings and a
    bracket for each of a page's hundreds of boundaries, most of which never need them."""

    before_ts: datetime | None
    before_value: float | None
    before_quality: int | None
    after_ts: datetime | None
    after_value: float | None
    after_quality: int | None

    @classmethod
    def of(cls, bracket: Bracket) -> Edge:
        b, a = bracket.before, bracket.after
        return cls(
            b.ts if b else None, b.value if b else None, b.quality if b else None,
            a.ts if a else None, a.value if a else None, a.quality if a else None,
        )  # fmt: skip

    def bracket(self) -> Bracket:
        before = after = None
        if self.before_ts is not None:
            assert self.before_value is not None
            assert self.before_quality is not None
            before = Reading(self.before_ts, self.before_value, self.before_quality)
        if self.after_ts is not None:
            assert self.after_value is not None
            assert self.after_quality is not None
            after = Reading(self.after_ts, self.after_value, self.after_quality)
        return Bracket(before, after)


@dataclass(frozen=True, slots=True)
class BucketPage:
    """What one page of buckets is computed from, fetched in one statement.

    ``stats`` by bucket start (buckets without an accepted reading are absent);
    ``edges`` the accepted readings around every boundary (counters only).
    """

    stats: dict[datetime, BucketStats]
    edges: dict[datetime, Edge]


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
    WHERE point_id = %(p)s AND ts < b.t AND {_ACCEPTED}
    ORDER BY ts DESC LIMIT 1) bef ON true
LEFT JOIN LATERAL (
    SELECT ts, value, quality FROM reading
    WHERE point_id = %(p)s AND ts >= b.t AND {_ACCEPTED}
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
    readings around every boundary (`Edge`, `ledger.ports.BoundaryReadings.around`), in one
    statement.

    Statistics of buckets of an hour or more come from ``reading_hourly`` when every
    boundary is a whole UTC hour, otherwise from the accepted raw readings.
    """
    hourly = hourly_fits(bounds)
    if hourly and brackets:
        found = await _from_hours(pool, point_id, bounds, expected)
        if found is not None:
            return found
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
    edges: dict[datetime, Edge] = {}
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
            edges[at] = Edge._make(row[9:])
    return BucketPage(stats, edges)


# A page of whole-UTC-hour buckets of a counter from its hours alone: each hour's statistics
# and first and last reading (migration 0010), and one probe past either end of the page.
_HOURS = f"""
SELECT k, n, sum, min, max, first_ts, last_ts, first_value, first_quality, last_value,
       last_quality
FROM (
    (SELECT 0 AS k, hour, n, sum, min, max, first_ts, last_ts,
            first_value, first_quality, last_value, last_quality
     FROM reading_hourly WHERE point_id = %(p)s AND hour >= %(start)s AND hour < %(end)s)
    UNION ALL
    (SELECT -1, ts, 0, 0, 0, 0, ts, ts, value, quality, value, quality FROM reading
     WHERE point_id = %(p)s AND ts < %(start)s AND {_ACCEPTED} ORDER BY ts DESC LIMIT 1)
    UNION ALL
    (SELECT 1, ts, 0, 0, 0, 0, ts, ts, value, quality, value, quality FROM reading
     WHERE point_id = %(p)s AND ts >= %(end)s AND {_ACCEPTED} ORDER BY ts LIMIT 1)
) h
ORDER BY k, hour"""


async def _from_hours(
    pool: Connections, point_id: int, bounds: Sequence[datetime], expected: timedelta
) -> BucketPage | None:
    """`bucket_page` of a counter at whole-hour bounds, or None where an hour lacks its
    first or last reading (stored before migration 0010 and not recoverable).

    The readings around a boundary are the last of the nearest hour with readings before
    it and the first of the nearest one at or after it: accepted readings in between would
    have made those hours non-empty.
    """
    params = {"p": point_id, "start": bounds[0], "end": bounds[-1]}
    rows = await _rows(pool, _HOURS, params, point_id, binary=True)
    # (k, n, sum, min, max, first_ts, last_ts, first_value, first_quality, last_value,
    # last_quality), hours in time order; an hour's first_ts is before a whole-hour
    # boundary exactly when the hour is.
    hours = [r for r in rows if r[0] == 0]
    if any(r[7] is None or r[9] is None for r in hours):
        return None
    probes = {r[0]: r for r in rows if r[0] != 0}
    b_ts = b_value = b_quality = a_ts = a_value = a_quality = None
    if -1 in probes:
        _, _, _, _, _, _, b_ts, _, _, b_value, b_quality = probes[-1]
    if 1 in probes:
        _, _, _, _, _, a_ts, _, a_value, a_quality, _, _ = probes[1]
    step = expected.total_seconds()
    stats: dict[datetime, BucketStats] = {}
    edges: dict[datetime, Edge] = {}
    j, count, last = 0, len(hours), len(bounds) - 1
    for i, at in enumerate(bounds):
        if j < count:
            _, n, total, low, high, first_ts, _, first_value, first_q, _, _ = hours[j]
            edges[at] = Edge(b_ts, b_value, b_quality, first_ts, first_value, first_q)
        else:
            edges[at] = Edge(b_ts, b_value, b_quality, a_ts, a_value, a_quality)
        if i == last:
            break
        end = bounds[i + 1]
        if j == count or first_ts >= end:
            continue  # no accepted reading in the bucket
        vouched = min(3600.0, n * step)
        j += 1
        while j < count and hours[j][5] < end:  # buckets of more than an hour
            _, hn, h_total, h_low, h_high, _, _, _, _, _, _ = hours[j]
            n, total, vouched = n + hn, total + h_total, vouched + min(3600.0, hn * step)
            low, high = min(low, h_low), max(high, h_high)
            j += 1
        _, _, _, _, _, _, b_ts, _, _, b_value, b_quality = hours[j - 1]
        seconds = min(timedelta(seconds=vouched), end - at)
        stats[at] = BucketStats(at, n, total, low, high, first_ts, b_ts, seconds)
    return BucketPage(stats, edges)


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
    return await fetch_all(pool, sql, params, f"series of point {point_id}", binary=binary)


class PrefetchedCounterSource:
    """The counter ports for one point over one page of buckets, from prefetched rows.

    ``around`` answers the page's bucket boundaries from ``edges`` and asks ``store``
    for any other instant (the readings around a meter event: rare). ``breaks`` and
    ``between`` filter what was fetched for the whole page, which covers every range the
    roll-up of one of its buckets asks about. ``coverage`` is the bucket's statistics;
    its longest gap is measured at the bucket's edges only.
    """

    def __init__(
        self,
        store: CounterSource,
        edges: dict[datetime, Edge],
        breaks: Sequence[Break],
        events: Sequence[MeterEvent],
        stats: dict[datetime, BucketStats],
    ) -> None:
        self._store = store
        self._edges = edges
        self._breaks = list(breaks)
        self._break_ts = [b.reading.ts for b in breaks]
        self._events = list(events)
        self._event_ts = [e.ts for e in events]
        self._stats = stats

    async def around(self, point_id: int, instant: datetime) -> Bracket:
        found = self._edges.get(instant)
        return found.bracket() if found is not None else await self._store.around(point_id, instant)

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
