"""Live values as server-sent events: ``GET /api/v1/live/stream``.

One shared poller per app reads the newest value of every point each second and hands
what changed to every connected client. The writer commits in batches and sends no
notification (PostgreSQL LISTEN/NOTIFY would need the writer's cooperation), so polling
is the robust way to see commits; sharing one poller makes a hundred open dashboards cost
one indexed query a second instead of a hundred. It runs only while someone listens.

Each event carries a point's newest value as of a poll: a point read several times
within one interval sends its latest reading only (the others are in its raw series).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime

from fastapi import APIRouter
from fastapi.sse import EventSourceResponse, ServerSentEvent
from psycopg_pool import AsyncConnectionPool

from api.auth import Caller, sees
from api.schemas import LiveValue
from meterledger.errors import StoreError
from store.quality import quality_names
from store.readings import LatestValue, latest_values

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
QUEUE_DEPTH = 32  # polls a slow client may lag behind before it misses the oldest


class LiveFeed:
    """The shared poller: subscribers get the list of values that changed at each poll."""

    def __init__(self, pool: AsyncConnectionPool, interval: float = POLL_SECONDS) -> None:
        self._pool = pool
        self._interval = interval
        self._queues: set[asyncio.Queue[list[LatestValue]]] = set()
        self._seen: dict[int, datetime | None] = {}
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[list[LatestValue]]]:
        """Receive the changes committed from now on, until the block ends."""
        queue: asyncio.Queue[list[LatestValue]] = asyncio.Queue(QUEUE_DEPTH)
        if self._task is None:
            self._seen = {r.point_id: r.ts for r in await latest_values(self._pool)}
            self._task = asyncio.create_task(self._poll(), name="live feed")
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)
            if not self._queues and self._task is not None:
                self._task.cancel()
                self._task = None

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                rows = await latest_values(self._pool)
            except StoreError as exc:
                log.warning("live feed: %s; retrying", exc)
                continue
            changed = [r for r in rows if r.ts is not None and self._seen.get(r.point_id) != r.ts]
            self._seen.update((r.point_id, r.ts) for r in changed)
            if changed:
                for queue in self._queues:
                    _offer(queue, changed)


def _offer(queue: asyncio.Queue[list[LatestValue]], changed: list[LatestValue]) -> None:
    """Queue a poll's changes; a client too slow to keep up loses its oldest poll."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(changed)


def live_value(row: LatestValue) -> LiveValue:
    return LiveValue(
        site=row.site,
        meter=row.meter,
        point=row.point,
        point_id=row.point_id,
        quantity=row.quantity,
        unit=row.unit,
        kind=row.kind,  # type: ignore[arg-type]
        ts=row.ts,
        value=row.value,
        quality=None if row.quality is None else quality_names(row.quality),
    )


def stream_router(feed: LiveFeed) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["live"])

    @router.get(
        "/live/stream",
        response_class=EventSourceResponse,
        name="live_stream",
        operation_id="live_stream",
    )
    async def live_stream(who: Caller) -> AsyncIterable[ServerSentEvent]:
        """New values as they are committed (event ``value``, data a LiveValue)."""
        async with feed.subscribe() as queue:
            while True:
                for row in await queue.get():
                    if sees(who, row.site):
                        assert row.ts is not None
                        yield ServerSentEvent(
                            data=live_value(row),
                            event="value",
                            id=f"{row.point_id}@{row.ts.isoformat()}",
                        )

    return router
