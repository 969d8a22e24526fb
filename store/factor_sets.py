"""Imported factor sets: the CSV text as checked, by name and version, never replaced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from meterledger.errors import StoreError
from store.transaction import Connections


@dataclass(frozen=True, slots=True)
class StoredSet:
    name: str
    version: str
    title: str
    digest: str
    csv: str
    imported_at: datetime
    imported_by: str


_COLUMNS = "name, version, title, digest, csv, imported_at, imported_by"


async def save_set(
    pool: Connections, name: str, version: str, title: str, digest: str, csv: str, by: str
) -> tuple[StoredSet, bool]:
    """Store a set unless its name and version exist; return what is stored under them
    and whether this call stored it.

    The caller compares digests: the same text again is a no-op, other text is a conflict.
    """
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(
                """INSERT INTO factor_set (name, version, title, digest, csv, imported_by)
                   VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (name, version) DO NOTHING
                   RETURNING name""",
                (name, version, title, digest, csv, by),
            )
            created = await cur.fetchone() is not None
    except psycopg.Error as exc:
        raise StoreError(f"storing factor set {name}@{version}: {exc}") from exc
    stored = await stored_sets(pool, name=name, version=version)
    return stored[0], created


async def stored_sets(
    pool: Connections, *, name: str | None = None, version: str | None = None
) -> list[StoredSet]:
    """Imported sets by name and version, optionally one of them."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(
                f"""SELECT {_COLUMNS} FROM factor_set
                    WHERE (%s::text IS NULL OR name = %s) AND (%s::text IS NULL OR version = %s)
                    ORDER BY name, version""".encode(),
                (name, name, version, version),
            )
            return [StoredSet(*row) for row in await cur.fetchall()]
    except psycopg.Error as exc:
        raise StoreError(f"reading imported factor sets: {exc}") from exc
