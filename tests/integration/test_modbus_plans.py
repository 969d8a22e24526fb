"""What the poller reads, how often and how it scales, against a real pymodbus server.

Per-point intervals, a dead device backing off all its read plans, CT/PT ratios, a
device's own register limit, function codes 1-4, and a simulated clock.
"""

import asyncio
import itertools
import math
import struct
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from collector.config import ModbusDeviceConfig, ModbusSourceConfig
from collector.metrics import CollectorMetrics
from collector.modbus import DevicePlan, ModbusGatewayPoller
from collector.readplan import ReadGroup, plan_reads
from collector.register_map import RegisterMap, load_register_map
from collector.spool import Spool
from collector.validation import PointRules, Validator
from meterledger.embedded import free_port
from meterledger.modbus_wiring import device_plan
from simulators.clock import SimClock
from simulators.modbus_gateway import SimulatedDevice, SimulatedModbusGateway
from store.catalog import MeterConfig

pytestmark = pytest.mark.serial  # counts polls per real second: run alone (tests/run.sh)
ROOT = Path(__file__).resolve().parents[2]
SDM630 = load_register_map("eastron_sdm630")
IO_MAP = str(ROOT / "tests" / "fixtures" / "registermaps" / "function_codes.yaml")
NEW_YEAR_2026 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class Ramp:
    """SDM630 values as simple functions of the second."""

    def grid(self, t: float) -> float:
        return math.floor(t)

    def values_at(self, t: float) -> dict[str, float]:
        second = self.grid(t)
        return {
            "import_energy": 1000 + (second % 1000) / 8,
            "total_power": 1500 + second % 60,
            "phase_1_voltage": 57.5,
            "phase_2_voltage": 58.0,
            "phase_3_voltage": 58.5,
            "phase_1_current": 2.5,
        }


class IoBox:
    """One value per Modbus table (tests/fixtures/registermaps/function_codes.yaml)."""

    VALUES: Mapping[str, float] = {
        "relay": 1,
        "breaker_closed": 1,
        "alarm": 1,
        "door_open": 0,
        "setpoint": -1234,
        "pulses": 70_000,
        "power": 12.5,
    }

    def grid(self, t: float) -> float:
        return t

    def values_at(self, t: float) -> Mapping[str, float]:
        return self.VALUES


def float32(value: float) -> float:
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


async def start(
    devices: list[SimulatedDevice], clock: SimClock | None = None
) -> tuple[SimulatedModbusGateway, asyncio.Task[None]]:
    gateway = SimulatedModbusGateway("127.0.0.1", free_port(), devices, clock or SimClock())
    task = asyncio.create_task(gateway.run())
    await asyncio.sleep(0.3)
    return gateway, task


@pytest.fixture
async def sdm630() -> AsyncIterator[SimulatedModbusGateway]:
    gateway, task = await start([SimulatedDevice(1, "meter-1", SDM630, Ramp())])
    yield gateway
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def device(points: dict[str, Any], **fields: Any) -> ModbusDeviceConfig:
    return ModbusDeviceConfig.model_validate(
        {"meter": "meter-1", "unit_id": 1, "register_map": "eastron_sdm630", "interval": 1}
        | fields
        | {"points": points}
    )


def meter(points: list[str], **fields: Any) -> MeterConfig:
    return MeterConfig.model_validate(
        {
            "id": "meter-1",
            "carrier": "electricity",
            "points": [{"id": p, "quantity": p, "unit": "x", "kind": "gauge"} for p in points],
        }
        | fields
    )


def poller(
    port: int,
    plans: list[DevicePlan],
    tmp_path: Path,
    devices: tuple[ModbusDeviceConfig, ...],
    **options: Any,
) -> ModbusGatewayPoller:
    source = ModbusSourceConfig(
        id="gw", port=port, timeout=0.3, retry_backoff=1, retry_backoff_max=4, devices=devices
    )
    rules = {pid: PointRules(kind="gauge") for p in plans for pid in p.point_ids.values()}
    return ModbusGatewayPoller(
        source,
        plans,
        Spool(tmp_path / "spool.db"),
        CollectorMetrics(CollectorRegistry()),
        Validator(rules),
        **options,
    )


def planned(config: ModbusDeviceConfig, meter_config: MeterConfig) -> DevicePlan:
    ids = {(config.meter, point): i for i, point in enumerate(config.points, start=1)}
    return device_plan(config, ids, meter_config)


async def run_for(reader: ModbusGatewayPoller, seconds: float) -> None:
    task = asyncio.create_task(reader.run())
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_points_are_polled_at_their_own_intervals(
    sdm630: SimulatedModbusGateway, tmp_path: Path
) -> None:
    config = device(
        {"energy": {"register": "import_energy", "interval": 2}, "power": "total_power"}
    )
    plan = planned(config, meter(["energy", "power"]))
    reader = poller(int(sdm630.port), [plan], tmp_path, (config,))
    await run_for(reader, 5.2)
    _, rows = reader._spool.peek(10_000)
    energy = sorted(r.ts.timestamp() for r in rows if r.point_id == 1)
    power = sorted(r.ts.timestamp() for r in rows if r.point_id == 2)
    assert len(power) >= 4
    assert all(b - a == 1 for a, b in itertools.pairwise(power)), power
    assert energy, "the slow point is read too"
    assert all(t % 2 == 0 for t in energy), f"energy on even seconds only: {energy}"
    assert len(energy) <= len(power) // 2 + 1


