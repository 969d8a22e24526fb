"""One statement on a pooled connection, its psycopg errors turned into StoreError.

Most store reads are exactly that: borrow a connection (or the shared one of an open
`store.transaction`), run one statement, hand back its rows, and say what was being done
when the database refused. The SQL text is sent as bytes: psycopg then skips encoding the
same string again on every call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from meterledger.errors import StoreError
from store.transaction import Connections

Params = Sequence[Any] | Mapping[str, Any]


async def fetch_all(
    pool: Connections, sql: str, params: Params, doing: str, *, binary: bool = False
) -> list[tuple[Any, ...]]:
    """The rows of one statement; StoreError naming ``doing`` if the database refuses it.

    ``binary`` asks for results in PostgreSQL's binary format: faster to load for pages of
    hundreds of timestamps.
    """
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(sql.encode(), params, binary=binary)
            return await cur.fetchall()
    except psycopg.Error as exc:
        raise StoreError(f"{doing}: {exc}") from exc


async def execute(pool: Connections, sql: str, params: Params, doing: str) -> None:
    """Run one statement that returns nothing; StoreError naming ``doing`` if refused."""
    try:
        async with pool.connection() as conn:
            await conn.execute(sql.encode(), params)
    except psycopg.Error as exc:
        raise StoreError(f"{doing}: {exc}") from exc
