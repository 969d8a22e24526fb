"""The Modbus ceiling: a bare pymodbus client reading the poll's blocks, and nothing else.

No decoding, no timestamps, no spool, no database, no scheduling: what any Modbus poller
in Python must spend at least, so the collector's figures are read against it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence

from pymodbus.client import AsyncModbusTcpClient

from bench.plant import Gateway
from collector.readplan import Block


@contextlib.asynccontextmanager
async def connected(gateways: Sequence[Gateway]) -> AsyncIterator[list[AsyncModbusTcpClient]]:
    """One connected client per gateway, closed on exit."""
    clients = [
        AsyncModbusTcpClient("127.0.0.1", port=g.port, timeout=2, retries=0) for g in gateways
    ]
    try:
        for client, gateway in zip(clients, gateways, strict=True):
            if not await client.connect():
                raise RuntimeError(f"the bare client cannot connect to port {gateway.port}")
        yield clients
    finally:
        for client in clients:
            client.close()


async def poll_all_until(
    clients: Sequence[AsyncModbusTcpClient],
    gateways: Sequence[Gateway],
    blocks: Sequence[Block],
    deadline: float,
) -> int:
    """Poll round after round, flat out, until ``time.monotonic() >= deadline``; count polls."""
    polls = 0
    while time.monotonic() < deadline:
        polls += await poll_round(clients, gateways, blocks)
    return polls


async def poll_every(
    clients: Sequence[AsyncModbusTcpClient],
    gateways: Sequence[Gateway],
    blocks: Sequence[Block],
    interval: float,
    until: float,
) -> int:
    """Poll one round at every multiple of ``interval`` before ``until`` (Unix time).

    Paced like the collector, because a loop that never sleeps spends less CPU per request
    (warm caches, no wake-ups) than one that idles between rounds: the ceiling must idle
    as the collector does to be a fair one. Return the polls made; return at ``until``.
    """
    polls = 0
    while (tick := (time.time() // interval + 1) * interval) < until:
        await asyncio.sleep(tick - time.time())
        polls += await poll_round(clients, gateways, blocks)
    await asyncio.sleep(max(0.0, until - time.time()))
    return polls


async def poll_round(
    clients: Sequence[AsyncModbusTcpClient], gateways: Sequence[Gateway], blocks: Sequence[Block]
) -> int:
    """Poll every unit of every gateway once, the gateways concurrently; count polls."""
    counts = await asyncio.gather(
        *(
            _poll_units(client, gateway.units, blocks)
            for client, gateway in zip(clients, gateways, strict=True)
        )
    )
    return sum(counts)


async def _poll_units(
    client: AsyncModbusTcpClient, units: Sequence[int], blocks: Sequence[Block]
) -> int:
    for unit in units:
        for block in blocks:
            response = await client.read_input_registers(
                block.address, count=block.count, device_id=unit
            )
            if response.isError():
                raise RuntimeError(f"unit {unit} answered {response}")
    return len(units)
