"""Statements in PostgreSQL: the `ledger.closing.StatementStore` port.

Appending takes a per-site advisory lock and checks that the statement extends the
site's chain head, so two closers cannot fork the chain; the table's trigger keeps
content immutable and approved rows locked whatever client connects.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from ledger.closing import StoredStatement
from ledger.statements import GENESIS, LineChange, Sealed, Status, canonical
from meterledger.errors import StoreError, WorkflowError
from store.queries import fetch_all
from store.transaction import Connections

_COLUMNS = """s.key, st.period, st.version, st.status, st.content_hash, st.previous_hash,
              st.content, st.reason, st.created_at"""


class StoreStatements:
    def __init__(self, pool: Connections) -> None:
        # A pool, or one transaction's connection (store.transaction) for an audited write.
        self._pool = pool

    async def latest(self, site: str, period: str) -> StoredStatement | None:
        rows = await self._rows(
            f"""SELECT {_COLUMNS} FROM statement st JOIN site s ON s.id = st.site_id
                WHERE s.key = %s AND st.period = %s ORDER BY st.version DESC LIMIT 1""",
            (site, period),
        )
        return _stored(rows[0]) if rows else None

    async def versions(self, site: str, period: str) -> list[StoredStatement]:
        rows = await self._rows(
            f"""SELECT {_COLUMNS} FROM statement st JOIN site s ON s.id = st.site_id
                WHERE s.key = %s AND st.period = %s ORDER BY st.version""",
            (site, period),
        )
        return [_stored(row) for row in rows]

    async def chain(self, site: str) -> list[StoredStatement]:
        """Every statement of a site in chain order, for verification."""
        rows = await self._rows(
            f"""SELECT {_COLUMNS} FROM statement st JOIN site s ON s.id = st.site_id
                WHERE s.key = %s ORDER BY st.id""",
            (site,),
        )
        return [_stored(row) for row in rows]

    async def chain_head(self, site: str) -> str | None:
        rows = await self._rows(
            """SELECT st.content_hash FROM statement st JOIN site s ON s.id = st.site_id
               WHERE s.key = %s ORDER BY st.id DESC LIMIT 1""",
            (site,),
        )
        return str(rows[0][0]) if rows else None

    async def append(self, site: str, sealed: Sealed, status: Status) -> StoredStatement:
        statement = sealed.statement
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('statement:' || %s))", (site,)
                )
                cur = await conn.execute(
                    """SELECT st.content_hash FROM statement st JOIN site s ON s.id = st.site_id
                       WHERE s.key = %s ORDER BY st.id DESC LIMIT 1""",
                    (site,),
                )
                head = await cur.fetchone()
                if (head[0] if head else GENESIS) != sealed.previous_hash:
                    raise WorkflowError(
                        status.value,
                        status.value,
                        f"{site}: the chain moved on while this was computed",
                    )
                await conn.execute(
                    """DELETE FROM pending_restatement p USING site s
                       WHERE s.id = p.site_id AND s.key = %s AND p.period = %s""",
                    (site, statement.period),
                )
                await conn.execute(
                    """INSERT INTO statement (site_id, period, version, status, content,
                                              content_hash, previous_hash, reason)
                       SELECT id, %s, %s, %s, %s, %s, %s, %s FROM site WHERE key = %s""",
                    (
                        statement.period,
                        statement.version,
                        status.value,
                        canonical(statement.content()).decode(),
                        sealed.hash,
                        sealed.previous_hash,
                        statement.reason,
                        site,
                    ),
                )
        except psycopg.Error as exc:
            raise StoreError(
                f"storing {site} {statement.period} v{statement.version}: {exc}"
            ) from exc
        stored = await self.latest(site, statement.period)
        assert stored is not None
        return stored

    async def set_status(self, site: str, period: str, version: int, status: Status) -> None:
        stamp = {Status.REVIEWED: ", reviewed_at = now()", Status.APPROVED: ", approved_at = now()"}
        try:
            async with self._pool.connection() as conn:
                await conn.execute(
                    f"""UPDATE statement st SET status = %s{stamp.get(status, "")}
                        FROM site s WHERE s.id = st.site_id AND s.key = %s
                        AND st.period = %s AND st.version = %s""".encode(),
                    (status.value, site, period, version),
                )
        except psycopg.Error as exc:
            raise StoreError(f"moving {site} {period} v{version} to {status}: {exc}") from exc

    async def _rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return await fetch_all(self._pool, sql, params, "reading statements")


def _stored(row: tuple[Any, ...]) -> StoredStatement:
    site, period, version, status, hash_, previous, content, reason, created = row
    return StoredStatement(
        site, period, version, Status(status), hash_, previous, content.encode(), reason, created
    )


async def closed_periods(pool: AsyncConnectionPool, site: str) -> set[str]:
    """Periods of a site that have a statement (any version, any status)."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(
                """SELECT DISTINCT st.period FROM statement st JOIN site s ON s.id = st.site_id
                   WHERE s.key = %s""",
                (site,),
            )
            return {str(row[0]) for row in await cur.fetchall()}
    except psycopg.Error as exc:
        raise StoreError(f"reading closed periods of {site}: {exc}") from exc


