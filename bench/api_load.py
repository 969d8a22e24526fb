"""``python -m bench.api_load``: an HTTP/1.1 load generator for the API benchmarks.

A child process, so its CPU is not the server's. Each line on stdin is a job, JSON
``{"port", "path", "token", "connections", "seconds"}``; each answer on stdout is JSON
``{"requests", "seconds", "rps", "p50_ms", "p99_ms", "statuses", "client_cpu"}``.
Every connection is kept alive and sends its next request as soon as the last answer is
read (a closed loop, as wrk does), so the server sets the pace. Requests and answers are
written and parsed by hand on asyncio streams: about 30 µs of client CPU a request, where
httpx spends several hundred and would be the bottleneck against a trivial route.
``client_cpu`` is the share of one core the generator used: near 1.0 means it, not the
server, was the limit.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from typing import Any


async def _connection(
    port: int, request: bytes, deadline: float, latencies: list[float], statuses: Counter[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(_length(head))
            latencies.append(time.perf_counter() - sent)
            statuses[int(head[9:12])] += 1
    finally:
        writer.close()
        await writer.wait_closed()


def _length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")


async def load(
    port: int, path: str, token: str, connections: int, seconds: float
) -> dict[str, Any]:
    """Keep ``connections`` requests of ``GET path`` in flight for ``seconds``."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    cpu, started = time.process_time(), time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_connection(port, request, deadline, latencies, statuses) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": cuts[49] * 1e3,
        "p99_ms": cuts[98] * 1e3,
        "statuses": {str(k): v for k, v in statuses.items()},
        "client_cpu": (time.process_time() - cpu) / elapsed,
    }


def main() -> None:
    for line in sys.stdin:
        job = json.loads(line)
        result = asyncio.run(
            load(job["port"], job["path"], job["token"], job["connections"], job["seconds"])
        )
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
