"""Simulated Modbus gateways running for the length of a test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from simulators.modbus_gateway import SimulatedModbusGateway


@contextlib.asynccontextmanager
async def serving(gateway: SimulatedModbusGateway) -> AsyncIterator[SimulatedModbusGateway]:
    """Serve ``gateway`` until the block ends; give it a moment to bind first."""
    task = asyncio.create_task(gateway.run())
    await asyncio.sleep(0.3)
    try:
        yield gateway
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
