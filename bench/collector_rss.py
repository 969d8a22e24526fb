"""collector_rss: resident memory of a collector polling 1,000 Modbus devices.

Ours: ``meterledger collect`` itself, in a child process, with a plant of 1,000 simulated
SDM630s (5 gateways x 200 unit ids; ids stop at 247 per gateway) polled every 5 s for six
values, served by ``meterledger simulate`` in another process. Its VmRSS is read from
/proc once every device has been polled and written (every point has a reading in the
table) and a few seconds more have passed, so the figure holds the steady state: device
plans, connections, validator state, metrics per meter, spool and writer buffers.

Ceiling: a Python process that imports the same libraries as the collector and stores
nothing (`bench.bare_imports`).

Printed: our RSS in MB (10^6 bytes); ratio = ceiling / ours (1.00 = no more than the
imports alone, lower is worse). Goal: under 200 MB.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import psycopg

from bench import plant
from bench.processes import child, expect_line, failure, rss_bytes
from bench.report import Result
from bench.services import Services
from bench.system import simulating

GATEWAYS = 5
METERS_PER_GATEWAY = 200
INTERVAL = 5.0  # s; memory does not depend on it, the time to the first full round does
SETTLE = 3.0  # s after every device was first written, before reading VmRSS
TIMEOUT = 90.0  # s for the catalog sync, the connections and one full round
MB = 1e6

log = logging.getLogger(__name__)


async def run(services: Services) -> Result:
    gateways = plant.free_gateways("rss", GATEWAYS, METERS_PER_GATEWAY)
    plant_file = services.workdir / "collector_rss.yaml"
    spool = services.workdir / "collector_rss.spool"
    plant.save(plant.sdm630_plant(gateways, interval=INTERVAL, spool=spool), plant_file)
    bare = await bare_rss(services.workdir)
    async with simulating(plant_file, [g.port for g in gateways]):
        ours = await collector_rss(plant_file, services)
    log.info("collector_rss: bare imports %.1f MB", bare / MB)
    return Result("collector_rss", ours / MB, "MB", bare / ours, decimals=1)


async def bare_rss(workdir: Path) -> int:
    """RSS in bytes of a process that imports the collector's libraries."""
    log_file = workdir / "bare_imports.log"
    async with child("-m", "bench.bare_imports", log=log_file, talk=True) as process:
        await expect_line(process, "ready", log_file, within=60)
        await asyncio.sleep(0.5)
        return rss_bytes(process.pid)


async def collector_rss(plant_file: Path, services: Services) -> int:
    """RSS in bytes of ``meterledger collect`` in its steady state."""
    log_file = plant_file.with_suffix(".collect.log")
    env = {
        "METERLEDGER_DATABASE_URL": services.database_url,
        "METERLEDGER_DATA_DIR": str(services.workdir / "collector_rss"),
    }
    args = ("-m", "meterledger", "collect", "--config", str(plant_file))
    async with child(*args, log=log_file, env=env) as process:
        deadline = time.monotonic() + TIMEOUT
        wanted = GATEWAYS * METERS_PER_GATEWAY * len(plant.POINTS)
        while await asyncio.to_thread(_points_with_readings, services.database_url) < wanted:
            if process.returncode is not None:
                raise failure(f"meterledger collect exited with {process.returncode}", log_file)
            if time.monotonic() > deadline:
                raise failure(f"not every device was read within {TIMEOUT:.0f} s", log_file)
            await asyncio.sleep(0.5)
        await asyncio.sleep(SETTLE)
        return rss_bytes(process.pid)


def _points_with_readings(database_url: str) -> int:
    """How many points of this benchmark's meters have at least one reading."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            """SELECT count(*) FROM point p JOIN meter m ON m.id = p.meter_id
               WHERE m.key LIKE 'rss%'
                 AND EXISTS (SELECT 1 FROM reading r WHERE r.point_id = p.id)"""
        ).fetchone()
    return int(row[0]) if row else 0
