"""ledger_close: closing a month of 1,000 counter points from 1-minute readings, against 15-minute.

DESIGN.md's promise is that a month costs the same whatever the reading rate: the ledger
reads counters at the period boundaries and coverage from ``reading_hourly``, never the
readings in between. This measures it. One site (Asia/Shanghai, October 2026) of 1,000
counter points in the mix a large plant states (620 electricity import/export, 100 gas,
100 steam mass and heat, 180 water counters that wrap once in the month), main meters over
sub-meters, is loaded twice, each into a fresh database: once read every minute (44.7 M
rows), once every 15 minutes (3.0 M rows), the same physical counters on both grids.

Loading is one ``generate_series`` statement per slice of points, a slice per core (COPY
from Python would take many minutes), with the foreign-key trigger off where the role may
turn it off; ``reading_hourly`` is filled by migration 0004's aggregate, and the tables are
analysed. A sample of points is then deleted and written again through
`store.readings.write_readings` in the collector's batches, and the hourly rows the writer
keeps must match the generated ones. The 1-minute load takes about 4 minutes on 2 cores.

Ours: `ledger.close.compute_statement` over `store.rollup_source.StoreRollupSource`, as
``meterledger ledger close`` runs it, on the 1-minute database. Ceiling: the same on the
15-minute database. Each is run once to warm the caches, then three times, alternating, and
the medians compared. Both statements must state the same quantities, fully covered.

Printed: the 1-minute close in seconds, with the 15-minute close and the cost per point;
ratio = 15-minute / 1-minute, so 1.00 means density costs nothing. Goal: ratio >= 0.67
(the 1-minute close takes at most 1.5x the 15-minute one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import statistics
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg

from bench.report import Result
from bench.services import Services, fresh_database
from ledger.close import SiteBook, compute_statement
from ledger.periods import Month, Period
from ledger.statements import Statement
from meterledger.books import LedgerConfig, site_book
from store.catalog import Carrier, MeterConfig, PointConfig, Role, SiteConfig, sync_catalog
from store.migrate import migrate
from store.pool import open_pool
from store.quality import REJECTED, Quality
from store.readings import Reading, write_readings
from store.rollup_source import StoreRollupSource

ZONE = "Asia/Shanghai"
MONTH = Month(2026, 10)
FINE = timedelta(minutes=1)
COARSE = timedelta(minutes=15)
MARGIN = timedelta(hours=1)  # readings beyond both ends, so the boundaries are bracketed
WATER_WRAP = 100_000.0  # m3: every water counter rolls over once in the month
RUNS = 3
WRITER_BATCH = 5_000  # the collector's default batch (collector/config.py)
WRITER_SAMPLE = 3  # points rewritten through the writer to check the generated statistics
LOADERS = min(4, os.cpu_count() or 1)  # connections generating readings side by side
SECOND = timedelta(seconds=1)

log = logging.getLogger(__name__)


Spec = tuple[str, str, str]  # a point: id, quantity, unit


@dataclass(frozen=True, slots=True)
class Group:
    """Main meters of one carrier, each over ``subs`` sub-meters, and what each one counts."""

    carrier: Carrier
    mains: int
    subs: int
    main_points: tuple[Spec, ...]
    sub_points: tuple[Spec, ...]
    rate: float  # a sub-meter's mean advance per hour
    wrap: float | None = None


IMPORT: Spec = ("energy_import", "energy_import", "kWh")
EXPORT: Spec = ("energy_export", "energy_export", "kWh")
GAS: Spec = ("volume", "volume", "Nm3")
STEAM: Spec = ("mass", "mass", "t")
HEAT: Spec = ("energy", "heat", "GJ")
WATER: Spec = ("volume", "volume", "m3")
# 20 x (2 + 29) + 10 x (1 + 9) + 10 x (2 + 8) + 20 x (1 + 8) = 1,000 points.
GROUPS = (
    Group("electricity", 20, 29, (IMPORT, EXPORT), (IMPORT,), 40.0),
    Group("natural_gas", 10, 9, (GAS,), (GAS,), 12.0),
    Group("steam", 10, 8, (STEAM, HEAT), (STEAM,), 0.8),
    Group("water", 20, 8, (WATER,), (WATER,), 6.0, WATER_WRAP),
)
#: Each counter's advance per hour, relative to its meter's: export is a PV surplus of 2 %,
#: heat 2.74 GJ per t of steam (1 MPa, 200 degC, less feed water at 20 degC).
SCALE = {"energy_export": 0.02, "heat": 2.74}


@dataclass(frozen=True, slots=True)
class Counter:
    """How one generated counter advances: ``base + rate * (h + k sin(2 pi h / 24))``."""

    key: tuple[str, str]  # (meter, point)
    rate: float
    base: float
    wrap: float | None


def plant() -> tuple[SiteConfig, list[Counter]]:
    """The site, and a counter for each of its 1,000 stated points."""
    meters: list[MeterConfig] = []
    counters: list[Counter] = []
    for group in GROUPS:
        for m in range(group.mains):
            main = f"{group.carrier.replace('_', '-')}-{m:02d}"
            rates = [group.rate * (1 + (m + s) % 7 / 10) for s in range(group.subs)]
            for s, rate in enumerate(rates):
                sub = f"{main}-sub-{s:02d}"
                meters.append(_meter(sub, group, "sub", main, group.sub_points))
                counters += _counters(sub, group.sub_points, rate, group.wrap)
            meters.append(_meter(main, group, "main", None, group.main_points))
            # The sub-meters see 90 % of the main meter: the rest is unmetered.
            counters += _counters(main, group.main_points, sum(rates) / 0.9, group.wrap)
    site = SiteConfig(id="bench-close", timezone=ZONE, grid_region="CN", meters=tuple(meters))
    return site, counters


def _meter(
    key: str, group: Group, role: Role, parent: str | None, points: Sequence[Spec]
) -> MeterConfig:
    return MeterConfig(
        id=key,
        carrier=group.carrier,
        role=role,
        parent=parent,
        points=tuple(
            PointConfig(id=p, quantity=q, unit=u, kind="counter", wrap=group.wrap)
            for p, q, u in points
        ),
    )


def _counters(meter: str, points: Sequence[Spec], rate: float, wrap: float | None) -> list[Counter]:
    out: list[Counter] = []
    for point, quantity, _unit in points:
        r = rate * SCALE.get(quantity, 1.0)
        # A wrapping counter starts half a month below its wrap value; the rest anywhere.
        base = wrap - r * 372 if wrap else 10_000.0 + 10 * len(out)
        out.append(Counter((meter, point), r, base, wrap))
    return out


# One statement per slice of points: each counter over the month and a margin, wraps
# flagged on the first reading past the wrap value, as the validator flags them. Hours are
# whole seconds from the month's start over 3600, so both grids compute the same float at
# the same instant; OFFSET 0 keeps the planner from computing each value twice.
_GENERATE = f"""
INSERT INTO reading (point_id, ts, value, quality)
SELECT id, ts,
       CASE WHEN wrap IS NULL THEN raw ELSE raw - wrap * floor(raw / wrap) END,
       CASE WHEN floor(raw / wrap) > floor(prev / wrap) THEN {int(Quality.COUNTER_WRAP)} ELSE 0 END
