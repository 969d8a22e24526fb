"""Child processes of a benchmark, so their CPU and memory stay out of its figures.

A child is ``python ARGS`` with its output in a log file of the run's scratch folder. A
child of ours that talks over pipes ends when its stdin closes; the others are stopped
with SIGINT (the ``meterledger`` command shuts down cleanly on it). Any child is killed
if it lingers, and asked by the kernel to stop when this process dies, however it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@contextlib.asynccontextmanager
async def child(
    *args: str, log: Path, env: Mapping[str, str] | None = None, talk: bool = False
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run ``python *args`` for the block; with ``talk``, its stdin and stdout are pipes."""
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdin=asyncio.subprocess.PIPE if talk else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if talk else sink,
            stderr=sink,
            preexec_fn=_stop_with_parent,
        )
    try:
        yield process
    finally:
        await _stop(process)


def _stop_with_parent() -> None:
    """In the child, before exec: have Linux send SIGTERM when the benchmark dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Close a talking child's stdin (its signal to end), then SIGINT, then SIGKILL."""
    if process.stdin is not None:
        process.stdin.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 2)
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(process.wait(), 15)
    except TimeoutError:
        process.kill()
        await process.wait()


async def expect_line(
    process: asyncio.subprocess.Process, wanted: str, log: Path, within: float
) -> None:
    """Wait for a talking child to print ``wanted``; raise, with its log, if it does not."""
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), within)
    except TimeoutError:
        raise failure(f"the child did not say {wanted!r} within {within:.0f} s", log) from None
    if line.decode().strip() != wanted:
        raise failure(f"the child said {line!r} instead of {wanted!r}", log)


async def tell(process: asyncio.subprocess.Process, line: str) -> None:
    """Send a talking child one line on its standard input."""
    assert process.stdin is not None
    process.stdin.write(f"{line}\n".encode())
    await process.stdin.drain()


def failure(what: str, log: Path) -> RuntimeError:
    """An error naming what went wrong, with the end of the child's log."""
    tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
    return RuntimeError("; ".join([what, *tail]))


async def wait_for_ports(
    process: asyncio.subprocess.Process, ports: Iterable[int], log: Path, within: float = 30.0
) -> None:
    """Return once the child accepts connections on every loopback port; raise if it exits."""
    deadline = time.monotonic() + within
    for port in ports:
        while not await _accepts(port):
            if process.returncode is not None:
                raise failure(f"the child exited with {process.returncode}", log)
            if time.monotonic() > deadline:
                raise failure(f"nothing listens on 127.0.0.1:{port}", log)
            await asyncio.sleep(0.1)


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
