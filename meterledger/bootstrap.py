"""The composition root: build every part from the plant file and run them together.

Nothing connects at import time; `run_system` opens what the configuration asks for
(embedded services when no URL is set), wires the parts, and on stop closes them in
reverse order, so Ctrl-C or SIGTERM leaves no process behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from api.app import create_app, make_server
from collector.config import ModbusDeviceConfig, ModbusSourceConfig
from collector.metrics import CollectorMetrics
from collector.modbus import DevicePlan, ModbusGatewayPoller
from collector.mqtt import MqttSubscriber
from collector.readplan import plan_reads
from collector.register_map import load_register_map
from collector.spool import Spool
from collector.validation import PointRules, Validator
from collector.writer import BatchWriter
from meterledger.books import site_books
from meterledger.config import PlantConfig
from meterledger.embedded import embedded_broker, embedded_postgres, free_port
from meterledger.scheduler import LedgerScheduler
from meterledger.settings import Settings
from simulators.clock import SimClock
from simulators.meters import ElectricityMeter, GasMeter, MeterModel
from simulators.modbus_gateway import SimulatedDevice, SimulatedModbusGateway
from simulators.mqtt_gateway import SimulatedMqttGateway
from simulators.profiles import DailyProfile
from store.catalog import MeterConfig, PointConfig, PointRef, sync_catalog
from store.dead_letters import write_dead_letters
from store.events import counter_discontinuities
from store.migrate import migrate
from store.pool import open_pool
from store.quality import REJECTED
from store.readings import baselines, write_readings

log = logging.getLogger(__name__)

PARTS = frozenset({"simulate", "collect", "serve", "schedule"})


@dataclass
class Runtime:
    """What a running system exposes to its caller (the CLI prints it; tests inspect it)."""

    database_url: str | None
    mqtt_url: str | None
    api_url: str | None
    point_ids: dict[PointRef, int]
    registry: CollectorRegistry
    models: dict[str, MeterModel] = field(default_factory=dict)
    modbus_simulators: list[SimulatedModbusGateway] = field(default_factory=list)
    mqtt_simulators: list[SimulatedMqttGateway] = field(default_factory=list)
    pollers: list[ModbusGatewayPoller] = field(default_factory=list)
    subscriber: MqttSubscriber | None = None


Task = Coroutine[Any, Any, None]


async def run_system(
    config: PlantConfig,
    settings: Settings,
    stop: asyncio.Event,
    *,
    parts: frozenset[str] = PARTS,
    on_ready: Callable[[Runtime], None] = lambda _: None,
) -> None:
    """Run the chosen parts until ``stop`` is set or one of them fails."""
    async with contextlib.AsyncExitStack() as stack:
        database_url, point_ids, pool = None, {}, None
        if parts & {"collect", "serve", "schedule"}:  # the simulators alone need no database
            database_url = settings.database_url or stack.enter_context(
                embedded_postgres(settings.data_dir)
            )
            await asyncio.to_thread(migrate, database_url)
            point_ids = await asyncio.to_thread(sync_catalog, database_url, config.sites)
            pool = await open_pool(database_url)
            stack.push_async_callback(pool.close)
        needs_broker = bool(config.sources.mqtt) and parts & {"simulate", "collect"}
        mqtt_url = settings.mqtt_url
        if needs_broker and not mqtt_url:
            mqtt_url = await stack.enter_async_context(embedded_broker(settings.data_dir))
        config = _resolve_ports(config, parts)
        runtime = Runtime(database_url, mqtt_url, None, point_ids, CollectorRegistry())
        tasks: dict[str, Task] = {}
        server = None
        if "simulate" in parts:
            tasks |= _simulators(config, runtime)
        if "collect" in parts:
            assert pool is not None
            history = await _history(pool)
            tasks |= _collector(config, settings, runtime, pool, stack, history)
        if "serve" in parts:
            assert pool is not None
            server = make_server(
                create_app(pool, runtime.registry), config.api.host, config.api.port
            )
            runtime.api_url = f"http://{config.api.host}:{config.api.port}"
            tasks["api"] = _serve(server)
        if "schedule" in parts:
            assert pool is not None
            scheduler = LedgerScheduler(pool, site_books(config, point_ids), config.ledger)
            tasks["scheduler"] = scheduler.run()
        await _run_until_stopped(tasks, stop, lambda: _started(server), lambda: on_ready(runtime))


def _resolve_ports(config: PlantConfig, parts: frozenset[str]) -> PlantConfig:
    """Give port-0 listeners (simulated gateways, the API) a concrete free port."""
    modbus = tuple(
        s.model_copy(update={"port": free_port()}) if s.simulated and s.port == 0 else s
        for s in config.sources.modbus
    )
    api = config.api
    if api.port == 0 and "serve" in parts:
        api = api.model_copy(update={"port": free_port()})
    sources = config.sources.model_copy(update={"modbus": modbus})
    return config.model_copy(update={"sources": sources, "api": api})


def _simulators(config: PlantConfig, runtime: Runtime) -> dict[str, Task]:
    clock = SimClock()
    meters = config.meters()
    for meter_id, spec in config.simulation.meters.items():
        site, _ = meters[meter_id]
        profile = DailyProfile(spec, site.timezone)
        origin = (
            config.simulation.origin.timestamp()
            if config.simulation.origin
            else math.floor(clock.now() / spec.step) * spec.step  # grid on wall-clock steps
        )
        model_type = ElectricityMeter if spec.model == "electricity" else GasMeter
        runtime.models[meter_id] = model_type(profile, spec.initial, origin, spec.step)
    tasks: dict[str, Task] = {}
    for source in config.sources.modbus:
        if source.simulated:
            gateway = _modbus_simulator(source, runtime.models, clock)
            runtime.modbus_simulators.append(gateway)
            tasks[f"simulated modbus {source.id}"] = gateway.run()
    for mqtt in config.sources.mqtt:
        if mqtt.simulated:
            assert runtime.mqtt_url is not None
            models = {m: runtime.models[m] for m in mqtt.meters if m in runtime.models}
            topics = {m: mqtt.topic_for(m) for m in models}
            fields = {m: _published(meters[m][1], models[m], clock.now()) for m in models}
            sim = SimulatedMqttGateway(
                runtime.mqtt_url,
                models,
                topics,
                fields,
                mqtt.publish_interval,
                clock,
                qos=mqtt.qos,
                client_id=f"meterledger-sim-{mqtt.id}",
            )
            runtime.mqtt_simulators.append(sim)
            tasks[f"simulated mqtt {mqtt.id}"] = sim.run()
    return tasks


def _published(meter: MeterConfig, model: MeterModel, now: float) -> tuple[str, ...]:
    """The meter's points its model can fill: what a configured gateway would publish."""
    available = model.values_at(now)
    return tuple(p.id for p in meter.points if p.id in available)


