"""Poll Modbus TCP gateways: one connection each, requests serialised, devices isolated.

Polls are aligned to wall-clock multiples of each device's interval, so readings of
different meters share timestamps, and a reading is stamped with its tick, not with the
jitter of the request. A device that fails is backed off (doubling up to a ceiling) so a
dead meter costs its neighbours one timeout per back-off step, not one per poll.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from collector.config import ModbusSourceConfig
from collector.decoding import decode
from collector.metrics import CollectorMetrics
from collector.readplan import Block
from collector.register_map import Function
from collector.spool import Spool
from collector.validation import Validator
from meterledger.errors import DeviceError
from store.readings import Reading

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DevicePlan:
    """What to read from one device and which point each value feeds."""

    meter: str
    unit_id: int
    interval: float
    blocks: tuple[Block, ...]
    point_ids: dict[str, int]
    multipliers: dict[str, float]


@dataclass(slots=True)
class DeviceState:
    next_due: float
    failures: int = 0
    last_error: str | None = None
    last_success: float | None = field(default=None)


def next_tick(now: float, interval: float) -> float:
    """The first multiple of ``interval`` (in Unix seconds) strictly after ``now``."""
    return (math.floor(now / interval) + 1) * interval


class ModbusGatewayPoller:
    """Poll every device behind one gateway connection until cancelled."""

    def __init__(
        self,
        source: ModbusSourceConfig,
        devices: Sequence[DevicePlan],
        spool: Spool,
        metrics: CollectorMetrics,
        validator: Validator,
        on_spooled: Callable[[int], None] = lambda _count: None,
    ) -> None:
        self.source = source
        self.devices = list(devices)
        self._spool = spool
        self._validator = validator
        self._metrics = metrics
        self._on_spooled = on_spooled
        now = time.time()
        self.states = {d.unit_id: DeviceState(next_tick(now, d.interval)) for d in self.devices}
        self._client = AsyncModbusTcpClient(
            source.host,
            port=source.port,
            timeout=source.timeout,
            retries=0,
            reconnect_delay=0,  # reconnects are ours, per poll, so they follow the back-off
        )

    async def run(self) -> None:
        try:
            while True:
                now = time.time()
                due = sorted(
                    (d for d in self.devices if self.states[d.unit_id].next_due <= now),
                    key=lambda d: self.states[d.unit_id].next_due,
                )
                for device in due:
                    await self._poll_and_reschedule(device)
                wake = min(s.next_due for s in self.states.values())
                await asyncio.sleep(max(0.0, wake - time.time()))
        finally:
            self._client.close()

    async def _poll_and_reschedule(self, device: DevicePlan) -> None:
        state = self.states[device.unit_id]
        tick = state.next_due
        started = time.perf_counter()
        try:
            rows = await self.poll(device, datetime.fromtimestamp(tick, UTC))
        except DeviceError as exc:
            self._fail(device, state, exc)
            return
        self._metrics.poll_seconds.labels(self.source.id).observe(time.perf_counter() - started)
        now = datetime.now(UTC)
        check = self._validator.check
        rows = [r._replace(quality=check(r.point_id, r.ts, r.value, now)) for r in rows]
        await asyncio.to_thread(self._spool.append, rows)
        self._on_spooled(len(rows))
        self._metrics.readings_in.labels(self.source.id).inc(len(rows))
        self._metrics.last_success.labels(self.source.id, device.meter).set(time.time())
        if state.failures:
            log.info("%s: %s (unit %d) answers again", self.source.id, device.meter, device.unit_id)
        state.failures, state.last_error, state.last_success = 0, None, time.time()
        state.next_due = max(tick + device.interval, next_tick(time.time(), device.interval))

    def _fail(self, device: DevicePlan, state: DeviceState, exc: DeviceError) -> None:
        state.failures += 1
        state.last_error = exc.reason
        backoff = min(
            self.source.retry_backoff * 2 ** (state.failures - 1), self.source.retry_backoff_max
        )
        state.next_due = next_tick(time.time() + backoff, device.interval)
        self._metrics.device_errors.labels(self.source.id, device.meter).inc()
        log.warning(
            "%s: %s failed %d time(s) in a row, next try in %.1f s: %s",
            self.source.id,
            device.meter,
            state.failures,
            state.next_due - time.time(),
            exc,
        )

    async def poll(self, device: DevicePlan, ts: datetime) -> list[Reading]:
        """Read every block of a device once; raise DeviceError on any failure."""
        rows = []
        for block in device.blocks:
            registers = await self._read(device.unit_id, block)
            for slot in block.slots:
                value = decode(slot.spec, registers[slot.offset : slot.offset + slot.spec.count])
                if isinstance(value, str):
                    continue  # identification strings are for `collect --check`, not readings
                value *= device.multipliers[slot.point]
                rows.append(Reading(device.point_ids[slot.point], ts, value))
        return rows

    async def read_block(self, unit_id: int, block: Block) -> list[int]:
        """One raw read, for `collect --check` and the poll loop alike."""
        return await self._read(unit_id, block)

    async def _read(self, unit_id: int, block: Block) -> list[int]:
        try:
            if not self._client.connected and not await self._client.connect():
                raise DeviceError(self.source.id, unit_id, block.address, "cannot connect")
            response = await self._request(unit_id, block)
        except ModbusException as exc:
            raise DeviceError(self.source.id, unit_id, block.address, str(exc)) from exc
        if response.isError():
            code = getattr(response, "exception_code", "?")
            raise DeviceError(self.source.id, unit_id, block.address, f"exception code {code}")
        if block.function in (Function.COIL, Function.DISCRETE_INPUT):
            return [int(bit) for bit in response.bits[: block.count]]
        registers: list[int] = response.registers
        if len(registers) != block.count:
            raise DeviceError(
                self.source.id,
                unit_id,
                block.address,
                f"asked for {block.count} registers, got {len(registers)}",
            )
        return registers

    async def _request(self, unit_id: int, block: Block):  # type: ignore[no-untyped-def]
        read = {
            Function.COIL: self._client.read_coils,
            Function.DISCRETE_INPUT: self._client.read_discrete_inputs,
            Function.HOLDING: self._client.read_holding_registers,
            Function.INPUT: self._client.read_input_registers,
        }[block.function]
        return await read(block.address, count=block.count, device_id=unit_id)
