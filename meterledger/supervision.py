"""Run the parts as tasks, stop them all on a signal or on the first failure.

Stopping re-cancels: on Python 3.11 ``asyncio.wait_for`` can swallow a cancellation that
arrives as its inner future completes (CPython gh-86296, fixed in 3.12), and pymodbus
awaits every response that way, so a busy poller may shrug off one cancel. A part still
running after a grace period is cancelled again, and named in the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from meterledger.errors import PartFailedError

log = logging.getLogger(__name__)

Task = Coroutine[Any, Any, None]
GRACE = 0.5  # seconds a cancelled part gets before it is cancelled again
ATTEMPTS = 20


async def run_until_stopped(
    tasks: dict[str, Task],
    stop: asyncio.Event,
    started: Callable[[], Coroutine[Any, Any, None]],
    ready: Callable[[], None],
) -> None:
    """Run ``tasks`` until ``stop`` is set or one ends; call ``ready`` once ``started``."""
    running = {asyncio.create_task(coro, name=name): name for name, coro in tasks.items()}
    stopper = asyncio.create_task(stop.wait())
    starting = asyncio.create_task(started())
    done, _ = await asyncio.wait([*running, stopper, starting], return_when=asyncio.FIRST_COMPLETED)
    if done == {starting}:
        ready()
        done, _ = await asyncio.wait([*running, stopper], return_when=asyncio.FIRST_COMPLETED)
    starting.cancel()
    stopper.cancel()
    await _cancel_all(running)
    for task, name in running.items():
        if task in done and not task.cancelled() and task.exception() is not None:
            error = task.exception()
            raise PartFailedError(f"{name} stopped: {error}") from error


async def _cancel_all(running: dict[asyncio.Task[None], str]) -> None:
    pending = set(running)
    for attempt in range(ATTEMPTS):
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=GRACE)
        if not pending:
            return
        log.warning(
            "still stopping after %d attempt(s): %s",
            attempt + 1,
            ", ".join(sorted(running[t] for t in pending)),
        )
    log.error("gave up waiting for: %s", ", ".join(sorted(running[t] for t in pending)))


async def wait_started(server: Any) -> None:
    """Return once the API accepts connections (at once when there is no API)."""
    # uvicorn offers a flag, not an event, for "listening"
    while server is not None and not server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.02)


async def serve(server: Any) -> None:
    """Run uvicorn; on cancellation let it finish its shutdown instead of dropping it."""
    serving = asyncio.create_task(server.serve())
    try:
        await asyncio.shield(serving)
    finally:
        server.should_exit = True
        await serving
