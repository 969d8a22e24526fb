"""Payloads the collector could not decode, kept with their topic, bytes and reason.

Nothing is dropped silently: an operator can see what a gateway sent and why it was
refused, fix the mapping, and replay it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import psycopg
from psycopg_pool import AsyncConnectionPool

from meterledger.errors import StoreError


class DeadLetter(NamedTuple):
    received_at: datetime
    source: str
    topic: str
    payload: bytes
    reason: str


async def write_dead_letters(pool: AsyncConnectionPool, letters: Sequence[DeadLetter]) -> None:
    """Store letters in one transaction."""
    if not letters:
        return
    try:
        async with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO dead_letter (received_at, source, topic, payload, reason)"
                " VALUES (%s, %s, %s, %s, %s)",
                letters,
            )
    except psycopg.Error as exc:
        raise StoreError(f"writing {len(letters)} dead letters: {exc}") from exc
