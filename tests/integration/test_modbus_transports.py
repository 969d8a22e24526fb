"""The poller over each transport, against a real pymodbus server: TCP, RTU over TCP, RTU.

RTU on a serial line runs over a virtual null-modem cable from socat (Debian package
``socat``): the simulated gateway's pymodbus serial server on one end, the collector on
the other. Without socat these tests fail and say how to install it.
"""

import asyncio
import math
import shutil
import struct
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from collector.config import ModbusDeviceConfig, ModbusSourceConfig
from collector.metrics import CollectorMetrics
from collector.modbus import DevicePlan, ModbusGatewayPoller
from collector.readplan import ReadGroup, plan_reads
from collector.register_map import load_register_map
from collector.spool import Spool
from collector.validation import PointRules, Validator
from meterledger.embedded import free_port
from meterledger.errors import DeviceError, EmbeddedServiceError
from meterledger.modbus_wiring import device_plan, modbus_simulator, serve_gateway
from meterledger.virtual_serial import INSTALL_SOCAT, virtual_serial_pair
from simulators.clock import SimClock
from simulators.modbus_gateway import SimulatedDevice, SimulatedModbusGateway
from store.catalog import MeterConfig

pytestmark = pytest.mark.serial  # counts polls per real second: run alone (tests/run.sh)
SDM630 = load_register_map("eastron_sdm630")
POINTS = {"energy": "import_energy", "power": "total_power", "v1": "phase_1_voltage"}
IDS = {("meter-1", point): 10 + i for i, point in enumerate(POINTS)}
TRANSPORTS = ["tcp", "rtu-over-tcp", "rtu"]


class Ramp:
    """A meter whose values are simple functions of the second, so answers are checkable."""

    def grid(self, t: float) -> float:
        return math.floor(t)

    def values_at(self, t: float) -> dict[str, float]:
        second = self.grid(t)
        return {
            "import_energy": 1000 + (second % 1000) / 8,
            "total_power": 50 + second % 60,
            "phase_1_voltage": 230.5,
        }


def float32(value: float) -> float:
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


def need_socat() -> None:
    if shutil.which("socat") is None:
        pytest.fail(f"RTU tests need socat for a virtual serial line: {INSTALL_SOCAT}")


@pytest.fixture
async def serial_cable(tmp_path: Path) -> AsyncIterator[tuple[Path, Path]]:
    """Two ends of a virtual serial cable: (collector's, gateway's)."""
    need_socat()
    async with virtual_serial_pair(tmp_path / "ttyV0", tmp_path / "ttyV1") as ends:
        yield ends


@pytest.fixture(params=TRANSPORTS)
async def line(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, int | str, int | str]]:
    """(transport, where the collector connects, where the gateway serves)."""
    transport: str = request.param
    if transport != "rtu":
        port = free_port()
        yield transport, port, port
        return
    need_socat()
    async with virtual_serial_pair(tmp_path / "ttyV0", tmp_path / "ttyV1") as (near, far):
        yield transport, str(near), str(far)


def plan(unit_id: int = 1) -> DevicePlan:
    wanted = [(point, SDM630[name]) for point, name in POINTS.items()]
    return DevicePlan(
        meter=f"meter-{unit_id}",
        unit_id=unit_id,
        groups=(ReadGroup(1.0, tuple(plan_reads(wanted, max_registers=80))),),
        point_ids={p: 10 * unit_id + i for i, p in enumerate(POINTS)},
        multipliers=dict.fromkeys(POINTS, 1.0),
    )


def poller(source: ModbusSourceConfig, tmp_path: Path) -> ModbusGatewayPoller:
    plans = [plan(d.unit_id) for d in source.devices]
    rules = {pid: PointRules(kind="gauge") for p in plans for pid in p.point_ids.values()}
    return ModbusGatewayPoller(
        source,
        plans,
        Spool(tmp_path / "spool.db"),
        CollectorMetrics(CollectorRegistry()),
        Validator(rules),
    )


def device(unit_id: int) -> ModbusDeviceConfig:
    return ModbusDeviceConfig(
        meter=f"meter-{unit_id}",
        unit_id=unit_id,
        register_map="eastron_sdm630",
        interval=1,
        points=POINTS,
    )


def source_for(
    transport: str, port: int | str, units: tuple[int, ...] = (1,)
) -> ModbusSourceConfig:
    return ModbusSourceConfig.model_validate(
        {
            "id": "gw",
            "transport": transport,
            "port": port,
            "timeout": 0.4,
            "retry_backoff": 0.2,
            "retry_backoff_max": 0.5,
            "devices": [device(u) for u in units],
        }
    )


async def first_poll(reader: ModbusGatewayPoller, device_plan: DevicePlan) -> list:  # type: ignore[type-arg]
    """Poll until the gateway is up (it may still be binding its socket or opening its tty)."""
    deadline = time.monotonic() + 5
    while True:
        try:
            return await reader.poll(device_plan, datetime.now(UTC))
        except DeviceError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def serve(gateway: SimulatedModbusGateway) -> asyncio.Task[None]:
    task = asyncio.create_task(gateway.run())
    await asyncio.sleep(0)
    return task


