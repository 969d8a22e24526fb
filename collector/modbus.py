"""Poll Modbus gateways: one connection each, requests serialised, devices isolated.

A device's points are read in groups, one per poll interval (energy every minute, power
every second). Each group's polls are aligned to multiples of its interval, so readings of
different meters share timestamps, and a reading is stamped with its tick, not with the
jitter of the request. A device that fails is backed off as a whole, every group at once,
doubling up to a ceiling, so a dead meter costs its neighbours one timeout per back-off
step, not one per poll or per group.

Time comes from ``clock`` (Unix seconds): the wall clock, or a simulator's accelerated
clock running ``speed`` simulated seconds per real second. Ticks are aligned and stamped
in clock time and sleeps are divided by ``speed``; back-off waits are real seconds (they
wait for a device, not for the simulation), so they are multiplied by ``speed`` into
clock time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from pymodbus.exceptions import ModbusException

from collector.config import ModbusSourceConfig
from collector.decoding import BlockDecoder
from collector.held_rows import HeldRows
from collector.metrics import CollectorMetrics
from collector.modbus_transport import modbus_client
from collector.readplan import Block, ReadGroup
from collector.register_map import DataType, Function
from collector.spool import Spool
from collector.validation import Validator
from meterledger.errors import DeviceError
from store.reading_rows import to_us
from store.readings import Reading

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DevicePlan:
    """What to read from one device, at which intervals, and which point each value feeds."""

    meter: str
    unit_id: int
    groups: tuple[ReadGroup, ...]
    point_ids: dict[str, int]
    multipliers: dict[str, float]


@dataclass(slots=True)
class DeviceState:
    """One device's schedule (a due tick per read group) and its health, shared by all."""

    due: list[float]
    failures: int = 0
    last_error: str | None = None
    last_success: float | None = None

    @property
    def next_due(self) -> float:
        """When the device is next read, whichever group that is."""
        return min(self.due)


@dataclass(frozen=True, slots=True)
class _BlockReading:
    """One block of a device's group, ready to read: its decoder and the points it feeds."""

    block: Block
    decoder: BlockDecoder
    point_ids: tuple[int, ...]
    multipliers: tuple[float, ...]


@cache
def _decoder(block: Block) -> tuple[BlockDecoder, tuple[int, ...]]:
    """The block's decoder and which of its slots it decodes; shared by same-model devices.

    Identification strings are for `collect --check`, not readings, so they are left out.
    """
    numeric = tuple(i for i, s in enumerate(block.slots) if s.spec.type is not DataType.STRING)
    fields = [(block.slots[i].offset, block.slots[i].spec) for i in numeric]
    return BlockDecoder(fields), numeric


def _compile(device: DevicePlan) -> tuple[tuple[_BlockReading, ...], ...]:
    """Per read group, the blocks to read with what turns their registers into readings."""
    compiled = []
    for group in device.groups:
        blocks = []
        for block in group.blocks:
            decoder, numeric = _decoder(block)
            points = [block.slots[i].point for i in numeric]
            blocks.append(
                _BlockReading(
                    block,
                    decoder,
                    tuple(device.point_ids[p] for p in points),
                    tuple(device.multipliers[p] for p in points),
                )
            )
        compiled.append(tuple(blocks))
    return tuple(compiled)


