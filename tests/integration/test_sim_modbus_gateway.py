"""Modbus faults through a real pymodbus server: a silent meter times out, a slow one
answers after its delay, a swapped word order changes the bytes, others are untouched."""

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from gateways import serving
from pydantic import TypeAdapter
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from collector.decoding import decode, encode
from collector.register_map import Order, load_register_map
from meterledger.embedded import free_port
from simulators.clock import SimClock
from simulators.electricity import ElectricityMeter
from simulators.fault_config import FaultSpec
from simulators.faults import FaultyMeter
from simulators.modbus_gateway import SimulatedDevice, SimulatedModbusGateway

SDM630 = load_register_map("eastron_sdm630")
ENERGY = SDM630["import_energy"]
ORIGIN = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
NOW = ORIGIN + 1800  # inside every window below
WINDOW = {"from": "2026-03-02T00:15:00+00:00", "to": "2026-03-02T00:45:00+00:00"}
UNITS = {
    1: None,
    2: {"kind": "silent"},
    3: {"kind": "slow", "delay": 0.6},
    4: {"kind": "word_order", "order": "CDAB"},
    5: {"kind": "silent", "from": "2026-03-02T01:00:00+00:00", "to": "2026-03-02T02:00:00+00:00"},
}


class Constant:
    def rate(self, t: float) -> float:
        return 400.0


def meter(fault: dict[str, Any] | None) -> ElectricityMeter | FaultyMeter:
    model = ElectricityMeter(Constant(), 1000, ORIGIN, 60)
    if fault is None:
        return model
    spec = TypeAdapter(FaultSpec).validate_python({"meter": "m", **WINDOW, **fault})
    return FaultyMeter(model, "electricity", [spec])


@pytest.fixture
async def client() -> AsyncIterator[AsyncModbusTcpClient]:
    devices = [SimulatedDevice(u, f"m{u}", SDM630, meter(f)) for u, f in UNITS.items()]
    clock = SimClock(start=NOW, paused=True)  # simulated time stands at NOW
    gateway = SimulatedModbusGateway("127.0.0.1", free_port(), devices, clock)
    async with serving(gateway):
        modbus = AsyncModbusTcpClient("127.0.0.1", port=int(gateway.port), timeout=1.5, retries=0)
        await modbus.connect()
        yield modbus
        modbus.close()


async def energy_registers(client: AsyncModbusTcpClient, unit: int) -> list[int]:
    response = await client.read_input_registers(ENERGY.address, count=2, device_id=unit)
    assert not response.isError(), response
    return list(response.registers)


async def test_a_meter_without_faults_and_one_outside_its_window_answer_the_truth(
    client: AsyncModbusTcpClient,
) -> None:
    for unit in (1, 5):
        assert decode(ENERGY, await energy_registers(client, unit)) == 1200.0  # 1000 + 400 x 0.5 h


async def test_a_silent_meter_lets_the_request_time_out(client: AsyncModbusTcpClient) -> None:
    started = time.monotonic()
    with pytest.raises(ModbusException):
        await energy_registers(client, 2)
    assert time.monotonic() - started >= 1.4
    assert decode(ENERGY, await energy_registers(client, 1)) == 1200.0  # the bus still works


async def test_a_slow_meter_answers_after_its_delay(client: AsyncModbusTcpClient) -> None:
    started = time.monotonic()
    registers = await energy_registers(client, 3)
    assert time.monotonic() - started >= 0.6
    assert decode(ENERGY, registers) == 1200.0


async def test_a_swapped_word_order_serves_other_bytes_for_the_same_value(
    client: AsyncModbusTcpClient,
) -> None:
    registers = await energy_registers(client, 4)
    swapped = ENERGY.model_copy(update={"order": Order.CDAB})
    assert registers == encode(swapped, 1200.0)
    assert registers != encode(ENERGY, 1200.0)
    assert decode(ENERGY, registers) != 1200.0  # what a collector with the map's order reads
    assert decode(swapped, registers) == 1200.0