def _modbus_simulator(
    source: ModbusSourceConfig, models: Mapping[str, MeterModel], clock: SimClock
) -> SimulatedModbusGateway:
    devices = []
    for device in source.devices:
        if device.meter not in models:
            log.info(
                "%s unit %d (%s) has no simulation: it will never answer",
                source.id,
                device.unit_id,
                device.meter,
            )
        register_map = load_register_map(device.register_map)
        devices.append(
            SimulatedDevice(device.unit_id, device.meter, register_map, models.get(device.meter))
        )
    return SimulatedModbusGateway(source.host, source.port, devices, clock)


@dataclass(frozen=True)
class History:
    """What the store remembers that the validators need after a restart."""

    baselines: dict[int, tuple[datetime, float]]
    discontinuities: list[tuple[int, datetime]]


async def _history(pool: AsyncConnectionPool) -> History:
    return History(await baselines(pool, REJECTED), await counter_discontinuities(pool))


def _validator(
    config: PlantConfig, points: Mapping[int, PointConfig], history: History
) -> Validator:
    """A validator over ``points``, primed with their last good readings and meter events."""
    limits = config.collector
    rules = {pid: _rules(p, limits.max_future, limits.max_age) for pid, p in points.items()}
    validator = Validator(rules)
    for point_id in points:
        if point_id in history.baselines:
            validator.seed(point_id, *history.baselines[point_id])
    for point_id, ts in history.discontinuities:
        seeded = history.baselines.get(point_id)
        if point_id in points and (seeded is None or ts > seeded[0]):
            validator.note_reset(point_id, ts)
    return validator


def _rules(point: PointConfig, max_future: float, max_age: float) -> PointRules:
    return PointRules(
        kind=point.kind,
        wrap_value=point.wrap,
        min_value=point.min,
        max_value=point.max,
        max_rate=point.max_rate,
        resolution=point.resolution,
        stuck_after=point.stuck_after,
        settle_after=point.settle_after,
        max_future=timedelta(seconds=max_future),
        max_age=timedelta(seconds=max_age),
    )