def _wake(nap: asyncio.Future[None]) -> None:
    if not nap.done():
        nap.set_result(None)


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
        *,
        clock: Callable[[], float] = time.time,
        speed: float = 1.0,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.source = source
        self.devices = list(devices)
        self._spool = spool
        self._validator = validator
        self._metrics = metrics
        # Label look-ups cost a dict and a lock each; resolve them once, not per poll.
        self._poll_seconds = metrics.poll_seconds.labels(source.id)
        self._readings_in = metrics.readings_in.labels(source.id)
        self._device_poll = {
            d.unit_id: metrics.device_poll_seconds.labels(source.id, d.meter) for d in devices
        }
        self._last_success = {
            d.meter: metrics.last_success.labels(source.id, d.meter) for d in devices
        }
        self._on_spooled = on_spooled
        self._held = HeldRows(spool, self._spooled)
        self._clock = clock
        self._speed = speed
        now = clock()
        self.states = {
            d.unit_id: DeviceState([next_tick(now, g.interval) for g in d.groups])
            for d in self.devices
        }
        self._client = modbus_client(source)
        self._stopping = False
        self._nap: asyncio.Future[None] | None = None  # the sleep `stop` cuts short
        self._compiled = {d.unit_id: _compile(d) for d in self.devices}
        self._reads = {
            Function.COIL: self._client.read_coils,
            Function.DISCRETE_INPUT: self._client.read_discrete_inputs,
            Function.HOLDING: self._client.read_holding_registers,
            Function.INPUT: self._client.read_input_registers,
        }

    def close(self) -> None:
        """Close the gateway connection (the poll loop closes it itself when it ends)."""
        self._client.close()

    def stop(self) -> None:
        """Make `run` return after the poll in progress, its rows spooled; at once if idle.

        Asked rather than cancelled, a poller never abandons a request half-way, which
        leaves pymodbus an answer to nothing, and it cannot shrug the stop off as it can a
        cancel on Python 3.11 (see meterledger.supervision).
        """
        self._stopping = True
        if self._nap is not None:
            _wake(self._nap)

    async def run(self) -> None:
        """Poll until `stop` or a cancel; either way spool what is held, then disconnect."""
        log.info(
            "%s: polling %d device(s) on %s",
            self.source.id,
            len(self.devices),
            self.source.describe(),
        )
        try:
            while not self._stopping:
                now = self._clock()
                due = sorted(
                    (
                        (tick, device, index)
                        for device in self.devices
                        for index, tick in enumerate(self.states[device.unit_id].due)
                        if tick <= now
                    ),
                    key=lambda item: item[0],
                )
                for tick, device, index in due:
                    state = self.states[device.unit_id]
                    # A failure earlier in this round backs off the device's other groups.
                    if state.due[index] == tick and not self._stopping:
                        if state.failures:  # it may take a timeout: spool what is held first
                            await self._held.spool()
                        await self._poll_and_reschedule(device, index)
                await self._held.spool()
                wake = min(s.next_due for s in self.states.values())
                await self._sleep((wake - self._clock()) / self._speed)
        finally:
            self._held.spool_now()  # a cancel's leftovers; after `stop`, nothing is held
            self._client.close()

    async def _sleep(self, seconds: float) -> None:
        """Sleep until the next poll is due, or until `stop` wakes us."""
        if seconds <= 0 or self._stopping:
            await asyncio.sleep(0)  # flat out: yield, but no timer per round
            return
        loop = asyncio.get_running_loop()
        self._nap = loop.create_future()
        timer = loop.call_later(seconds, _wake, self._nap)
        try:
            await self._nap
        finally:
            timer.cancel()
            self._nap = None

    async def _poll_and_reschedule(self, device: DevicePlan, index: int) -> None:
        state = self.states[device.unit_id]
        group = device.groups[index]
        tick = state.due[index]
        started = time.perf_counter()
        try:
            values = await self._read_values(device.unit_id, self._compiled[device.unit_id][index])
        except DeviceError as exc:
            self._fail(device, state, exc)
            return
        elapsed = time.perf_counter() - started
        self._poll_seconds.observe(elapsed)
        self._device_poll[device.unit_id].observe(elapsed)
        now = self._clock()
        check, ts = self._validator.check, datetime.fromtimestamp(tick, UTC)
        stamp = datetime.fromtimestamp(now, UTC)
        tick_us = to_us(ts)
        # Plain tuples in the spool's form: every reading gets its flags, nothing else.
        rows = [(point, tick_us, value, check(point, ts, value, stamp)) for point, value in values]
        await self._held.add(rows)  # spooled with the round's others (collector/held_rows.py)
        self._last_success[device.meter].set(time.time())
        if state.failures:
            log.info("%s: %s (unit %d) answers again", self.source.id, device.meter, device.unit_id)
        state.failures, state.last_error, state.last_success = 0, None, now
        state.due[index] = max(tick + group.interval, next_tick(self._clock(), group.interval))

    def _spooled(self, count: int) -> None:
        self._on_spooled(count)
        self._readings_in.inc(count)

    def _fail(self, device: DevicePlan, state: DeviceState, exc: DeviceError) -> None:
        state.failures += 1
        state.last_error = exc.reason
        backoff = min(
            self.source.retry_backoff * 2 ** (state.failures - 1), self.source.retry_backoff_max
        )
        retry = self._clock() + backoff * self._speed
        state.due = [next_tick(retry, g.interval) for g in device.groups]
        self._metrics.device_errors.labels(self.source.id, device.meter).inc()
        log.warning(
            "%s: %s failed %d time(s) in a row, next try in %.1f s: %s",
            self.source.id,
            device.meter,
            state.failures,
            (state.next_due - self._clock()) / self._speed,
            exc,
        )

    async def poll(self, device: DevicePlan, ts: datetime) -> list[Reading]:
        """Read every group of a device once; raise DeviceError on any failure."""
        rows = []
        for blocks in _compile(device):
            values = await self._read_values(device.unit_id, blocks)
            rows += [Reading(point, ts, value) for point, value in values]
        return rows

    async def _read_values(
        self, unit_id: int, blocks: Sequence[_BlockReading]
    ) -> list[tuple[int, float]]:
        """(point id, value) of every number in the blocks, CT/PT multipliers applied."""
        values: list[tuple[int, float]] = []
        for plan in blocks:
            decoded = plan.decoder.decode(await self._read(unit_id, plan.block))
            values += zip(
                plan.point_ids,
                [v * m for v, m in zip(decoded, plan.multipliers, strict=True)],
                strict=True,
            )
        return values

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
        read = self._reads[block.function]
        return await read(block.address, count=block.count, device_id=unit_id)
