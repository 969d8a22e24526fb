"""A Modbus gateway serving simulated meters at their unit ids, with real register maps.

It speaks each transport the collector does: Modbus TCP, RTU frames over TCP (an
Ethernet-RS485 converter in transparent mode), and RTU on a serial device (one end of a
virtual cable, see `simulators.serial_pair`, or a real RS-485 adapter). Every read
refreshes the device's registers from its meter model at that instant, encoded with the
collector's own `RegisterSpec` codec. Only the map's registers are defined, so a read
across an undocumented gap fails as it may on the real device.

A unit can be silenced and made to answer again at run time (`silence`, `answer`), like a
meter switched off on the bus; a unit without a model never answers. The plant file's
faults (`simulators.faults`) act here too: a ``silent`` meter does not answer, a ``slow``
one answers after its delay, and ``word_order`` serves multi-register values in another
byte order for its window.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Literal, Protocol

from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice

from collector.decoding import encode
from collector.register_map import Function, Order, RegisterMap, RegisterSpec
from simulators.clock import SimClock
from simulators.faults import faults_of

log = logging.getLogger(__name__)

# pymodbus needs every table of a device to hold something; park a bit far away.
_PARKED_BIT = 0xFFF0
BIT_TABLES = (Function.COIL, Function.DISCRETE_INPUT)

# The collector's transports (collector.config.Transport; simulators do not import it).
Transport = Literal["tcp", "rtu-over-tcp", "rtu"]


@dataclass(frozen=True, slots=True)
class SerialLine:
    """Character framing of a simulated RS-485 line; the collector's must match it."""

    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8


@dataclass(frozen=True, slots=True)
class Exposure:
    """What a device answered at one read: grid instant and the values behind it."""

    unit_id: int
    at: float
    values: Mapping[str, float]


class RegisterSource(Protocol):
    """What a device needs of a meter model: its values at an instant, and that instant."""

    def values_at(self, t: float) -> Mapping[str, float]: ...

    def grid(self, t: float) -> float: ...


@dataclass(frozen=True, slots=True)
class SimulatedDevice:
    """A meter at a unit id; with no model it never answers, like a dead RS-485 slave."""

    unit_id: int
    meter: str
    register_map: RegisterMap
    model: RegisterSource | None


class SimulatedModbusGateway:
    """Serve devices until cancelled; remember what was exposed.

    ``port`` is a TCP port for the tcp transports and a serial device path for ``rtu``
    (then ``host`` is unused and ``line`` sets the character framing).
    """

    def __init__(
        self,
        host: str,
        port: int | str,
        devices: list[SimulatedDevice],
        clock: SimClock,
        *,
        transport: Transport = "tcp",
        line: SerialLine | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.transport = transport
        self.devices = {d.unit_id: d for d in devices}
        self.clock = clock
        self.exposed: deque[Exposure] = deque(maxlen=10_000)
        self._silenced: set[int] = set()
        self._server = self._make_server([self._sim_device(d) for d in devices], line)

    def _make_server(
        self, devices: list[SimDevice], line: SerialLine | None
    ) -> ModbusTcpServer | ModbusSerialServer:
        # ignore_missing_devices lets `_refresh` drop a request of a silent unit unanswered
        # (by raising NoSuchIdException), as a slave that is off the bus does.
        if self.transport == "rtu":
            line = line or SerialLine()
            return ModbusSerialServer(
                devices,
                framer=FramerType.RTU,
                port=str(self.port),
                baudrate=line.baudrate,
                parity=line.parity,
                stopbits=line.stopbits,
                bytesize=line.bytesize,
                ignore_missing_devices=True,
            )
        return ModbusTcpServer(
            devices,
            framer=FramerType.RTU if self.transport == "rtu-over-tcp" else FramerType.SOCKET,
            address=(self.host, int(self.port)),
            ignore_missing_devices=True,
        )

    def describe(self) -> str:
        where = self.port if self.transport == "rtu" else f"{self.host}:{self.port}"
        return f"{self.transport} {where}"

    def silence(self, unit_id: int) -> None:
        """Stop answering at ``unit_id`` until `answer` is called: requests time out."""
        if unit_id not in self.devices:
            raise KeyError(f"this gateway serves no unit {unit_id}")
        self._silenced.add(unit_id)

    def answer(self, unit_id: int) -> None:
        """Answer at ``unit_id`` again (a unit without a model stays silent)."""
        self._silenced.discard(unit_id)

    async def run(self) -> None:
        log.info("simulated Modbus gateway on %s, units %s", self.describe(), sorted(self.devices))
        try:
            await self._server.serve_forever()
        finally:
            await self._server.shutdown()  # type: ignore[no-untyped-call]

    def _sim_device(self, device: SimulatedDevice) -> SimDevice:
        tables: dict[Function, list[SimData]] = {f: [] for f in Function}
        for spec in device.register_map.registers:
            if spec.function in BIT_TABLES:
                tables[spec.function].append(
                    SimData(spec.address, values=False, datatype=SimType.BITS)
                )
                continue
            # Raw zeros, not an encoded 0.0: with an offset, 0.0 is a negative raw value,
            # which an unsigned register cannot hold. `_refresh` fills in real values.
            tables[spec.function].append(
                SimData(spec.address, values=[0] * spec.count, datatype=SimType.REGISTERS)
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
        now = self.clock.now()
        faults = faults_of(model)
        if model is None or unit in self._silenced or faults.silent(now):
            # Not an error answer: pymodbus drops the request, and the client times out.
            raise NoSuchIdException(f"simulated unit {unit} is silent")
        delay = faults.delay(now)
        if delay:
            await asyncio.sleep(delay)
        order = faults.word_order(now)
        values = model.values_at(now)
        for spec in device.register_map.registers:
            if spec.function != function_code or spec.name not in values:
                continue
            if order is not None and spec.count > 1:
                spec = _reordered(spec, Order(order))
            if spec.function in BIT_TABLES:
                # pymodbus packs coils and discrete inputs 16 to a register, and then
                # counts ``start_address`` and ``count`` in registers, not bits.
                _set_bit(registers, spec.address - start_address * 16, bool(values[spec.name]))
                continue
            if spec.address + spec.count <= address or spec.address >= address + count:
                continue
            offset = spec.address - start_address
            registers[offset : offset + spec.count] = encode(spec, values[spec.name])
        self.exposed.append(Exposure(unit, model.grid(now), values))
        return None


def _reordered(spec: RegisterSpec, order: Order) -> RegisterSpec:
    """``spec`` with another byte order, as a meter with swapped firmware would serve it."""
    return spec.model_copy(update={"order": order})


def _set_bit(registers: list[int], index: int, on: bool) -> None:
    """Set bit ``index`` of a block of 16-bit registers, bit 0 first."""
    word, bit = divmod(index, 16)
    registers[word] = registers[word] | (1 << bit) if on else registers[word] & ~(1 << bit)
