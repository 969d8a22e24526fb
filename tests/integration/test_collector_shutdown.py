"""The collector stops in order: sources first, then the writer's last drain, then the spool.

A Modbus poller running flat out is the hard case: on Python 3.11 it may shrug off a
cancel (CPython gh-86296, see meterledger.supervision), and whatever it polled must still
reach the spool before the writer drains it for the last time and the spool closes.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from gateways import serving
from waiting import eventually

from collector.register_map import load_register_map
from collector.spool import Spool
from meterledger.bootstrap import Runtime, run_system
from meterledger.config import PlantConfig, load_config
from meterledger.embedded import free_port
from meterledger.settings import Settings
from simulators.clock import SimClock
from simulators.config import MeterSimulation
from simulators.meters import ElectricityMeter
from simulators.modbus_gateway import SimulatedDevice, SimulatedModbusGateway
from simulators.profiles import DailyProfile

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"
POINTS = 3  # grid-main's energy, power and voltage, read in one group
POLLS = 100  # before the stop: enough rounds that the poller is in full swing


@pytest.fixture
async def gateway() -> AsyncIterator[SimulatedModbusGateway]:
    spec = MeterSimulation(model="electricity", base=50, peak=200, initial=1000, seed=7)
    meter = ElectricityMeter(DailyProfile(spec, "Europe/Berlin"), 1000, time.time() // 1, 1)
    device = SimulatedDevice(1, "grid-main", load_register_map("eastron_sdm630"), meter)
    sim = SimulatedModbusGateway("127.0.0.1", free_port(), [device], SimClock())
    async with serving(sim):
        yield sim


def flat_out(port: int) -> PlantConfig:
    """The small plant's SDM630 on the test's gateway, polled as fast as it answers."""
    config = load_config(PLANT)
    (source,) = config.sources.modbus
    device = source.devices[0].model_copy(update={"interval": 0.001})
    source = source.model_copy(update={"simulated": False, "port": port, "devices": (device,)})
    sources = config.sources.model_copy(update={"modbus": (source,), "mqtt": ()})
    return config.model_copy(update={"sources": sources})


async def collecting(
    gateway: SimulatedModbusGateway, database_url: str, tmp_path: Path, stop: asyncio.Event
) -> tuple[asyncio.Task[None], Runtime]:
    """Start the collector and return once it has polled ``POLLS`` times."""
    config = flat_out(int(gateway.port))
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    running = asyncio.create_task(
        run_system(config, settings, stop, parts=frozenset({"collect"}), on_ready=ready.set_result)
    )
    runtime = await asyncio.wait_for(ready, 30)
    await eventually(lambda: polls(runtime) >= POLLS)
    return running, runtime


def polls(runtime: Runtime) -> int:
    """Successful device polls: each one's rows are held for the spool before it counts."""
    labels = {"source": "gateway"}
    return int(runtime.registry.get_sample_value("meterledger_poll_seconds_count", labels) or 0)


def stored(database_url: str, spool_path: Path) -> set[tuple[int, int]]:
    """Every (point id, Unix microsecond) in the database or left in the spool."""
    with psycopg.connect(database_url) as conn:
        written = conn.execute(
            "SELECT point_id, (extract(epoch FROM ts) * 1000000)::bigint FROM reading"
        ).fetchall()
    spool = Spool(spool_path)
    try:
        _, spooled = spool.peek_rows(1_000_000)
    finally:
        spool.close()
    return {(p, us) for p, us in written} | {(p, us) for p, us, _, _ in spooled}


def complaints(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_stopping_a_busy_poller_writes_every_polled_row_and_logs_nothing(
    gateway: SimulatedModbusGateway,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    stop = asyncio.Event()
    running, runtime = await collecting(gateway, database_url, tmp_path, stop)
    stop.set()
    await asyncio.wait_for(running, 30)

    assert complaints(caplog) == []
    assert len(stored(database_url, tmp_path / "spool.sqlite3")) == polls(runtime) * POINTS
    spool = Spool(tmp_path / "spool.sqlite3")
    try:
        assert spool.depth() == 0  # the writer's last drain came after the poller's last rows
    finally:
        spool.close()


async def test_cancelled_while_stopping_it_still_stops_its_parts_before_closing_the_spool(
    gateway: SimulatedModbusGateway,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """As `bench.system` does when a stop seems slow: cancel the whole system."""
    stop = asyncio.Event()
    running, runtime = await collecting(gateway, database_url, tmp_path, stop)
    stop.set()
    await asyncio.sleep(0)  # the system starts stopping its parts...
    running.cancel()  # ...and is cancelled in the middle of it
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(running, 30)
    polled = polls(runtime)
    await asyncio.sleep(0.2)  # a part that outlived the stop would poll and spool on now

    assert polls(runtime) == polled
    assert len(stored(database_url, tmp_path / "spool.sqlite3")) == polled * POINTS
    assert complaints(caplog) == []
