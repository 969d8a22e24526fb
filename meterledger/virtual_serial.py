"""A virtual RS-485 cable: two pseudo-terminals joined by socat, for simulated RTU lines.

The collector opens one end as it would open ``/dev/ttyUSB0``; a simulated gateway serves
on the other. Both ends are symlinks socat makes to its ptys and removes when it stops.
socat is a Debian package, not a Python one; without it a simulated ``transport: rtu``
source cannot start, and the error says how to install it. A pty has no baud rate: line
settings are accepted by both ends but nothing is slowed down or garbled by them.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from meterledger.errors import EmbeddedServiceError

INSTALL_SOCAT = "apt-get install -y socat"
LINK_WAIT = 5.0  # seconds; socat links its ptys within milliseconds


@contextlib.asynccontextmanager
async def virtual_serial_pair(near: Path, far: Path) -> AsyncIterator[tuple[Path, Path]]:
    """Join ``near`` and ``far`` by a virtual null-modem cable while the block runs."""
    binary = shutil.which("socat")
    if binary is None:
        raise EmbeddedServiceError(f"a virtual serial line needs socat: {INSTALL_SOCAT}")
    for end in (near, far):
        if end.exists() and not end.is_symlink():
            raise EmbeddedServiceError(f"{end} exists and is not a link to a pty: not replacing it")
        end.parent.mkdir(parents=True, exist_ok=True)
        end.unlink(missing_ok=True)  # a link left by a socat that was killed
    process = await asyncio.create_subprocess_exec(
        binary,
        f"pty,raw,echo=0,link={near}",
        f"pty,raw,echo=0,link={far}",
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        try:
            async with asyncio.timeout(LINK_WAIT):
                await _linked(process, (near, far))
        except TimeoutError:
            raise EmbeddedServiceError(
                f"socat did not link {near} and {far} within {LINK_WAIT} s"
            ) from None
        yield near, far
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def _linked(process: asyncio.subprocess.Process, ends: tuple[Path, Path]) -> None:
    """Return once socat has made both links; raise with its message if it stopped."""
    while not all(end.is_symlink() and end.exists() for end in ends):
        if process.returncode is not None:
            message = await process.stderr.read() if process.stderr else b""
            raise EmbeddedServiceError(
                f"socat stopped before linking {ends[0]} and {ends[1]}:"
                f" {message.decode(errors='replace').strip()}"
            )
        await asyncio.sleep(0.01)
