"""One transaction that several store calls share, so a write and its audit row commit together.

Store functions take anything with the pool's ``connection()``; inside `transaction` they
get a `SharedConnection` that hands every caller the same connection, so their statements
(nested ``conn.transaction()`` blocks become savepoints) commit or roll back as one.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Protocol

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from meterledger.errors import StoreError


class Connections(Protocol):
    """What store functions need of a pool: a connection for the length of a block."""

    def connection(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection[Any]]: ...


class SharedConnection:
    """A pool stand-in that lends the one connection of an open transaction."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self.conn = conn

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        yield self.conn


@contextlib.asynccontextmanager
async def transaction(pool: AsyncConnectionPool) -> AsyncIterator[SharedConnection]:
    """Run the block in one transaction: committed at its end, rolled back if it raises."""
    try:
        async with pool.connection() as conn, conn.transaction():
            yield SharedConnection(conn)
    except psycopg.Error as exc:
        raise StoreError(f"committing a write: {exc}") from exc
