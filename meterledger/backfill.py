"""Backfill: history through the real protocols, on an accelerated clock.

Simulated gateways and the collector run in one process on one `SimClock`, which starts
paused at ``--from`` while the database and broker come up (at 3600x a second of start-up
would be an hour of history lost) and stops at ``--to``. Every simulated gateway and Modbus
device then reads or publishes once per ``interval`` simulated seconds, meters refresh their
registers on the same ticks (so a poll that ends late still reads its tick's state), and
counters integrate on a step that divides it (at most 60 s). Once the clock has stopped and
the collector has received nothing new for a second, the system stops, and the writer's
final flush commits the rest. Real devices are left out: their readings would be stamped
in simulated time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from collector.config import ModbusDeviceConfig, RegisterBinding
from meterledger.bootstrap import Runtime, run_system, wiring
from meterledger.config import PlantConfig
from meterledger.errors import ConfigError
from meterledger.settings import Settings
from simulators import ground_truth
from simulators.clock import SimClock
from simulators.plant import build_models

log = logging.getLogger(__name__)

PARTS = frozenset({"simulate", "collect"})
MAX_STEP = 60  # s: the coarsest integration step, fine enough for per-minute noise
_TICK_REAL = 0.25  # s of real time a default backfill interval lasts, at least
_INTERVALS = (1, 5, 10, 15, 30, 60, 300, 900, 1800, 3600)  # s, the default candidates
_MAX_FUTURE = 10 * 365 * 86400.0  # s, how far ahead an open-ended backfill may stamp


def default_interval(speed: float) -> int:
    """Simulated seconds between readings such that each tick lasts >= 0.25 s of real time.

    At 3600x that is 900 s (a reading per quarter hour, the usual billing interval); at 1x
    it is 1 s. Shorter ticks than that leave a poll too little real time to end within its
    tick once the machine is busy.
    """
    return next((i for i in _INTERVALS if i / speed >= _TICK_REAL), _INTERVALS[-1])


def step_for(interval: int) -> int:
    """The coarsest integration step (<= 60 s) that divides ``interval``."""
    return next(s for s in range(min(interval, MAX_STEP), 0, -1) if interval % s == 0)


def ground_truth_report(
    config: PlantConfig, t0: float, t1: float, interval: int = MAX_STEP
) -> list[ground_truth.Delivered]:
    """What every simulated meter delivered over [t0, t1) on a backfill's grid.

    The grid is the one a backfill with the same ``interval`` integrates on.
    """
    simulation = config.simulation.model_copy(update={"step": step_for(interval)})
    models = build_models(simulation, wiring(config), origin=t0)
    return ground_truth.report(models, t0, t1)


def backfill_config(
    source: Path, config: PlantConfig, start: float, end: float, interval: int
) -> PlantConfig:
    """The plant as a backfill runs it: simulated sources only, all on one interval."""
    sim = config.simulation
    if sim.origin is not None and sim.origin.timestamp() > start:
        raise ConfigError(
            str(source), "simulation.origin", f"{sim.origin} is after --from: counters start there"
        )
    origin = sim.origin or datetime.fromtimestamp(start, UTC)
    simulation = sim.model_copy(
        update={"origin": origin, "step": step_for(interval), "refresh": float(interval)}
    )
    modbus = tuple(
        s.model_copy(update={"devices": tuple(_every(d, interval) for d in s.devices)})
        for s in config.sources.modbus
        if s.simulated
    )
    mqtt = tuple(
        s.model_copy(update={"publish_interval": float(interval)})
        for s in config.sources.mqtt
        if s.simulated
    )
    sources = config.sources.model_copy(update={"modbus": modbus, "mqtt": mqtt})
    # The MQTT path judges stamps against the wall clock: months-old simulated readings
    # are not stale, nor are simulated future ones early.
    now = time.time()
    collector = config.collector.model_copy(
        update={
            "max_age": max(config.collector.max_age, now - start + 86400),
            "max_future": min(max(config.collector.max_future, end - now + 3600), _MAX_FUTURE),
        }
    )
    return config.model_copy(
        update={"simulation": simulation, "sources": sources, "collector": collector}
    )


def _every(device: ModbusDeviceConfig, interval: int) -> ModbusDeviceConfig:
    points: dict[str, str | RegisterBinding] = {
        point: b if isinstance(b, str) else b.model_copy(update={"interval": None})
        for point, b in device.points.items()
    }
    return device.model_copy(update={"interval": float(interval), "points": points})


@dataclass(frozen=True, slots=True)
class BackfillResult:
    """How a backfill went: simulated and real time, and readings against ticks."""

    simulated: float  # s of simulated time covered
    real: float  # s of real time from release of the clock to the last reading
    expected: int  # readings the ticks in the window call for
    received: int  # readings the collector decoded and spooled
    written: int  # new rows committed

    @property
    def hours_per_second(self) -> float:
        """Simulated hours per real second, the pace the machine held."""
        return self.simulated / 3600 / self.real if self.real else 0.0

    @property
    def coverage(self) -> float:
        """Share of the expected readings that arrived: 1.0 if the machine kept up."""
        return self.received / self.expected if self.expected else 1.0


async def backfill(
    config: PlantConfig,
    settings: Settings,
    window: tuple[float, float | None],
    speed: float,
    interval: int,
    stop: asyncio.Event,
) -> BackfillResult:
    """Run ``config`` (see `backfill_config`) on an accelerated clock over ``window``.

    Return when the clock has reached the window's end and every reading has arrived
    and been committed, or once ``stop`` is set (Ctrl-C), whichever comes first.
    """
    start, end = window
    # A hair before --from, so that --from itself is the first poll and publish tick.
    clock = SimClock(speed=speed, start=start - 1e-3, until=end, paused=True)
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    timing: list[float] = []

    def started(runtime: Runtime) -> None:
        ready.set_result(runtime)

    async def release() -> None:
        runtime = await ready
        await _listening(runtime)
        _catch_up(runtime, start)
        clock.release()
        timing.append(time.monotonic())

    system = asyncio.create_task(
        run_system(config, settings, stop, parts=PARTS, on_ready=started, clock=clock)
    )
    finisher = asyncio.create_task(_finish(clock, ready, stop))
    releaser = asyncio.create_task(release())
    try:
        await system
    finally:
        finisher.cancel()
        releaser.cancel()
    if not timing:
        return BackfillResult(0.0, 0.0, 0, 0, 0)
    runtime, real = ready.result(), time.monotonic() - timing[0]
    ticks = int((clock.now() - start) // interval) + 1
    return BackfillResult(
        simulated=clock.now() - start,
        real=real,
        expected=ticks * _per_tick(runtime),
        received=int(_sample(runtime.registry, "received")),
        written=int(_sample(runtime.registry, "written")),
    )


async def _listening(runtime: Runtime, limit: float = 10.0) -> None:
    """Return once the MQTT subscriber is connected and has had time to subscribe.

    Until then a simulated gateway's first ticks could reach a broker that has no
    session for the collector yet, and be lost.
    """
    deadline = time.monotonic() + limit
    subscriber = runtime.subscriber
    # paho offers a flag, not an event, for "connected"
    while subscriber is not None and not subscriber.connected and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if subscriber is not None:
        await asyncio.sleep(0.3)  # the SUBACK follows the CONNACK by a round trip


def _catch_up(runtime: Runtime, start: float) -> None:
    """Integrate every model from its origin to ``start`` while the clock is paused.

    With an origin long before ``--from`` (a second backfill continuing the counters of a
    first) the first poll would otherwise integrate weeks inside the gateway, hold the
    event loop for seconds of real time, and the pollers would skip the hours that passed.
    """
    for model in runtime.models.values():
        model.values_at(start)


def _per_tick(runtime: Runtime) -> int:
    """Readings one tick of every simulated device and gateway delivers."""
    modbus = sum(len(d.point_ids) for poller in runtime.pollers for d in poller.devices)
    mqtt = sum(len(f) for gateway in runtime.mqtt_simulators for f in gateway.fields.values())
    return modbus + mqtt


async def _finish(clock: SimClock, ready: asyncio.Future[Runtime], stop: asyncio.Event) -> None:
    """Log progress; once the clock stops and readings stop arriving, stop the system."""
    runtime = await ready
    await clock.released()
    while not clock.finished:
        try:
            await asyncio.wait_for(clock.sleep_until(clock.until or math.inf), 10)
        except TimeoutError:
            log.info(
                "simulated time %s, %d readings received",
                datetime.fromtimestamp(clock.now(), UTC).isoformat(timespec="minutes"),
                _sample(runtime.registry, "received"),
            )
    await _settled(runtime.registry)
    stop.set()


async def _settled(registry: CollectorRegistry, quiet: float = 1.0, limit: float = 60) -> None:
    """Return once no reading has arrived for ``quiet`` s (at most ``limit`` s from now)."""
    last, since, deadline = -1.0, time.monotonic(), time.monotonic() + limit
    while time.monotonic() < deadline:
        count = _sample(registry, "received")
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        await asyncio.sleep(0.1)


def _sample(registry: CollectorRegistry, which: str) -> float:
    """Sum of the collector's ``meterledger_readings_<which>`` counter over its labels."""
    name = f"meterledger_readings_{which}_total"
    return sum(s.value for m in registry.collect() for s in m.samples if s.name == name)
