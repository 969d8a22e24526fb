"""poll_cpu: CPU time of the collector per meter poll, against a bare pymodbus loop.

Ours: 100 simulated Eastron SDM630s (two gateways, unit ids 1-50 on each) polled every
second for six values (four reads each) by the collector as ``meterledger collect`` runs
it: requests, decoding, validation, spool, metrics and the batched database write. The
simulators run in a child process (``meterledger simulate``) and the database server is
a process of its own, so the CPU counted (`time.process_time`: every thread of this
process) is the collector's alone. The window spans whole seconds from a quiet moment
between rounds, so it holds complete rounds with their writes.

Ceiling: one bare pymodbus client per gateway reading the same four blocks of every meter
once a second, from the same simulators, and nothing else; measured the same way, before
and after ours, and averaged.

Printed: our CPU per poll in ms; ratio = the bare loop's CPU per poll / ours, so 1.00 is
as cheap as the bare loop and lower is worse. DESIGN.md's bar: a bare loop spends 0.37 ms,
meterledger aims for <= 0.5 ms per poll including decoding, spool and the batched write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from bench import plant
from bench.bare_modbus import connected, poll_every, poll_round
from bench.plant import Gateway
from bench.report import Result
from bench.services import Services
from bench.system import collecting, simulating
from meterledger.config import PlantConfig

GATEWAYS = 2
METERS_PER_GATEWAY = 50
INTERVAL = 1.0  # DESIGN.md's bar is for meters polled every second
WARMUP = 3.0  # connections, the pool, the first rounds
WINDOW = 15  # whole seconds: 1,500 polls
BARE_WINDOW = 5  # whole seconds, before and after ours: 1,000 polls
QUIET_PHASE = 0.8  # s into each second: a round (~0.2 s) and its write are done by then

log = logging.getLogger(__name__)


async def run(services: Services) -> Result:
    gateways = plant.free_gateways("cpu", GATEWAYS, METERS_PER_GATEWAY)
    plant_file = services.workdir / "poll_cpu.yaml"
    spool = services.workdir / "poll_cpu.spool"
    config = plant.save(plant.sdm630_plant(gateways, interval=INTERVAL, spool=spool), plant_file)
    async with simulating(plant_file, [g.port for g in gateways]):
        before = await bare_cpu_per_poll(gateways)
        ours = await collector_cpu_per_poll(config, services, gateways)
        after = await bare_cpu_per_poll(gateways)
    bare = (before + after) / 2  # either side of ours: a drift in the machine's load cancels
    log.info("poll_cpu: bare %.3f ms before, %.3f ms after", before * 1e3, after * 1e3)
    return Result("poll_cpu", ours * 1e3, "ms per meter poll", bare / ours, decimals=3)


async def bare_cpu_per_poll(gateways: Sequence[Gateway]) -> float:
    """CPU seconds per poll of the bare loop, polling every second like the collector."""
    blocks = plant.sdm630_blocks()
    async with connected(gateways) as clients:
        await poll_round(clients, gateways, blocks)
        await asyncio.sleep((QUIET_PHASE - time.time()) % 1.0)
        cpu, until = time.process_time(), time.time() + BARE_WINDOW
        polls = await poll_every(clients, gateways, blocks, INTERVAL, until)
        return (time.process_time() - cpu) / polls


async def collector_cpu_per_poll(
    config: PlantConfig, services: Services, gateways: Sequence[Gateway]
) -> float:
    """CPU seconds per poll of the collector, polling and writing as in service."""
    names = [g.name for g in gateways]
    async with collecting(config, services) as collector:
        await collector.sleep(WARMUP)
        await collector.sleep((QUIET_PHASE - time.time()) % 1.0)
        polls, cpu = collector.polls(names), time.process_time()
        await collector.sleep(WINDOW)
        polls, cpu = collector.polls(names) - polls, time.process_time() - cpu
    expected = WINDOW * GATEWAYS * METERS_PER_GATEWAY
    if polls < 0.95 * expected:
        raise RuntimeError(f"only {polls} of {expected} polls were made: the figure would lie")
    return cpu / polls
