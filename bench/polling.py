"""polling: Modbus device polls per second through one gateway, against a bare pymodbus loop.

Ours: the collector (as ``meterledger collect`` runs it) polling 10 simulated SDM630s
behind one gateway, served by ``meterledger simulate`` in a child process. The interval
is shorter than a round, so every device is always due and the poller runs flat out,
validation, spool and the batched database write included. A gateway serialises its
requests, so the rate is set by the round trip, and what the collector adds to each
round trip shows directly.

Ceiling: a bare pymodbus client reading the same blocks of the same devices in a loop,
before and after ours, averaged.

Printed: our polls/s; ratio = ours / bare (1.00 = as fast as the bare loop).
Goal: ratio >= 0.8.
"""

from __future__ import annotations

import logging
import time

from bench import plant
from bench.bare_modbus import connected, poll_all_until
from bench.plant import Gateway
from bench.report import Result
from bench.services import Services
from bench.system import collecting, simulating
from meterledger.config import PlantConfig

DEVICES = 10
INTERVAL = 0.001  # s; a round of 10 devices takes longer, so every device is always due
WARMUP = 1.0
SECONDS = 5.0

log = logging.getLogger(__name__)


async def run(services: Services) -> Result:
    (gateway,) = plant.free_gateways("rate", 1, DEVICES)
    plant_file = services.workdir / "polling.yaml"
    spool = services.workdir / "polling.spool"
    config = plant.save(plant.sdm630_plant([gateway], interval=INTERVAL, spool=spool), plant_file)
    async with simulating(plant_file, [gateway.port]):
        before = await bare_rate(gateway)
        ours = await collector_rate(config, services, gateway)
        after = await bare_rate(gateway)
    bare = (before + after) / 2  # either side of ours: a drift in the machine's load cancels
    log.info("polling: bare %.0f polls/s before, %.0f after", before, after)
    return Result("polling", ours, "polls/s", ours / bare)


async def bare_rate(gateway: Gateway) -> float:
    """Polls per second of the bare loop, after a short warm-up."""
    blocks = plant.sdm630_blocks()
    async with connected([gateway]) as clients:
        await poll_all_until(clients, [gateway], blocks, time.monotonic() + WARMUP)
        started = time.monotonic()
        polls = await poll_all_until(clients, [gateway], blocks, started + SECONDS)
        return polls / (time.monotonic() - started)


async def collector_rate(config: PlantConfig, services: Services, gateway: Gateway) -> float:
    """Polls per second of the collector, writing to the database meanwhile."""
    async with collecting(config, services) as collector:
        await collector.sleep(WARMUP)
        polls, started = collector.polls([gateway.name]), time.monotonic()
        await collector.sleep(SECONDS)
        polls, elapsed = collector.polls([gateway.name]) - polls, time.monotonic() - started
    return polls / elapsed
