"""The simulated clock: wall time, or accelerated from a start, paused, and stopping."""

import asyncio
import time

import pytest

from simulators.clock import SimClock


def test_default_clock_is_the_wall_clock() -> None:
    assert SimClock().now() == pytest.approx(time.time(), abs=0.01)


def test_accelerated_clock_runs_speed_times_faster_from_its_start() -> None:
    clock = SimClock(speed=3600, start=1_767_225_600)
    time.sleep(0.05)
    assert clock.now() - 1_767_225_600 == pytest.approx(180, abs=60)


def test_paused_clock_holds_its_start_until_released() -> None:
    clock = SimClock(speed=3600, start=1000.0, paused=True)
    time.sleep(0.02)
    assert clock.now() == 1000.0
    clock.release()
    time.sleep(0.02)
    assert clock.now() > 1000.0


def test_clock_stops_at_until() -> None:
    clock = SimClock(speed=1e6, start=0.0, until=100.0)
    time.sleep(0.01)
    assert clock.now() == 100.0
    assert clock.finished


async def test_sleep_until_waits_for_release_and_never_passes_until() -> None:
    clock = SimClock(speed=3600, start=0.0, until=7200.0, paused=True)
    waiting = asyncio.create_task(clock.sleep_until(360.0))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # paused
    clock.release()
    await asyncio.wait_for(waiting, 1)  # 360 simulated s = 0.1 real s
    beyond = asyncio.create_task(clock.sleep_until(7300.0))
    await asyncio.sleep(2.2)  # the clock reaches 7200 and stops there
    assert clock.finished
    assert not beyond.done()
    beyond.cancel()


def test_speed_must_be_positive() -> None:
    with pytest.raises(ValueError, match="speed"):
        SimClock(speed=0)
