"""The database and broker a run measures against: from the environment, or started here.

``METERLEDGER_BENCH_*`` wins over ``METERLEDGER_TEST_*`` so a bench can aim at a bigger
server than the tests use; with neither, an embedded PostgreSQL (pgserver) and a private
Mosquitto are started in a scratch folder. Either way the run gets a database of its own,
migrated like a fresh install and dropped afterwards, so repeated runs start equal.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg.conninfo import make_conninfo

from meterledger.embedded import embedded_broker, embedded_postgres
from store.migrate import migrate, status


@dataclass(frozen=True, slots=True)
class Services:
    """What every benchmark is handed."""

    database_url: str  # a database of this run only; see `own_database`
    mqtt_url: str | None  # None unless a selected benchmark needs a broker
    workdir: Path  # scratch space (spools), removed after the run
    database: str  # e.g. "TimescaleDB 2.19.3 on PostgreSQL 17.5, embedded"
    broker: str | None  # e.g. "127.0.0.1:1883, from the environment"


def _configured(name: str) -> str | None:
    return os.environ.get(f"METERLEDGER_BENCH_{name}") or os.environ.get(f"METERLEDGER_TEST_{name}")


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    """A folder for the run, removed after it.

    As root, the embedded PostgreSQL and Mosquitto run as users of their own, which must
    reach their folders inside it (pgserver would open it anyway), so it is kept out of
    $HOME and /tmp, in a tree of its own under /var/lib, and readable by all.
    """
    base = Path("/var/lib/meterledger-bench") if os.geteuid() == 0 else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base, prefix="run-") as folder:
        Path(folder).chmod(0o755)
        yield Path(folder)


@contextlib.asynccontextmanager
async def open_services(*, broker: bool) -> AsyncIterator[Services]:
    """Yield the services of one run; stop what was started and drop the database on exit."""
    async with contextlib.AsyncExitStack() as stack:
        workdir = stack.enter_context(_scratch())
        server = _configured("DATABASE_URL")
        origin = "from the environment"
        if not server:
            server = stack.enter_context(embedded_postgres(workdir / "postgres"))
            origin = "embedded"
        database_url = stack.enter_context(fresh_database(server))
        await asyncio.to_thread(migrate, database_url)
        database = f"{await asyncio.to_thread(describe_database, database_url)}, {origin}"
        mqtt_url, broker_name = None, None
        if broker:
            mqtt_url = _configured("MQTT_URL")
            broker_name = f"{_host(mqtt_url)}, from the environment" if mqtt_url else None
            if not mqtt_url:
                mqtt_url = await stack.enter_async_context(embedded_broker(workdir))
                broker_name = "embedded"
        yield Services(database_url, mqtt_url, workdir, database, broker_name)


@contextlib.asynccontextmanager
async def own_database(services: Services) -> AsyncIterator[Services]:
    """The same services with a fresh database of their own, dropped on exit.

    Each benchmark gets one: rows another left behind (tens of millions from ``ingest``)
    and the autovacuum they start would otherwise slow the next one's queries.
    """
    with fresh_database(services.database_url) as database_url:
        await asyncio.to_thread(migrate, database_url)
        yield dataclasses.replace(services, database_url=database_url)


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 1883}"


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Create an empty database on ``server_url``; drop it (and its sessions) on exit."""
    name = f"ml_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_conninfo(server_url, dbname=name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def describe_database(url: str) -> str:
    """Name the server as the figures depend on it: TimescaleDB or plain PostgreSQL."""
    found = status(url)
    server = found.server_version.split()[0]  # "17.5 (Debian 17.5-1)" -> "17.5"
    if found.timescaledb_version and found.reading_is_hypertable:
        return f"TimescaleDB {found.timescaledb_version} on PostgreSQL {server}"
    return f"plain PostgreSQL {server} (no TimescaleDB)"
