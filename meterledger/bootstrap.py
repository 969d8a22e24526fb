"""The composition root: build every part from the plant file and run them together.

Nothing connects at import time; `run_system` opens what the configuration asks for
(embedded services when no URL is set), wires the parts, and on stop closes them in
reverse order, so Ctrl-C or SIGTERM leaves no process behind. The collector's parts stop
in stages (`meterledger.supervision`): sources, then the writer's last drain, then the rest;
the spool closes after all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool

from collector.metrics import CollectorMetrics
from collector.modbus import ModbusGatewayPoller
from collector.mqtt import MqttSubscriber
from collector.spool import Spool
from collector.validation import Validator
from collector.writer import BatchWriter
from ledger.close import SiteBook
from meterledger.books import poll_intervals, site_books
from meterledger.chosen_factors import imported_sets
from meterledger.config import PlantConfig
from meterledger.embedded import embedded_broker, embedded_postgres, free_port
from meterledger.errors import ConfigError
from meterledger.local_admin import local_admin_token
from meterledger.modbus_wiring import device_plan, modbus_simulator, serve_gateway
from meterledger.settings import Settings
from meterledger.simulated_events import record_replacements
from meterledger.supervision import StopRequest, Task, run_until_stopped, serve, wait_started
from meterledger.validators import History, follow_meter_events, history, validator
from simulators.clock import SimClock
from simulators.fault_config import MqttGatewaySimulation
from simulators.meters import MeterModel
from simulators.modbus_gateway import SimulatedModbusGateway
from simulators.mqtt_gateway import SimulatedMqttGateway
from simulators.plant import Wiring, build_models
from store.catalog import MeterConfig, PointRef, sync_catalog
from store.dead_letters import write_dead_letters
from store.migrate import migrate
from store.pool import open_pool
from store.readings import write_packed

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
    clock: SimClock = field(default_factory=SimClock)
    origin: float = 0.0  # the instant the simulated meters' counters start from
    admin_token: str | None = None  # `run`'s local admin token (meterledger.local_admin)

    @property
    def dashboard_url(self) -> str | None:
        """The dashboard, logged in with the local admin token."""
        if self.api_url is None or self.admin_token is None:
            return None
        return f"{self.api_url}/?token={self.admin_token}"


async def run_system(
    config: PlantConfig,
    settings: Settings,
    stop: asyncio.Event,
    *,
    parts: frozenset[str] = PARTS,
    on_ready: Callable[[Runtime], None] = lambda _: None,
    clock: SimClock | None = None,
    local_admin: bool = False,
) -> None:
    """Run the chosen parts until ``stop`` is set or one of them fails.

    ``clock`` is the time simulators and pollers share (default: the wall clock); an
    accelerated one makes a backfill (see `meterledger.simulate`). ``local_admin`` (for
    ``meterledger run``) keeps an admin token in the data dir for the dashboard link.
    """
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
        runtime.clock = clock or runtime.clock
        tasks: dict[str, Task] = {}
        stages: list[dict[str, StopRequest | None]] = []
        server = None
        if "simulate" in parts:
            tasks |= _simulators(config, runtime)
            if pool is not None:  # the plant file's meter replacements, as meter events
                twins = build_models(config.simulation, wiring(config), origin=runtime.origin)
                tasks |= await record_replacements(
                    pool, config, runtime.models, twins, runtime.clock
                )
        if "collect" in parts:
            assert pool is not None
            remembered = await history(pool)
            collector, stages = _collector(config, settings, runtime, pool, stack, remembered)
            tasks |= collector
        books: dict[str, SiteBook] = {}
        if parts & {"serve", "schedule"}:  # one read of the chosen imported factor sets
            assert pool is not None
            books = site_books(config, point_ids, await imported_sets(pool, config.ledger))
        if "serve" in parts:
            assert pool is not None
            # The web stack (~0.5 s and ~15 MB of imports) is loaded only where it serves,
            # so `meterledger collect` does not carry it (issue 4).
            from api.app import create_app, make_server

            intervals = poll_intervals(config, point_ids)
            app = create_app(pool, runtime.registry, books=books, intervals=intervals)
            server = make_server(app, config.api.host, config.api.port)
            runtime.api_url = f"http://{config.api.host}:{config.api.port}"
            if local_admin:
                runtime.admin_token = await local_admin_token(pool, settings.data_dir)
            tasks["api"] = serve(server)
        if "schedule" in parts:
            assert pool is not None
            from meterledger.scheduler import LedgerScheduler  # APScheduler: only here

            scheduler = LedgerScheduler(pool, books, config.ledger)
            tasks["scheduler"] = scheduler.run()
        started = functools.partial(wait_started, server)
        await run_until_stopped(tasks, stop, started, lambda: on_ready(runtime), stages=stages)


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
    clock = runtime.clock
    meters = config.meters()
    runtime.origin = clock.now()
    runtime.models |= build_models(config.simulation, wiring(config), origin=runtime.origin)
    gateways = config.simulation.mqtt_gateways
    unknown = sorted(set(gateways) - {m.id for m in config.sources.mqtt if m.simulated})
    if unknown:
        raise ConfigError("(plant file)", "simulation.mqtt_gateways", f"no such gateway {unknown}")
    tasks: dict[str, Task] = {}
    for source in config.sources.modbus:
        if source.simulated:
            gateway = modbus_simulator(source, runtime.models, clock)
            runtime.modbus_simulators.append(gateway)
            tasks[f"simulated modbus {source.id}"] = serve_gateway(source, gateway)
    for mqtt in config.sources.mqtt:
        if mqtt.simulated:
            assert runtime.mqtt_url is not None
            models = {m: runtime.models[m] for m in mqtt.meters if m in runtime.models}
            topics = {m: mqtt.topic_for(m) for m in models}
            fields = {m: _published(meters[m][1], models[m], clock.now()) for m in models}
            publishing = gateways.get(mqtt.id, MqttGatewaySimulation())
            sim = SimulatedMqttGateway(
                runtime.mqtt_url,
                models,
                topics,
                fields,
                mqtt.publish_interval,
                clock,
                qos=mqtt.qos,
                client_id=f"meterledger-sim-{mqtt.id}",
                batch=publishing.batch,
                timestamps=publishing.timestamps,
                zones={m: ZoneInfo(meters[m][0].timezone) for m in models},
            )
            runtime.mqtt_simulators.append(sim)
            tasks[f"simulated mqtt {mqtt.id}"] = sim.run()
    return tasks


def wiring(config: PlantConfig) -> dict[str, Wiring]:
    """Each simulated meter's site time zone and transformer ratios, from the catalog."""
    meters = config.meters()
    wired = {}
    for meter_id in config.simulation.meters:
        site, meter = meters[meter_id]
        wired[meter_id] = Wiring(site.timezone, meter.ct_ratio, meter.pt_ratio)
    return wired