async def first_reading(pool: AsyncConnectionPool, site: str) -> datetime | None:
    """The hour of a site's first accepted reading, from the hourly statistics."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(
                """SELECT min(h.hour) FROM reading_hourly h JOIN point p ON p.id = h.point_id
                   JOIN meter m ON m.id = p.meter_id JOIN site s ON s.id = m.site_id
                   WHERE s.key = %s""",
                (site,),
            )
            row = await cur.fetchone()
            return row[0] if row else None
    except psycopg.Error as exc:
        raise StoreError(f"reading the first reading of {site}: {exc}") from exc


async def record_pending(
    pool: Connections, site: str, period: str, version: int, changes: list[LineChange]
) -> None:
    """Keep (or, with no changes, drop) the pending restatement of an approved month."""
    rows = [
        {"key": c.key, "before": _text(c.before), "after": _text(c.after), "fields": c.fields}
        for c in changes
    ]
    try:
        async with pool.connection() as conn:
            if not rows:
                await conn.execute(
                    """DELETE FROM pending_restatement p USING site s
                       WHERE s.id = p.site_id AND s.key = %s AND p.period = %s""",
                    (site, period),
                )
                return
            await conn.execute(
                """INSERT INTO pending_restatement (site_id, period, based_on_version, changes)
                   SELECT id, %s, %s, %s FROM site WHERE key = %s
                   ON CONFLICT (site_id, period) DO UPDATE SET
                       based_on_version = EXCLUDED.based_on_version,
                       changes = EXCLUDED.changes, detected_at = now()""",
                (period, version, Jsonb(rows), site),
            )
    except psycopg.Error as exc:
        raise StoreError(f"recording the pending restatement of {site} {period}: {exc}") from exc


async def pending(pool: AsyncConnectionPool, site: str, period: str) -> list[dict[str, Any]]:
    """The changes a restatement of an approved month would make; empty when none."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(
                """SELECT p.changes FROM pending_restatement p JOIN site s ON s.id = p.site_id
                   WHERE s.key = %s AND p.period = %s""",
                (site, period),
            )
            row = await cur.fetchone()
            return list(row[0]) if row else []
    except psycopg.Error as exc:
        raise StoreError(f"reading the pending restatement of {site} {period}: {exc}") from exc


async def approved_periods(pool: AsyncConnectionPool, site: str) -> list[str]:
    """Periods whose latest version is approved."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(
                """SELECT DISTINCT ON (st.period) st.period, st.status
                   FROM statement st JOIN site s ON s.id = st.site_id WHERE s.key = %s
                   ORDER BY st.period, st.version DESC""",
                (site,),
            )
            return [str(p) for p, status in await cur.fetchall() if status == "approved"]
    except psycopg.Error as exc:
        raise StoreError(f"reading approved periods of {site}: {exc}") from exc


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