FROM (
    SELECT c.id, c.wrap, %(first)s::timestamptz + s.i * %(step)s::interval AS ts,
           c.base + c.rate * (s.h + %(k)s * sin(s.h * %(w)s)) AS raw,
           c.base + c.rate * (s.g + %(k)s * sin(s.g * %(w)s)) AS prev
    FROM unnest(%(ids)s::int[], %(rates)s::float8[], %(bases)s::float8[], %(wraps)s::float8[])
         AS c (id, rate, base, wrap)
    CROSS JOIN LATERAL (
        SELECT i, (%(offset)s + i * %(seconds)s) / 3600.0::float8 AS h,
               (%(offset)s + (i - 1) * %(seconds)s) / 3600.0::float8 AS g
        FROM generate_series(0, %(count)s - 1) AS i
    ) AS s
    OFFSET 0
) AS generated"""

# Migration 0004's aggregate, the statistics the writer keeps per point and hour.
_HOURLY = f"""
INSERT INTO reading_hourly
SELECT point_id, date_trunc('hour', ts), count(*), sum(value), min(value), max(value),
       min(ts), max(ts)
FROM reading WHERE quality & {int(REJECTED)} = 0 AND value <> 'NaN' AND point_id = ANY(%(ids)s)
GROUP BY 1, 2"""

_HOURS_OF = """
SELECT hour, n, sum, min, max, first_ts, last_ts FROM reading_hourly
WHERE point_id = %s ORDER BY hour"""


@dataclass(frozen=True, slots=True)
class Loaded:
    """A database holding the site at one reading interval, and its book."""

    url: str
    book: SiteBook
    rows: int
    seconds: float


async def load(url: str, step: timedelta) -> Loaded:
    """Create the site in ``url`` and generate its month of readings every ``step``."""
    site, counters = plant()
    started = time.perf_counter()
    ids = await asyncio.to_thread(sync_catalog, url, (site,))
    point_ids = {(ref.meter, ref.point): pid for ref, pid in ids.items()}
    size = -(-len(counters) // LOADERS)
    slices = [counters[i : i + size] for i in range(0, len(counters), size)]
    params = [_parameters(part, point_ids, step) for part in slices]
    rows = sum(await asyncio.gather(*(asyncio.to_thread(_generate, url, p) for p in params)))
    generated = time.perf_counter()
    await asyncio.to_thread(_settle, url)
    seconds = time.perf_counter() - started
    log.info(
        "ledger_close: %d rows every %s loaded in %.0f s (generated in %.0f s)",
        rows,
        step,
        seconds,
        generated - started,
    )
    intervals = {pid: step.total_seconds() for pid in ids.values()}
    book = site_book(site, LedgerConfig(region="CN"), ids, intervals)
    return Loaded(url, book, rows, seconds)


def _parameters(
    counters: Sequence[Counter], point_ids: Mapping[tuple[str, str], int], step: timedelta
) -> dict[str, object]:
    interval = Period(ZONE, MONTH).interval
    first = interval.start - MARGIN
    return {
        "ids": [point_ids[c.key] for c in counters],
        "rates": [c.rate for c in counters],
        "bases": [c.base for c in counters],
        "wraps": [c.wrap for c in counters],
        "k": 12 / math.pi * 0.5,  # the daily swing: the rate varies by +-50 %
        "w": 2 * math.pi / 24,
        "first": first,
        "step": step,
        "offset": (first - interval.start) // SECOND,
        "seconds": step // SECOND,
        "count": (interval.end + MARGIN - first) // step,
    }


def _generate(url: str, params: Mapping[str, object]) -> int:
    """Generate one slice of points and its hourly statistics; return the rows made."""
    with psycopg.connect(url, autocommit=True) as conn:
        # Skip the per-row check of reading.point_id (every id was just created): it
        # triples the load time. Only a superuser may; others wait longer.
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            conn.execute("SET session_replication_role = replica")
        with conn.transaction():
            rows = conn.execute(_GENERATE, params).rowcount
            conn.execute(_HOURLY, params)
    return rows


def _settle(url: str) -> None:
    """Statistics as autovacuum would have them; the timed closes then start from one state."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE reading, reading_hourly")
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            conn.execute("CHECKPOINT")  # so the closes do not pay for the load's writes


