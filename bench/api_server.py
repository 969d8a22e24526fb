"""``python -m bench.api_server DATABASE_URL PORT``: the API as ``meterledger serve`` runs it.

A child process of the API benchmarks, so the server's CPU is its own: the product's
`create_app` over the example plant (`bench.api_plant`), served by the product's
`make_server` (one uvicorn process). The app gains one bench-only route, ``GET
/bench/trivial``, behind the same bearer-token check as every product route (its rule is
added to this process's policy table), answering a constant: the ceiling of a request
through this stack. Prints ``ready`` once listening; stops when its stdin closes.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from api.app import create_app, make_server
from api.policy import POLICY, READ
from bench.api_plant import load_plant
from store.pool import open_pool

TRIVIAL = "/bench/trivial"


async def serve(database_url: str, port: int) -> None:
    plant = load_plant(database_url, datetime.now(UTC))
    pool = await open_pool(database_url)
    try:
        app = create_app(pool, CollectorRegistry(), books=plant.books(), intervals=plant.intervals)
        POLICY[("GET", TRIVIAL)] = READ  # this process only: the product has no such route

        @app.get(TRIVIAL, include_in_schema=False)
        async def trivial() -> dict[str, bool]:
            return {"ok": True}

        server = make_server(app, "127.0.0.1", port)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                serving.result()  # raises what stopped uvicorn
                raise RuntimeError("uvicorn stopped while starting")
            await asyncio.sleep(0.02)
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.read)  # until the benchmark closes our stdin
        server.should_exit = True
        await serving
    finally:
        await pool.close()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