def _published(meter: MeterConfig, model: MeterModel, now: float) -> tuple[str, ...]:
    """The meter's points its model can fill: what a configured gateway would publish."""
    available = model.values_at(now)
    return tuple(p.id for p in meter.points if p.id in available)


def _collector(
    config: PlantConfig,
    settings: Settings,
    runtime: Runtime,
    pool: AsyncConnectionPool,
    stack: contextlib.AsyncExitStack,
    remembered: History,
) -> tuple[dict[str, Task], list[dict[str, StopRequest | None]]]:
    """The collector's parts, and the stages they stop in: sources, then the writer."""
    metrics = CollectorMetrics(runtime.registry)
    spool = Spool(
        config.collector.spool or settings.data_dir / "spool.sqlite3",
        max_rows=config.collector.spool_max_rows,
    )
    stack.callback(spool.close)

    async def write(packed: bytes, count: int) -> int:
        return await write_packed(pool, packed, count)

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
    sources: dict[str, StopRequest | None] = {}
    judges: list[Validator] = []
    for source in config.sources.modbus:
        plans = [device_plan(d, by_meter, config.meters()[d.meter][1]) for d in source.devices]
        points = {pid: configs[pid] for plan in plans for pid in plan.point_ids.values()}
        judge = validator(config, points, remembered)
        judges.append(judge)
        poller = ModbusGatewayPoller(
            source,
            plans,
            spool,
            metrics,
            judge,
            on_spooled=writer.added,
            clock=runtime.clock.now,  # simulated time in a backfill (`simulate --from`)
            speed=runtime.clock.speed,
        )
        runtime.pollers.append(poller)
        tasks[f"modbus {source.id}"] = poller.run()
        sources[f"modbus {source.id}"] = poller.stop
    if config.sources.mqtt:
        assert runtime.mqtt_url is not None
        meters = {m for source in config.sources.mqtt for m in source.meters}
        points = {pid: configs[pid] for (m, _), pid in by_meter.items() if m in meters}
        judges.append(validator(config, points, remembered))
        subscriber = MqttSubscriber(
            runtime.mqtt_url,
            config.sources.mqtt,
            by_meter,
            spool,
            metrics,
            validator=judges[-1],
            client_id=config.collector.client_id,
            on_spooled=spooled_elsewhere,
        )
        subscriber.start()
        stack.callback(subscriber.stop)  # in case the parts never ran; stopping twice is harmless
        runtime.subscriber = subscriber
        subscribed = asyncio.Event()
        tasks["mqtt"] = _subscribed(subscriber, subscribed)
        sources["mqtt"] = subscribed.set
    # Replacements and resets recorded while running reach the validators within seconds.
    interval = config.collector.event_poll_interval
    known = remembered.discontinuities
    tasks["meter events"] = follow_meter_events(pool, judges, known, metrics, interval=interval)
    return tasks, [sources, {"writer": writer.stop}]


async def _subscribed(subscriber: MqttSubscriber, stopping: asyncio.Event) -> None:
    """Keep the subscriber's network thread running until ``stopping`` is set, then stop it.

    Stopped in a thread: joining paho's thread may wait for a spool append that waits for
    the writer to make room, and the writer needs this event loop for that.
    """
    try:
        await stopping.wait()
    finally:
        await asyncio.to_thread(subscriber.stop)
