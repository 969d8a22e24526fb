"""Parts stop in stages: each stage has ended before the next is asked, the rest come last."""

import asyncio

import pytest

from meterledger.supervision import run_until_stopped


class Part:
    """A part that records when it was asked to stop and when it ended, in one shared log."""

    def __init__(self, name: str, log: list[str], *, lingers: float = 0.0) -> None:
        self.name = name
        self._log = log
        self._lingers = lingers
        self._asked = asyncio.Event()

    def ask(self) -> None:
        self._log.append(f"ask {self.name}")
        self._asked.set()

    async def run(self) -> None:
        try:
            await self._asked.wait()
            await asyncio.sleep(self._lingers)  # finishing its poll, or its last drain
        finally:
            self._log.append(f"end {self.name}")


async def nothing_to_start() -> None:
    return None


async def test_each_stage_ends_before_the_next_is_asked_and_the_rest_are_cancelled_last() -> None:
    log: list[str] = []
    poller, writer, api = Part("poller", log, lingers=0.05), Part("writer", log), Part("api", log)
    stop = asyncio.Event()
    stop.set()
    await run_until_stopped(
        {"poller": poller.run(), "writer": writer.run(), "api": api.run()},
        stop,
        nothing_to_start,
        lambda: None,
        stages=[{"poller": poller.ask}, {"writer": writer.ask}],
    )
    assert log == ["ask poller", "end poller", "ask writer", "end writer", "end api"]


async def test_a_cancelled_caller_still_waits_for_its_parts_to_stop() -> None:
    log: list[str] = []
    poller = Part("poller", log, lingers=0.2)
    stop = asyncio.Event()
    running = asyncio.create_task(
        run_until_stopped(
            {"poller": poller.run()},
            stop,
            nothing_to_start,
            lambda: None,
            stages=[{"poller": poller.ask}],
        )
    )
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.sleep(0.05)  # the poller is asked and takes its time...
    running.cancel()  # ...when the caller gives up on the stop
    with pytest.raises(asyncio.CancelledError):
        await running
    assert log == ["ask poller", "end poller"]
