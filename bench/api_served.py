"""The API served for a benchmark: the example plant's data, a token, uvicorn in a child.

`served_api` loads the data (`bench.api_plant`) and starts `bench.api_server`; `loader`
starts `bench.api_load`, and `measure` gives it one job. Server and load generator are
separate processes, so each one's CPU is its own and neither slows the other's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.api_plant import ApiPlant, admin_token, load_plant, load_readings
from bench.processes import child, expect_line, tell
from bench.services import Services
from meterledger.embedded import free_port

CONNECTIONS = 50


@dataclass(frozen=True, slots=True)
class Served:
    plant: ApiPlant
    port: int
    token: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def served_api(services: Services) -> AsyncIterator[Served]:
    """The API over the example plant in a child process, for the block."""
    now = datetime.now(UTC)
    plant = await asyncio.to_thread(load_plant, services.database_url, now)
    await load_readings(plant, services.database_url, now)
    token = await admin_token(services.database_url, "bench")
    port = free_port()
    log = services.workdir / "api_server.log"
    args = ("-m", "bench.api_server", services.database_url, str(port))
    async with child(*args, log=log, talk=True) as server:
        await expect_line(server, "ready", log, within=60)
        yield Served(plant, port, token)


@contextlib.asynccontextmanager
async def loader(services: Services) -> AsyncIterator[asyncio.subprocess.Process]:
    """The load generator in a child process, for the block."""
    async with child("-m", "bench.api_load", log=services.workdir / "api_load.log", talk=True) as p:
        yield p


async def measure(
    process: asyncio.subprocess.Process,
    api: Served,
    path: str,
    seconds: float,
    *,
    connections: int = CONNECTIONS,
) -> dict[str, Any]:
    """``connections`` keep-alive connections asking ``path`` for ``seconds``; all must be 200."""
    job = {
        "port": api.port,
        "path": path,
        "token": api.token,
        "connections": connections,
        "seconds": seconds,
    }
    await tell(process, json.dumps(job))
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), seconds + 60)
    if not line:
        raise RuntimeError(f"the load generator stopped while asking {path}")
    result: dict[str, Any] = json.loads(line)
    if set(result["statuses"]) != {"200"}:
        raise RuntimeError(f"{path} answered {result['statuses']}, not only 200")
    return result