async def stop(*tasks: asyncio.Task[None]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_poller_decodes_the_meter_over_each_transport(
    line: tuple[str, int | str, int | str], tmp_path: Path
) -> None:
    transport, port, served = line
    devices = [SimulatedDevice(1, "meter-1", SDM630, Ramp())]
    gateway = SimulatedModbusGateway("127.0.0.1", served, devices, SimClock(), transport=transport)  # type: ignore[arg-type]
    task = await serve(gateway)
    reader = poller(source_for(transport, port), tmp_path)
    try:
        rows = await first_poll(reader, plan())
    finally:
        await stop(task)
    exposed = gateway.exposed[-1].values
    assert {r.point_id: r.value for r in rows} == {
        10: float32(exposed["import_energy"]),
        11: float32(exposed["total_power"]),
        12: float32(exposed["phase_1_voltage"]),
    }


async def test_tcp_framing_cannot_read_an_rtu_over_tcp_converter(tmp_path: Path) -> None:
    port = free_port()
    devices = [SimulatedDevice(1, "meter-1", SDM630, Ramp())]
    gateway = SimulatedModbusGateway(
        "127.0.0.1", port, devices, SimClock(), transport="rtu-over-tcp"
    )
    task = await serve(gateway)
    try:
        await first_poll(poller(source_for("rtu-over-tcp", port), tmp_path), plan())
        with pytest.raises(DeviceError):
            await poller(source_for("tcp", port), tmp_path).poll(plan(), datetime.now(UTC))
    finally:
        await stop(task)


async def test_silent_unit_on_a_serial_line_leaves_no_stray_frame_for_the_next(
    serial_cable: tuple[Path, Path], tmp_path: Path
) -> None:
    """RTU frames carry no transaction id: a late answer would be taken for the next one's."""
    collector_end, gateway_end = serial_cable
    devices = [SimulatedDevice(u, f"meter-{u}", SDM630, Ramp()) for u in (1, 2)]
    gateway = SimulatedModbusGateway(
        "127.0.0.1", str(gateway_end), devices, SimClock(), transport="rtu"
    )
    task = await serve(gateway)
    reader = poller(source_for("rtu", str(collector_end), units=(1, 2)), tmp_path)
    try:
        await first_poll(reader, plan(1))
        gateway.silence(2)
        with pytest.raises(DeviceError, match="unit 2"):
            await reader.poll(plan(2), datetime.now(UTC))
        rows = await reader.poll(plan(1), datetime.now(UTC))
        assert {r.point_id: r.value for r in rows}[12] == float32(230.5)
        gateway.answer(2)
        rows = await reader.poll(plan(2), datetime.now(UTC))
        assert sorted(r.point_id for r in rows) == [20, 21, 22]
    finally:
        await stop(task)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_simulated_source_runs_on_each_transport(transport: str, tmp_path: Path) -> None:
    """`simulated: true` as the composition root wires it: gateway, virtual cable, poller."""
    if transport == "rtu" and shutil.which("socat") is None:
        pytest.fail(f"a simulated RTU source needs socat: {INSTALL_SOCAT}")
    port: int | str = str(tmp_path / "rs485" / "ttyML0") if transport == "rtu" else free_port()
    source = source_for(transport, port).model_copy(update={"simulated": True})
    meter = MeterConfig.model_validate(
        {
            "id": "meter-1",
            "carrier": "electricity",
            "points": [{"id": p, "quantity": p, "unit": "x", "kind": "gauge"} for p in POINTS],
        }
    )
    gateway = modbus_simulator(source, {"meter-1": Ramp()}, SimClock())  # type: ignore[dict-item]
    serving = asyncio.create_task(serve_gateway(source, gateway))
    plans = [device_plan(source.devices[0], IDS, meter)]
    rules = {pid: PointRules(kind="gauge") for pid in IDS.values()}
    spool = Spool(tmp_path / "spool.db")
    reader = ModbusGatewayPoller(
        source, plans, spool, CollectorMetrics(CollectorRegistry()), Validator(rules)
    )
    polling = asyncio.create_task(reader.run())
    await asyncio.sleep(3.2)
    await stop(polling, serving)
    _, rows = spool.peek(10_000)
    ticks = Counter(r.ts for r in rows)
    assert len(ticks) >= 2, f"{transport}: {len(ticks)} polls in 3 s"
    assert set(ticks.values()) == {3}, "every poll delivers all three points"
    if transport == "rtu":
        cable_left = await asyncio.to_thread(Path(port).exists)
        assert not cable_left, "the virtual cable is removed with the gateway"


async def test_virtual_serial_line_without_socat_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EmbeddedServiceError, match="apt-get install -y socat"):
        async with virtual_serial_pair(tmp_path / "a", tmp_path / "b"):
            pass