async def test_dead_device_backs_off_all_its_read_plans_at_once(
    sdm630: SimulatedModbusGateway, tmp_path: Path
) -> None:
    config = device(
        {"energy": {"register": "import_energy", "interval": 2}, "power": "total_power"}
    )
    plan = planned(config, meter(["energy", "power"]))
    reader = poller(int(sdm630.port), [plan], tmp_path, (config,))
    sdm630.silence(1)
    task = asyncio.create_task(reader.run())
    seen: dict[int, list[float]] = {}
    started = time.time()
    while time.time() - started < 4.5:
        state = reader.states[1]
        if state.failures and state.failures not in seen:
            seen[state.failures] = [due - time.time() for due in state.due]
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert 2 <= reader.states[1].failures <= 3, "one attempt per back-off step, not per plan"
    for failures, ahead in seen.items():
        wait = min(2 ** (failures - 1), 4)
        assert all(a > wait - 0.3 for a in ahead), f"failure {failures}: plans due in {ahead}"


async def test_ct_and_pt_ratios_scale_secondary_values(
    sdm630: SimulatedModbusGateway, tmp_path: Path
) -> None:
    config = device(
        {
            "power": {"register": "total_power", "ratio": "ct_pt", "multiplier": 0.001},
            "voltage": {"register": "phase_1_voltage", "ratio": "pt"},
            "current": {"register": "phase_1_current", "ratio": "ct"},
            "energy": {"register": "import_energy", "ratio": "ct_pt"},
            "raw": "total_power",
        }
    )
    # 200/5 A current transformers, 10 kV/100 V voltage transformers
    plan = planned(config, meter(list(config.points), ct_ratio=40, pt_ratio=100))
    reader = poller(int(sdm630.port), [plan], tmp_path, (config,))
    rows = await reader.poll(plan, datetime.now(UTC))
    got = {r.point_id: r.value for r in rows}
    secondary = sdm630.exposed[-1].values
    assert got[1] == pytest.approx(float32(secondary["total_power"]) * 40 * 100 * 0.001)
    assert got[2] == pytest.approx(float32(57.5) * 100)
    assert got[3] == pytest.approx(float32(2.5) * 40)
    assert got[4] == pytest.approx(float32(secondary["import_energy"]) * 4000)
    assert got[5] == float32(secondary["total_power"])


async def test_device_register_limit_splits_requests_on_the_wire(
    sdm630: SimulatedModbusGateway, tmp_path: Path
) -> None:
    points = {"v1": "phase_1_voltage", "v2": "phase_2_voltage", "v3": "phase_3_voltage"}
    config = device(points, max_registers=2)
    plan = planned(config, meter(list(points)))
    reader = poller(int(sdm630.port), [plan], tmp_path, (config,))
    before = len(sdm630.exposed)
    rows = await reader.poll(plan, datetime.now(UTC))
    assert len(sdm630.exposed) - before == 3, "three requests of two registers"
    assert sorted(r.value for r in rows) == [float32(57.5), float32(58.0), float32(58.5)]


async def test_function_codes_one_to_four_read_bits_and_registers(tmp_path: Path) -> None:
    io_map: RegisterMap = load_register_map(IO_MAP)
    gateway, task = await start([SimulatedDevice(3, "io-box", io_map, IoBox())])
    names = io_map.names()
    plan = DevicePlan(
        meter="io-box",
        unit_id=3,
        groups=(
            ReadGroup(1.0, tuple(plan_reads([(n, io_map[n]) for n in names], max_registers=125))),
        ),
        point_ids={n: i for i, n in enumerate(names)},
        multipliers=dict.fromkeys(names, 1.0),
    )
    config = ModbusDeviceConfig(
        meter="io-box", unit_id=3, register_map=IO_MAP, points={n: n for n in names}
    )
    try:
        reader = poller(int(gateway.port), [plan], tmp_path, (config,))
        rows = await reader.poll(plan, datetime.now(UTC))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    got = {names[r.point_id]: r.value for r in rows}
    assert got == {
        "relay": 1.0,
        "breaker_closed": 1.0,
        "alarm": 1.0,
        "door_open": 0.0,
        "setpoint": -1234.0,
        "pulses": 70_000.0,
        "power": 12.5,
    }
    functions = {block.function for block in plan.groups[0].blocks}
    assert sorted(functions) == [1, 2, 3, 4]


async def test_simulated_clock_aligns_and_stamps_ticks_in_simulated_time(tmp_path: Path) -> None:
    """At 60 simulated seconds per real second a one-minute interval ticks every second."""
    clock = SimClock(speed=60, start=NEW_YEAR_2026 + 30)
    gateway, task = await start([SimulatedDevice(1, "meter-1", SDM630, Ramp())], clock)
    config = device({"power": "total_power"}, interval=60)
    plan = planned(config, meter(["power"]))
    reader = poller(
        int(gateway.port), [plan], tmp_path, (config,), clock=clock.now, speed=clock.speed
    )
    started = time.monotonic()
    await run_for(reader, 2.9 - 0.3)  # the gateway took 0.3 s of the clock's 2.9 to start
    elapsed = time.monotonic() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    _, rows = reader._spool.peek(10_000)
    stamps = [r.ts.timestamp() - NEW_YEAR_2026 for r in rows]
    assert len(stamps) >= 2, f"one tick per real second (ran {elapsed:.1f} s): {stamps}"
    assert stamps[0] in (60, 120), "the first minute of 2026 after the clock's start"
    assert all(b - a == 60 for a, b in itertools.pairwise(stamps)), stamps
    assert all(r.quality == 0 for r in rows), "judged against the simulated clock: not stale"
    assert [float32(1500 + 0)] * len(rows) == [r.value for r in rows], "read at each minute"
