"""The Modbus poller against a real pymodbus server serving the simulated SDM630."""

import asyncio
import logging
import struct
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gateways import serving
from prometheus_client import CollectorRegistry

from collector.config import ModbusDeviceConfig, ModbusSourceConfig
from collector.metrics import CollectorMetrics
from collector.modbus import DevicePlan, ModbusGatewayPoller
from collector.readplan import ReadGroup, plan_reads
from collector.register_map import load_register_map
from collector.spool import Spool
from collector.validation import PointRules, Validator
from meterledger.embedded import free_port
from simulators.clock import SimClock
from simulators.config import MeterSimulation
from simulators.meters import ElectricityMeter
from simulators.modbus_gateway import SimulatedDevice, SimulatedModbusGateway
from simulators.profiles import DailyProfile

pytestmark = pytest.mark.serial  # counts polls per real second: run alone (tests/run.sh)
SDM630 = load_register_map("eastron_sdm630")
POINTS = {"energy": "import_energy", "power": "total_power", "v1": "phase_1_voltage"}


def float32(value: float) -> float:
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


def plan(unit_id: int, first_point_id: int) -> DevicePlan:
    wanted = [(point, SDM630[name]) for point, name in POINTS.items()]
    return DevicePlan(
        meter=f"meter-{unit_id}",
        unit_id=unit_id,
        groups=(ReadGroup(1.0, tuple(plan_reads(wanted, max_registers=80))),),
        point_ids={p: first_point_id + i for i, p in enumerate(POINTS)},
        multipliers=dict.fromkeys(POINTS, 1.0),
    )


@pytest.fixture
async def gateway() -> SimulatedModbusGateway:
    spec = MeterSimulation(model="electricity", base=50, peak=200, initial=1000, seed=1)
    meter = ElectricityMeter(DailyProfile(spec, "Europe/Berlin"), 1000, time.time() // 1, 1)
    sim = SimulatedModbusGateway(
        "127.0.0.1", free_port(), [SimulatedDevice(1, "meter-1", SDM630, meter)], SimClock()
    )
    async with serving(sim):
        yield sim


def poller(sim: SimulatedModbusGateway, tmp_path: Path, units: list[int]) -> ModbusGatewayPoller:
    source = ModbusSourceConfig(
        id="gw",
        port=sim.port,
        timeout=0.3,
        retry_backoff=0.5,
        retry_backoff_max=2,
        devices=tuple(
            ModbusDeviceConfig(
                meter=f"meter-{u}",
                unit_id=u,
                register_map="eastron_sdm630",
                interval=1,
                points=POINTS,
            )
            for u in units
        ),
    )
    return ModbusGatewayPoller(
        source,
        [plan(u, 10 * u) for u in units],
        Spool(tmp_path / "spool.db"),
        CollectorMetrics(CollectorRegistry()),
        Validator({10 * u + i: PointRules(kind="gauge") for u in units for i in range(3)}),
    )


async def test_poll_decodes_what_the_meter_exposes(
    gateway: SimulatedModbusGateway, tmp_path: Path
) -> None:
    reader = poller(gateway, tmp_path, [1])
    rows = await reader.poll(plan(1, 10), datetime.now(UTC))
    exposed = gateway.exposed[-1].values
    by_point = {r.point_id: r.value for r in rows}
    assert by_point[10] == float32(exposed["import_energy"])
    assert by_point[11] == float32(exposed["total_power"])
    assert by_point[12] == float32(exposed["phase_1_voltage"])
    assert len(gateway.exposed) == 3  # three requests: the map's gaps are not read across


async def test_silent_device_is_retried_without_slowing_its_neighbour(
    gateway: SimulatedModbusGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="collector.modbus")
    reader = poller(gateway, tmp_path, [1, 7])  # unit 7 is configured but never answers
    task = asyncio.create_task(reader.run())
    await asyncio.sleep(6.2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    _, rows = reader._spool.peek(10_000)
    ticks = Counter(r.ts for r in rows if r.point_id == 10)
    assert len(ticks) >= 5, f"unit 1 polled only {len(ticks)} times in 6 s"
    assert all(t.microsecond == 0 for t in ticks), "ticks are aligned to whole seconds"
    assert not any(r.point_id >= 70 for r in rows)
    dead = reader.states[7]
    assert dead.failures >= 2, "the silent device is retried"
    assert any("meter-7 failed" in m for m in caplog.messages)
