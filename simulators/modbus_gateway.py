"""A Modbus TCP gateway serving simulated meters at their unit ids, with real register maps.

Every read refreshes the device's registers from its meter model at that instant, encoded
with the collector's own `RegisterSpec` codec. Only the map's registers are defined, so a
read across an undocumented gap fails as it may on the real device.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice

from collector.decoding import encode
from collector.register_map import Function, RegisterMap
from simulators.clock import SimClock
from simulators.meters import MeterModel

log = logging.getLogger(__name__)

# pymodbus needs every table of a device to hold something; park a bit far away.
_PARKED_BIT = 0xFFF0


@dataclass(frozen=True, slots=True)
class Exposure:
    """What a device answered at one read: grid instant and the values behind it."""

    unit_id: int
    at: float
    values: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class SimulatedDevice:
    """A meter at a unit id; with no model it never answers, like a dead RS-485 slave."""

    unit_id: int
    meter: str
    register_map: RegisterMap
    model: MeterModel | None


class SimulatedModbusGateway:
    """Serve devices on ``host:port`` until cancelled; remember what was exposed."""

    def __init__(
        self, host: str, port: int, devices: list[SimulatedDevice], clock: SimClock
    ) -> None:
        self.host = host
        self.port = port
        self.devices = {d.unit_id: d for d in devices}
        self.clock = clock
        self.exposed: deque[Exposure] = deque(maxlen=10_000)
        self._stopping = asyncio.Event()
        self._server = ModbusTcpServer(
            [self._sim_device(d) for d in devices],
            address=(host, port),
        )

    async def run(self) -> None:
        log.info(
            "simulated Modbus gateway on %s:%d, units %s",
            self.host,
            self.port,
            sorted(self.devices),
        )
        try:
            await self._server.serve_forever()
        finally:
            self._stopping.set()  # let the requests of silent devices end with the server
            await self._server.shutdown()  # type: ignore[no-untyped-call]

    def _sim_device(self, device: SimulatedDevice) -> SimDevice:
        tables: dict[Function, list[SimData]] = {f: [] for f in Function}
        for spec in device.register_map.registers:
            values = encode(spec, "" if spec.type == "string" else 0.0)
            tables[spec.function].append(
                SimData(spec.address, values=values, datatype=SimType.REGISTERS)
            )
        parked = [SimData(_PARKED_BIT, values=False, datatype=SimType.BITS)]
        return SimDevice(
            id=device.unit_id,
            simdata=(
                tables[Function.COIL] or parked,
                tables[Function.DISCRETE_INPUT] or parked,
                tables[Function.HOLDING] or [SimData(_PARKED_BIT, datatype=SimType.INVALID)],
                tables[Function.INPUT] or [SimData(_PARKED_BIT, datatype=SimType.INVALID)],
            ),
            action=partial(self._refresh, device.unit_id),
        )

    async def _refresh(
        self,
        unit: int,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> None:
        """pymodbus calls this before answering: write the model's current state in."""
        device = self.devices[unit]
        model = device.model
        if model is None:
            await self._stopping.wait()  # no answer while we run; the client times out
            return None
        now = self.clock.now()
        values = model.values_at(now)
        for spec in device.register_map.registers:
            if spec.function != function_code or spec.name not in values:
                continue
            if spec.address + spec.count <= address or spec.address >= address + count:
                continue
            offset = spec.address - start_address
            registers[offset : offset + spec.count] = encode(spec, values[spec.name])
        self.exposed.append(Exposure(unit, model.grid(now), values))
        return None
