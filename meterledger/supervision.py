"""Run the parts as tasks, stop them all on a signal or on the first failure.

Stopping goes in stages (see `meterledger.bootstrap`): the sources first (Modbus pollers,
the MQTT subscriber), so that what they hold reaches the spool; then the writer, whose
last drain finds everything they spooled; then the rest. The caller closes the spool only
after all of them, and a caller cancelled while it waits (``bench.system`` cancels a stop
that seems slow) still waits for that, or a poller would append to a closed spool.

A part that can be asked to stop (a `StopRequest`) is asked, and finishes what it is doing:
a poller its poll, the writer its last drain. Cancelling is the fallback, and it may have
to be repeated: on Python 3.11 ``asyncio.wait_for`` can swallow a cancellation that arrives
as its inner future completes (CPython gh-86296, fixed in 3.12), and pymodbus awaits every
response that way, so a busy poller may shrug off one cancel. A part still running after
a grace period is cancelled (again), and named in the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from meterledger.errors import PartFailedError

log = logging.getLogger(__name__)

Task = Coroutine[Any, Any, None]
#: Ask a part to stop of its own accord once it has finished what it is doing.
StopRequest = Callable[[], None]
GRACE = 0.5  # seconds a cancelled part gets before it is cancelled again
PATIENCE = 10.0  # seconds an asked part gets: a poll's timeout, the writer's last drain (5 s)
ATTEMPTS = 20


async def run_until_stopped(
    tasks: dict[str, Task],
    stop: asyncio.Event,
    started: Callable[[], Coroutine[Any, Any, None]],
    ready: Callable[[], None],
    *,
    stages: Sequence[Mapping[str, StopRequest | None]] = (),
) -> None:
    """Run ``tasks`` until ``stop`` is set or one ends; call ``ready`` once ``started``.

    On the way out the parts named in ``stages`` stop first, stage by stage, each asked
    with its `StopRequest` (cancelled when it has none); the others are cancelled last.
    """
    running = {asyncio.create_task(coro, name=name): name for name, coro in tasks.items()}
    stopper = asyncio.create_task(stop.wait())
    starting = asyncio.create_task(started())
    done: set[asyncio.Task[Any]] = set()
    try:
        waited = [*running, stopper, starting]
        done, _ = await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
        if done == {starting}:
            ready()
            done, _ = await asyncio.wait([*running, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        starting.cancel()
        stopper.cancel()
        await _unless_interrupted(_stop_in_stages(running, stages))
    for task, name in running.items():
        if task in done and not task.cancelled() and task.exception() is not None:
            error = task.exception()
            raise PartFailedError(f"{name} stopped: {error}") from error


async def _unless_interrupted(stopping: Task) -> None:
    """Await ``stopping`` to its end even when cancelled meanwhile, then pass the cancel on."""
    task = asyncio.create_task(stopping)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    task.result()


async def _stop_in_stages(
    running: dict[asyncio.Task[None], str], stages: Sequence[Mapping[str, StopRequest | None]]
) -> None:
    left = dict(running)
    for stage in stages:
        parts = {t: n for t, n in left.items() if n in stage}
        await _stop(parts, stage)
        left = {t: n for t, n in left.items() if t not in parts}
    await _cancel_all(left)


async def _stop(
    parts: dict[asyncio.Task[None], str], requests: Mapping[str, StopRequest | None]
) -> None:
    """Ask the parts that can be asked and give them `PATIENCE`; cancel the others."""
    asked = []
    for task, name in parts.items():
        request = requests[name]
        if request is not None and not task.done():
            request()
            asked.append(task)
    if asked:
        _, late = await asyncio.wait(asked, timeout=PATIENCE)
        if late:
            log.warning("asked to stop, still running: %s", _names(parts, late))
    await _cancel_all(parts)


async def _cancel_all(running: dict[asyncio.Task[None], str]) -> None:
    pending = {t for t in running if not t.done()}
    for attempt in range(ATTEMPTS):
        if not pending:
            return
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=GRACE)
        if pending:
            log.warning(
                "still stopping after %d attempt(s): %s", attempt + 1, _names(running, pending)
            )
    if pending:
        log.error("gave up waiting for: %s", _names(running, pending))


def _names(running: dict[asyncio.Task[None], str], tasks: set[asyncio.Task[None]]) -> str:
    return ", ".join(sorted(running[t] for t in tasks))


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