def _collector(
    config: PlantConfig,
    settings: Settings,
    runtime: Runtime,
    pool: AsyncConnectionPool,
    stack: contextlib.AsyncExitStack,
    history: History,
) -> dict[str, Task]:
    metrics = CollectorMetrics(runtime.registry)
    spool = Spool(
        config.collector.spool or settings.data_dir / "spool.sqlite3",
        max_rows=config.collector.spool_max_rows,
    )
    stack.callback(spool.close)

    async def write(rows: Any) -> int:
        return await write_readings(pool, rows)

    async def write_dead(letters: Any) -> None:
        await write_dead_letters(pool, letters)

    writer = BatchWriter(
        spool,
        write,
        metrics,
        write_dead_letters=write_dead,
        batch_size=config.collector.batch_size,
        flush_interval=config.collector.flush_interval,
    )
    loop = asyncio.get_running_loop()

    def spooled_elsewhere(count: int) -> None:  # from paho's network thread
        loop.call_soon_threadsafe(writer.added, count)

    by_meter = {(ref.meter, ref.point): pid for ref, pid in runtime.point_ids.items()}
    configs = {by_meter[(m.id, p.id)]: p for _, m in config.meters().values() for p in m.points}
    tasks: dict[str, Task] = {"writer": writer.run()}
    for source in config.sources.modbus:
        plans = [_device_plan(device, by_meter) for device in source.devices]
        points = {pid: configs[pid] for plan in plans for pid in plan.point_ids.values()}
        validator = _validator(config, points, history)
        poller = ModbusGatewayPoller(
            source, plans, spool, metrics, validator, on_spooled=writer.added
        )
        runtime.pollers.append(poller)
        tasks[f"modbus {source.id}"] = poller.run()
    if config.sources.mqtt:
        assert runtime.mqtt_url is not None
        meters = {m for source in config.sources.mqtt for m in source.meters}
        points = {pid: configs[pid] for (m, _), pid in by_meter.items() if m in meters}
        subscriber = MqttSubscriber(
            runtime.mqtt_url,
            config.sources.mqtt,
            by_meter,
            spool,
            metrics,
            validator=_validator(config, points, history),
            client_id=config.collector.client_id,
            on_spooled=spooled_elsewhere,
        )
        subscriber.start()
        stack.callback(subscriber.stop)
        runtime.subscriber = subscriber
    return tasks


def _device_plan(device: ModbusDeviceConfig, by_meter: Mapping[tuple[str, str], int]) -> DevicePlan:
    register_map = load_register_map(device.register_map)
    bindings = device.bindings()
    wanted = [(point, register_map[b.register_name]) for point, b in bindings.items()]
    blocks = plan_reads(
        wanted, max_registers=register_map.max_registers_per_read, max_gap=device.max_gap
    )
    return DevicePlan(
        meter=device.meter,
        unit_id=device.unit_id,
        interval=device.interval,
        blocks=tuple(blocks),
        point_ids={point: by_meter[(device.meter, point)] for point in bindings},
        multipliers={point: b.multiplier for point, b in bindings.items()},
    )


async def _started(server: Any) -> None:
    """Return once the API accepts connections (at once when there is no API)."""
    # uvicorn offers a flag, not an event, for "listening"
    while server is not None and not server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.02)


async def _serve(server: Any) -> None:
    serving = asyncio.create_task(server.serve())
    try:
        await asyncio.shield(serving)
    finally:
        server.should_exit = True
        await serving


async def _run_until_stopped(
    tasks: dict[str, Task],
    stop: asyncio.Event,
    started: Callable[[], Coroutine[Any, Any, None]],
    ready: Callable[[], None],
) -> None:
    running = {asyncio.create_task(coro, name=name): name for name, coro in tasks.items()}
    stopper = asyncio.create_task(stop.wait())
    starting = asyncio.create_task(started())
    done, _ = await asyncio.wait([*running, stopper, starting], return_when=asyncio.FIRST_COMPLETED)
    if done == {starting}:
        ready()
        done, _ = await asyncio.wait([*running, stopper], return_when=asyncio.FIRST_COMPLETED)
    starting.cancel()
    for task in running:
        task.cancel()
    results = await asyncio.gather(*running, return_exceptions=True)
    stopper.cancel()
    for task, result in zip(running, results, strict=True):
        if task in done and isinstance(result, BaseException):
            raise RuntimeError(f"{running[task]} stopped: {result}") from result
