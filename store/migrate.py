"""Apply the SQL migrations in ``store/migrations`` once each, in order, under a lock.

Several processes may start at once (collector, scheduler, API): a session-level advisory
lock serialises them, and each migration runs in its own transaction together with its
record in ``schema_migration``, so a failed one leaves nothing half-applied. An applied
migration whose file has since changed is an error, never re-run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import psycopg

from meterledger.errors import MigrationError, StoreError

LOCK_KEY = 0x6D657465  # "mete": an advisory-lock key owned by meterledger

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migration (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    version: str
    name: str
    applied_at: datetime


@dataclass(frozen=True, slots=True)
class DatabaseStatus:
    server_version: str
    timescaledb_version: str | None
    reading_is_hypertable: bool
    applied: list[AppliedMigration]
    pending: list[str]


def shipped_migrations() -> list[Migration]:
    """The migrations shipped in the package, ordered by version."""
    found = []
    for entry in resources.files("store.migrations").iterdir():
        if entry.name.endswith(".sql"):
            version, _, rest = entry.name.partition("_")
            found.append(Migration(version, rest.removesuffix(".sql"), entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


def migrate(url: str) -> list[str]:
    """Apply pending migrations; return the versions applied by this call."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            try:
                return _apply_pending(conn)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    except psycopg.Error as exc:
        raise StoreError(f"migrating {redact(url)}: {exc}") from exc


def _apply_pending(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    conn.execute(_CREATE_TABLE)
    recorded: dict[str, str] = {
        str(version): str(checksum)
        for version, checksum in conn.execute(
            "SELECT version, checksum FROM schema_migration"
        ).fetchall()
    }
    done = []
    for migration in shipped_migrations():
        checksum = recorded.get(migration.version)
        if checksum is not None:
            if checksum != migration.checksum:
                raise MigrationError(migration.version, "applied, but its file has changed since")
            continue
        try:
            with conn.transaction():
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migration (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
        except psycopg.Error as exc:
            raise MigrationError(migration.version, str(exc)) from exc
        done.append(migration.version)
    return done


def status(url: str) -> DatabaseStatus:
    """Report the server, TimescaleDB (or its absence) and the migrations applied."""
    try:
        with psycopg.connect(url) as conn:
            server = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            row = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
            ).fetchone()
            timescale = str(row[0]) if row else None
            applied = _applied(conn)
            hyper = timescale is not None and bool(
                conn.execute(
                    "SELECT count(*) FROM timescaledb_information.hypertables"
                    " WHERE hypertable_name = 'reading'"
                ).fetchone()[0]  # type: ignore[index]
            )
    except psycopg.Error as exc:
        raise StoreError(f"reading status of {redact(url)}: {exc}") from exc
    known = {m.version for m in applied}
    pending = [m.version for m in shipped_migrations() if m.version not in known]
    return DatabaseStatus(server, timescale, hyper, applied, pending)


def _applied(conn: psycopg.Connection[tuple[object, ...]]) -> list[AppliedMigration]:
    exists = conn.execute("SELECT to_regclass('schema_migration') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return []
    rows = conn.execute(
        "SELECT version, name, applied_at FROM schema_migration ORDER BY version"
    ).fetchall()
    return [AppliedMigration(str(v), str(n), a) for v, n, a in rows]  # type: ignore[arg-type]


def redact(url: str) -> str:
    """Drop a password from a connection URL before it reaches a log or an error."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in creds:
        return url
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
