"""Readings pile up in the spool while the database is unreachable and flow in after."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from prometheus_client import CollectorRegistry
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from collector.metrics import CollectorMetrics
from collector.spool import Spool
from collector.writer import BatchWriter
from meterledger.config import load_config
from meterledger.embedded import free_port
from store.catalog import PointRef, sync_catalog
from store.migrate import migrate
from store.pool import open_pool
from store.readings import Reading, write_packed

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


class Cable:
    """A TCP proxy to the database server that a test can unplug and plug back in."""

    def __init__(self, url: str) -> None:
        params = conninfo_to_dict(url)
        host = str(params.get("host") or "/var/run/postgresql")
        port = int(params.get("port") or 5432)
        self._target = (host, port)
        self.port = free_port()
        self.url = make_conninfo(url, host="127.0.0.1", port=str(self.port))
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    async def plug(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def unplug(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._pipes):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host, port = self._target
        if host.startswith("/"):
            return await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
        return await asyncio.open_connection(host, port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await self._connect()
        self._pipes |= {writer, upstream_writer}

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))
        self._pipes -= {writer, upstream_writer}


@pytest.fixture
async def cable(database_url: str) -> AsyncIterator[Cable]:
    migrate(database_url)
    proxy = Cable(database_url)
    await proxy.plug()
    yield proxy
    with contextlib.suppress(AssertionError):
        await proxy.unplug()


def batch(point: int, start: int, count: int) -> list[Reading]:
    return [
        Reading(point, T0 + timedelta(seconds=start + i), float(start + i)) for i in range(count)
    ]


async def eventually(check, within: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.2)


async def test_spool_holds_readings_through_an_outage(
    database_url: str, cable: Cable, tmp_path: Path
) -> None:
    ids = sync_catalog(database_url, load_config(PLANT).sites)
    point = ids[PointRef("test-site", "grid-main", "energy_import")]
    spool = Spool(tmp_path / "spool.db")
    pool = await open_pool(cable.url)
    registry = CollectorRegistry()
    writer = BatchWriter(
        spool,
        lambda packed, count: write_packed(pool, packed, count),
        CollectorMetrics(registry),
        batch_size=500,
        flush_interval=0.1,
        retry_max=1.0,
    )
    running = asyncio.create_task(writer.run())

    async def stored() -> int:
        with psycopg.connect(database_url) as conn:
            row = conn.execute("SELECT count(*) FROM reading WHERE point_id = %s", (point,))
            return int(row.fetchone()[0])  # type: ignore[index]

    try:
        spool.append(batch(point, 0, 1000))
        writer.wake()
        await eventually(lambda: _is(stored, 1000))
        await cable.unplug()
        for start in range(1000, 4000, 1000):
            spool.append(batch(point, start, 1000))
            writer.wake()
            await asyncio.sleep(0.5)
        assert spool.depth() >= 3000, "readings wait in the spool while the database is away"
        assert await stored() == 1000
        await cable.plug()
        await eventually(lambda: _is(stored, 4000))
        await eventually(lambda: _is(lambda: asyncio.to_thread(spool.depth), 0))
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await pool.close()
    assert (registry.get_sample_value("meterledger_write_errors_total") or 0) >= 1


async def _is(probe, expected: int) -> bool:  # type: ignore[no-untyped-def]
    return bool(await probe() == expected)
