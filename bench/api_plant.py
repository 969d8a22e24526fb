"""The data the API benchmarks serve: the example plant with readings from last month to now.

The catalog is ``examples/plant.yaml`` (27 points at one site), synced as ``meterledger``
syncs it. Every point gets a reading every 15 minutes from the start of last month (local
time) until now; the grid's import counter gets one every minute over last month instead,
the month of 1-minute data `api_series` pages through. Counters rise at a steady rate per
point, gauges wave. Loading goes through `store.readings.write_readings`, so the hourly
statistics the ledger and the series read are the writer's own. Loaded once per database:
the benchmarks of one run share it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from bench.processes import ROOT
from ledger.close import SiteBook
from ledger.periods import Month, local_midnight
from meterledger.books import site_book
from meterledger.config import PlantConfig, load_config
from store.access import create_token
from store.catalog import PointRef, sync_catalog
from store.pool import open_pool
from store.readings import Reading, write_readings

PLANT = ROOT / "examples" / "plant.yaml"
SERIES_POINT = ("grid-main", "energy_import")
STEP = timedelta(minutes=15)
FINE = timedelta(minutes=1)
BATCH = 20_000


@dataclass(frozen=True, slots=True)
class ApiPlant:
    """What the API benchmarks need of the loaded plant."""

    config: PlantConfig
    site: str
    zone: str
    ids: dict[PointRef, int]
    intervals: dict[int, float]  # seconds between the readings loaded, by point id
    series_point: int
    last_month: Month  # the whole month of 1-minute data for `series_point`

    def books(self) -> dict[str, SiteBook]:
        """Each site's book, with the expected intervals of the data loaded."""
        return {
            s.id: site_book(s, self.config.ledger, self.ids, self.intervals)
            for s in self.config.sites
        }


def load_plant(database_url: str, now: datetime) -> ApiPlant:
    """Sync the example plant's catalog; describe it and the data `load_readings` writes."""
    config = load_config(PLANT)
    ids = sync_catalog(database_url, config.sites)
    [site] = config.sites
    local = now.astimezone(ZoneInfo(site.timezone)).date()
    series_point = ids[PointRef(site.id, *SERIES_POINT)]
    intervals = {pid: STEP.total_seconds() for pid in ids.values()}
    intervals[series_point] = FINE.total_seconds()
    last_month = Month.of(local.replace(day=1) - timedelta(days=1))
    return ApiPlant(config, site.id, site.timezone, ids, intervals, series_point, last_month)


async def load_readings(plant: ApiPlant, database_url: str, now: datetime) -> int:
    """Write the plant's readings unless this database has them; return the rows written."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT 1 FROM reading WHERE point_id = %s LIMIT 1", (plant.series_point,)
        ).fetchone()
    if row is not None:
        return 0
    start = local_midnight(plant.zone, plant.last_month.first_day)
    kinds = _kinds(plant.config)
    pool = await open_pool(database_url)
    written = 0
    try:
        batch: list[Reading] = []
        for reading in _readings(plant, kinds, start, now):
            batch.append(reading)
            if len(batch) >= BATCH:
                written += await write_readings(pool, batch)
                batch = []
        written += await write_readings(pool, batch)
    finally:
        await pool.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return written


def _kinds(config: PlantConfig) -> dict[tuple[str, str], str]:
    return {(m.id, p.id): p.kind for s in config.sites for m in s.meters for p in m.points}


def _readings(
    plant: ApiPlant, kinds: Mapping[tuple[str, str], str], start: datetime, end: datetime
) -> Iterator[Reading]:
    fine_end = local_midnight(plant.zone, plant.last_month.next().first_day) + timedelta(hours=1)
    for n, (ref, pid) in enumerate(sorted(plant.ids.items(), key=lambda item: item[1])):
        step = FINE if pid == plant.series_point else STEP
        counter = kinds[(ref.meter, ref.point)] == "counter"
        rate = 10.0 + 7.0 * n  # per hour
        ts = start
        while ts <= end:
            if pid == plant.series_point and ts >= fine_end:
                step = STEP
            hours = (ts - start).total_seconds() / 3600
            value = 1000.0 + rate * hours if counter else rate * (1.5 + math.sin(hours / 4))
            yield Reading(pid, ts.astimezone(UTC), value)
            ts += step


async def admin_token(database_url: str, name: str) -> str:
    """A fresh admin token for a benchmark's requests."""
    pool = await open_pool(database_url)
    try:
        issued = await create_token(pool, name, "admin", created_by="bench")
    finally:
        await pool.close()
    return issued.secret
