"""meterledger under measurement, started through its own composition root.

The simulators run as ``meterledger simulate`` in a child process (their CPU is not the
collector's); the collector runs in this process as ``run_system(parts={"collect"})``,
the very call behind ``meterledger collect``, so what is measured is what ships.
Progress is read from the collector's Prometheus counters: no hook inside the code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from bench.processes import child, wait_for_ports
from bench.services import Services
from meterledger.bootstrap import Runtime, run_system
from meterledger.config import PlantConfig
from meterledger.settings import Settings

COLLECT = frozenset({"collect"})

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def simulating(plant_file: Path, ports: Sequence[int]) -> AsyncIterator[None]:
    """Run ``meterledger simulate`` on the plant file until the block exits."""
    log_file = plant_file.with_suffix(".simulate.log")
    args = ("-m", "meterledger", "simulate", "--config", str(plant_file))
    async with child(*args, log=log_file) as process:
        await wait_for_ports(process, ports, log_file)
        yield


class Collector:
    """A running collector, watched through its metrics."""

    def __init__(self, task: asyncio.Task[None], registry: CollectorRegistry) -> None:
        self._task = task
        self._registry = registry

    async def sleep(self, seconds: float) -> None:
        """Sleep, but raise at once if the collector stops: its figures would lie."""
        await asyncio.wait([self._task], timeout=max(0.0, seconds))
        if self._task.done():
            raise RuntimeError("the collector stopped") from self._task.exception()

    async def until(self, condition: Callable[[], bool], within: float, what: str) -> None:
        """Return once ``condition()`` holds (checked every 20 ms); raise naming ``what``.

        Every check reads the registry in the collector's own process and competes with it
        for the interpreter: checked every 5 ms, the watching took about a tenth of the
        ingest run's GIL time (py-spy, issue 4). 20 ms adds at most 0.3 % to a 7 s run.
        """
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not happen within {within:.0f} s")
            await self.sleep(0.02)

    def polls(self, sources: Sequence[str]) -> int:
        """Successful Modbus device polls so far, over the given gateways."""
        return sum(self._sample("meterledger_poll_seconds_count", source=s) for s in sources)

    def received(self, source: str) -> int:
        """Readings spooled (and, over MQTT, acknowledged) so far from one source."""
        return self._sample("meterledger_readings_received_total", source=source)

    def written(self) -> int:
        """Readings committed to the database so far (new rows only)."""
        return self._sample("meterledger_readings_written_total")

    def _sample(self, name: str, **labels: str) -> int:
        return int(self._registry.get_sample_value(name, labels) or 0)


@contextlib.asynccontextmanager
async def collecting(config: PlantConfig, services: Services) -> AsyncIterator[Collector]:
    """Run the collector part of ``config`` in this process until the block exits."""
    settings = Settings(
        database_url=services.database_url,
        mqtt_url=services.mqtt_url,
        data_dir=services.workdir / "data",
    )
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_system(config, settings, stop, parts=COLLECT, on_ready=ready.set_result)
    )
    try:
        started: list[asyncio.Future[Any]] = [task, ready]
        await asyncio.wait(started, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            raise RuntimeError("the collector did not start") from task.exception()
        yield Collector(task, ready.result().registry)
    finally:
        stop.set()
        await _stopped(task)


async def _stopped(task: asyncio.Task[None]) -> None:
    """Wait for the collector to stop; cancel it again if it seems slow to.

    A backstop only: the collector asks its pollers to stop and waits for them in stages
    (`meterledger.supervision`), even when cancelled meanwhile, so a repeated cancel
    cannot make it close the spool under a running poller.
    """
    for _ in range(10):
        done, _ = await asyncio.wait([task], timeout=2)
        if done:
            break
        log.warning("the collector missed its stop (see bench.system._stopped); cancelling again")
        task.cancel()
    if not task.done():
        raise RuntimeError("the collector does not stop")
    if not task.cancelled() and task.exception() is not None:
        raise RuntimeError("the collector failed while stopping") from task.exception()
