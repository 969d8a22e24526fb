"""Waiting in tests for something that happens in another thread or process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Return once ``check()`` holds; fail the test if it does not within ``within`` s."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