async def check_writer_agrees(loaded: Loaded) -> None:
    """Rewrite a sample of points through the writer; its hourly rows must be the generated ones.

    Sums may differ in the last bits (the writer adds batch by batch), so they are
    compared to 1e-12; counts, extremes and instants must be equal.
    """
    pids = sorted(c.point_id for m in loaded.book.meters for _, c in m.counters.values())
    sample = [pids[0], pids[len(pids) // 2], pids[-1]][:WRITER_SAMPLE]
    with psycopg.connect(loaded.url) as conn:
        generated = {p: conn.execute(_HOURS_OF, (p,)).fetchall() for p in sample}
        rows = [
            Reading(*row)
            for row in conn.execute(
                "SELECT point_id, ts, value, quality FROM reading"
                " WHERE point_id = ANY(%s) ORDER BY point_id, ts",
                (sample,),
            )
        ]
        conn.execute("DELETE FROM reading_hourly WHERE point_id = ANY(%s)", (sample,))
        conn.execute("DELETE FROM reading WHERE point_id = ANY(%s)", (sample,))
    pool = await open_pool(loaded.url, max_size=1)
    try:
        for i in range(0, len(rows), WRITER_BATCH):
            await write_readings(pool, rows[i : i + WRITER_BATCH])
    finally:
        await pool.close()
    with psycopg.connect(loaded.url) as conn:
        for p in sample:
            written = conn.execute(_HOURS_OF, (p,)).fetchall()
            if not _same_hours(generated[p], written):
                raise RuntimeError(f"point {p}: generated hourly rows differ from the writer's")


def _same_hours(ours: list[tuple[Any, ...]], writer: list[tuple[Any, ...]]) -> bool:
    """Rows of ``hour, n, sum, min, max, first_ts, last_ts``: all equal but the sums' last bits."""
    if len(ours) != len(writer) or not ours:
        return False
    return all(
        a[:2] == b[:2] and a[3:] == b[3:] and math.isclose(a[2], b[2], rel_tol=1e-12)
        for a, b in zip(ours, writer, strict=True)
    )


@contextlib.asynccontextmanager
async def closing(loaded: Loaded) -> AsyncIterator[StoreRollupSource]:
    """The roll-up source over a pool of its own, as ``meterledger ledger close`` opens it."""
    pool = await open_pool(loaded.url)
    try:
        yield StoreRollupSource(pool)
    finally:
        await pool.close()


async def timed_close(loaded: Loaded, source: StoreRollupSource) -> tuple[float, Statement]:
    """Seconds one close of the month takes, and the statement."""
    started = time.perf_counter()
    statement = await compute_statement(loaded.book, MONTH, source)
    return time.perf_counter() - started, statement


def check_agree(fine: Statement, coarse: Statement, points: int) -> None:
    """Both densities must state the same quantities, one line a point, fully covered."""
    if len(fine.activities) != points:
        raise RuntimeError(f"{len(fine.activities)} activity lines for {points} points")
    for a, b in zip(fine.activities, coarse.activities, strict=True):
        if (a.key, a.quantity) != (b.key, b.quantity):
            raise RuntimeError(f"{a.key}: {a.quantity} at 1-min, {b.key}: {b.quantity} at 15-min")
        if a.coverage != 1 or b.coverage != 1:
            raise RuntimeError(f"{a.key}: coverage {a.coverage} and {b.coverage}, not 1")


@contextlib.contextmanager
def two_databases(services: Services) -> Iterator[tuple[str, str]]:
    """The run's database for 1-minute readings, and one more for 15-minute readings."""
    with fresh_database(services.database_url) as coarse:
        migrate(coarse)
        yield services.database_url, coarse


async def run(services: Services) -> Result:
    with two_databases(services) as (fine_url, coarse_url):
        coarse = await load(coarse_url, COARSE)
        fine = await load(fine_url, FINE)
        for loaded in (coarse, fine):
            await check_writer_agrees(loaded)
        async with closing(fine) as fine_source, closing(coarse) as coarse_source:
            # The first closes warm the caches, and plan each query for its parameters.
            fine_first, fine_statement = await timed_close(fine, fine_source)
            coarse_first, coarse_statement = await timed_close(coarse, coarse_source)
            check_agree(fine_statement, coarse_statement, len(plant()[1]))
            fine_times, coarse_times = [], []
            for _ in range(RUNS):  # alternating, so a drift in the machine's load hits both
                fine_times.append((await timed_close(fine, fine_source))[0])
                coarse_times.append((await timed_close(coarse, coarse_source))[0])
    points = len(fine_statement.activities)
    ours, ceiling = statistics.median(fine_times), statistics.median(coarse_times)
    log.info(
        "ledger_close: 1-min %.2f s first, then %s s; 15-min %.2f s first, then %s s; "
        "loads %.0f s (%d rows), %.0f s (%d rows)",
        fine_first,
        ", ".join(f"{t:.2f}" for t in fine_times),
        coarse_first,
        ", ".join(f"{t:.2f}" for t in coarse_times),
        fine.seconds,
        fine.rows,
        coarse.seconds,
        coarse.rows,
    )
    unit = (
        f"s to close a month of {points:,} points from 1-min readings "
        f"({ours / points * 1e3:.2f} ms a point; {ours / ceiling:.2f}x the 15-min close, "
        f"{ceiling:.2f} s)"
    )
    return Result("ledger_close", ours, unit, ceiling / ours, decimals=2)
