"""One silent device among ten on one gateway: its neighbours keep their poll rate.

The silent unit is retried with a growing back-off, so it costs the others one timeout per
back-off step, and it comes back by itself once it answers again.
"""

import asyncio
import math
import time
from collections import Counter
from collections.abc import AsyncIterator
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
from meterledger.errors import DeviceError
from simulators.clock import SimClock
from simulators.modbus_gateway import SimulatedDevice, SimulatedModbusGateway

pytestmark = pytest.mark.serial  # counts polls per real second: run alone (tests/run.sh)
SDM630 = load_register_map("eastron_sdm630")
POINTS = {"energy": "import_energy", "power": "total_power", "v1": "phase_1_voltage"}
UNITS = range(1, 11)
SILENT = 7
WINDOW = 10.0  # seconds of polling measured
BACKOFF, BACKOFF_MAX, TIMEOUT = 1.0, 4.0, 0.5


class Ramp:
    def grid(self, t: float) -> float:
        return math.floor(t)

    def values_at(self, t: float) -> dict[str, float]:
        second = self.grid(t)
        return {"import_energy": 1000 + second % 1000, "total_power": 50.0, "phase_1_voltage": 230}


def plan(unit_id: int) -> DevicePlan:
    wanted = [(point, SDM630[name]) for point, name in POINTS.items()]
    return DevicePlan(
        meter=f"meter-{unit_id}",
        unit_id=unit_id,
        groups=(ReadGroup(1.0, tuple(plan_reads(wanted, max_registers=80))),),
        point_ids={p: 10 * unit_id + i for i, p in enumerate(POINTS)},
        multipliers=dict.fromkeys(POINTS, 1.0),
    )


@pytest.fixture
async def gateway() -> AsyncIterator[SimulatedModbusGateway]:
    devices = [SimulatedDevice(u, f"meter-{u}", SDM630, Ramp()) for u in UNITS]
    devices.append(SimulatedDevice(99, "dead", SDM630, None))
    sim = SimulatedModbusGateway("127.0.0.1", free_port(), devices, SimClock())
    async with serving(sim):
        yield sim


def poller(sim: SimulatedModbusGateway, tmp_path: Path, units: list[int]) -> ModbusGatewayPoller:
    source = ModbusSourceConfig(
        id="gw",
        port=sim.port,
        timeout=TIMEOUT,
        retry_backoff=BACKOFF,
        retry_backoff_max=BACKOFF_MAX,
        devices=tuple(
            ModbusDeviceConfig(
                meter=f"meter-{u}", unit_id=u, register_map="eastron_sdm630", points=POINTS
            )
            for u in units
        ),
    )
    plans = [plan(u) for u in units]
    rules = {pid: PointRules(kind="gauge") for p in plans for pid in p.point_ids.values()}
    return ModbusGatewayPoller(
        source,
        plans,
        Spool(tmp_path / "spool.db"),
        CollectorMetrics(CollectorRegistry()),
        Validator(rules),
    )


async def test_silent_device_backs_off_while_nine_neighbours_keep_their_rate(
    gateway: SimulatedModbusGateway, tmp_path: Path
) -> None:
    gateway.silence(SILENT)
    reader = poller(gateway, tmp_path, list(UNITS))
    started = time.time()
    task = asyncio.create_task(reader.run())
    backoffs: dict[int, float] = {}  # failure count -> how far ahead the retry was put
    while time.time() - started < WINDOW:
        state = reader.states[SILENT]
        if state.failures and state.failures not in backoffs:
            backoffs[state.failures] = state.next_due - time.time()
        await asyncio.sleep(0.01)
    stopped = time.time()

    _, rows = reader._spool.peek(100_000)
    ticks = {u: {r.ts for r in rows if r.point_id // 10 == u} for u in UNITS}
    expected = math.floor(stopped) - math.floor(started)  # whole seconds in the window
    rates = {u: len(ticks[u]) / expected for u in UNITS}
    print(f"\npoll rate over {stopped - started:.1f} s, {expected} ticks expected:")
    print("  " + ", ".join(f"unit {u}: {len(ticks[u])} ({rates[u]:.0%})" for u in UNITS))
    print(f"  unit {SILENT} back-off after each failure (s): {backoffs}")
    slow = {u: rate for u, rate in rates.items() if u != SILENT and rate < 0.9}
    assert not slow, f"neighbours below 90 % of their poll rate: {slow}"
    assert not ticks[SILENT], "the silent unit delivered nothing"
    assert all(t.microsecond == 0 for u in UNITS for t in ticks[u]), "aligned to whole seconds"

    failures = reader.states[SILENT].failures
    assert 3 <= failures <= 6, f"{failures} retries in {WINDOW} s"
    for count, ahead in backoffs.items():
        wait = min(BACKOFF * 2 ** (count - 1), BACKOFF_MAX)
        # the retry is the first whole second after the back-off; sampling lags by < 0.3 s
        assert wait - 0.3 < ahead <= wait + 1, f"failure {count}: retry {ahead:.2f} s ahead"
    assert backoffs[1] < backoffs[2] < backoffs[3], "next_due moves further out each time"

    gateway.answer(SILENT)
    for _ in range(int((BACKOFF_MAX + 2) / 0.05)):  # one back-off step and its tick at most
        if not reader.states[SILENT].failures:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    state = reader.states[SILENT]
    assert (state.failures, state.last_error) == (0, None), "it came back by itself"
    _, rows = reader._spool.peek(100_000)
    assert any(r.point_id // 10 == SILENT for r in rows)


async def test_unit_without_a_model_stays_silent_even_when_asked_to_answer(
    gateway: SimulatedModbusGateway, tmp_path: Path
) -> None:
    reader = poller(gateway, tmp_path, [99])
    gateway.answer(99)
    started = time.monotonic()
    with pytest.raises(DeviceError, match="unit 99"):
        await reader.poll(plan(99), datetime.now(UTC))
    assert time.monotonic() - started >= TIMEOUT * 0.9, "no answer at all: a timeout"


async def test_gateway_refuses_to_silence_a_unit_it_does_not_serve(
    gateway: SimulatedModbusGateway,
) -> None:
    with pytest.raises(KeyError):
        gateway.silence(42)
    assert Counter(d.model is None for d in gateway.devices.values()) == {False: 10, True: 1}
