"""API tokens and the audit log: who may call the API, and what every write changed.

A token's secret is shown once, when it is created; the database keeps its SHA-256 only
(see migration 0008 for why a fast hash suffices). Every write of the system records an
`AuditEntry` in the same transaction as the change itself, so neither exists without the
other; the table's trigger keeps the log append-only.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from meterledger.errors import StoreError
from store.transaction import Connections, transaction

Role = Literal["viewer", "operator", "manager", "auditor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)

#: Prefix of every secret, so a leaked one is recognisable in logs and secret scanners.
SECRET_PREFIX = "mlt_"


@dataclass(frozen=True, slots=True)
class Token:
    """A stored token, without its secret."""

    id: int
    name: str
    role: Role
    site: str | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just created, with the secret that is never stored or shown again."""

    token: Token
    secret: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One write: who (token id and actor name), what (action, subject), before and after."""

    actor: str
    action: str
    subject: str
    token_id: int | None = None
    site: str | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    token_id: int | None
    actor: str
    action: str
    subject: str
    site: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def new_secret() -> str:
    """A fresh secret: 256 random bits, URL-safe, so it can ride in a link."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


_TOKEN = """SELECT t.id, t.name, t.role, s.key AS site, t.created_at, t.created_by,
                   t.revoked_at, t.last_used_at
            FROM api_token t LEFT JOIN site s ON s.id = t.site_id"""


async def create_token(
    pool: AsyncConnectionPool, name: str, role: Role, *, created_by: str, site: str | None = None
) -> IssuedToken:
    """Store a new token's hash and audit it; the returned secret exists nowhere else.

    Raise StoreError naming the site when the catalog has no such site.
    """
    secret = new_secret()
    async with transaction(pool) as tx:
        token = await _insert_token(tx, name, role, site, secret_hash(secret), created_by)
        await append_audit(
            tx,
            AuditEntry(
                created_by, "token.create", f"token/{token.id}", site=site, after=_shown(token)
            ),
        )
    return IssuedToken(token, secret)


async def _insert_token(
    connections: Connections, name: str, role: Role, site: str | None, hashed: str, by: str
) -> Token:
    async with connections.connection() as conn:
        site_id = None
        if site is not None:
            cur = await conn.execute("SELECT id FROM site WHERE key = %s", (site,))
            row = await cur.fetchone()
            if row is None:
                raise StoreError(f"token for site {site!r}: no such site in the catalog")
            site_id = row[0]
        cur = await conn.execute(
            """INSERT INTO api_token (name, role, site_id, secret_hash, created_by)
               VALUES (%s, %s, %s, %s, %s) RETURNING id""",
            (name, role, site_id, hashed, by),
        )
        row = await cur.fetchone()
        assert row is not None
        return await _token(connections, row[0])


async def list_tokens(pool: AsyncConnectionPool) -> list[Token]:
    """Every token, revoked ones included, oldest first."""
    try:
        async with pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(Token))
            await cur.execute(f"{_TOKEN} ORDER BY t.id")
            return await cur.fetchall()
    except psycopg.Error as exc:
        raise StoreError(f"listing tokens: {exc}") from exc


async def revoke_token(pool: AsyncConnectionPool, token_id: int, *, revoked_by: str) -> Token:
    """Revoke a token from now on, and audit it; revoking it again changes nothing.

    Raise StoreError when there is no such token.
    """
    async with transaction(pool) as tx:
        before = await _token(tx, token_id)
        if before.revoked_at is not None:
            return before
        await tx.conn.execute("UPDATE api_token SET revoked_at = now() WHERE id = %s", (token_id,))
        after = await _token(tx, token_id)
        await append_audit(
            tx,
            AuditEntry(
                revoked_by,
                "token.revoke",
                f"token/{token_id}",
                site=after.site,
                before=_shown(before),
                after=_shown(after),
            ),
        )
    return after


async def _token(connections: Connections, token_id: int) -> Token:
    async with connections.connection() as conn:
        cur = conn.cursor(row_factory=class_row(Token))
        await cur.execute(f"{_TOKEN} WHERE t.id = %s", (token_id,))
        token = await cur.fetchone()
    if token is None:
        raise StoreError(f"no token with id {token_id}")
    return token


# One round trip per request: find the token and, at most once a minute, note its use.
_AUTHENTICATE = f"""
WITH found AS ({_TOKEN} WHERE t.secret_hash = %(hash)s),
touched AS (
    UPDATE api_token SET last_used_at = now()
    WHERE id IN (SELECT id FROM found WHERE revoked_at IS NULL
                 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')))
SELECT * FROM found"""


async def authenticate(pool: AsyncConnectionPool, secret: str) -> Token | None:
    """The live token with this secret; None when it is unknown or revoked."""
    try:
        async with pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(Token))
            await cur.execute(_AUTHENTICATE, {"hash": secret_hash(secret)})
            token = await cur.fetchone()
    except psycopg.Error as exc:
        raise StoreError(f"checking a token: {exc}") from exc
    return token if token is not None and token.revoked_at is None else None


async def token_is_live(pool: AsyncConnectionPool, secret: str) -> bool:
    """Whether a secret still opens the API, without noting a use of it."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT 1 FROM api_token WHERE secret_hash = %s AND revoked_at IS NULL",
                (secret_hash(secret),),
            )
            return await cur.fetchone() is not None
    except psycopg.Error as exc:
        raise StoreError(f"checking a token: {exc}") from exc


_APPEND = """
INSERT INTO audit_log (token_id, actor, action, subject, site_id, before, after)
VALUES (%s, %s, %s, %s, (SELECT id FROM site WHERE key = %s), %s, %s)
RETURNING id"""


async def append_audit(connections: Connections, entry: AuditEntry) -> int:
    """Add ``entry`` to the log; pass the write's transaction so both commit together."""
    try:
        async with connections.connection() as conn:
            cur = await conn.execute(
                _APPEND,
                (
                    entry.token_id,
                    entry.actor,
                    entry.action,
                    entry.subject,
                    entry.site,
                    None if entry.before is None else Jsonb(dict(entry.before)),
                    None if entry.after is None else Jsonb(dict(entry.after)),
                ),
            )
            row = await cur.fetchone()
    except psycopg.Error as exc:
        raise StoreError(f"writing the audit log ({entry.action} {entry.subject}): {exc}") from exc
    assert row is not None
    return int(row[0])


async def audit_records(
    pool: AsyncConnectionPool,
    *,
    site: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[AuditRecord]:
    """Entries in the order they were written, from after ``after_id``; one site's only if given.

    Entries with no site (token changes of unscoped tokens) belong to no site's log.
    """
    try:
        async with pool.connection() as conn:
            cur = conn.cursor(row_factory=class_row(AuditRecord))
            await cur.execute(
                """SELECT a.id, a.at, a.token_id, a.actor, a.action, a.subject, s.key AS site,
                          a.before, a.after
                   FROM audit_log a LEFT JOIN site s ON s.id = a.site_id
                   WHERE a.id > %(after)s AND (%(site)s::text IS NULL OR s.key = %(site)s)
                   ORDER BY a.id LIMIT %(limit)s""",
                {"after": after_id, "site": site, "limit": limit},
            )
            return await cur.fetchall()
    except psycopg.Error as exc:
        raise StoreError(f"reading the audit log: {exc}") from exc


def _shown(token: Token) -> dict[str, Any]:
    """What the audit log keeps of a token: everything but timestamps of use."""
    return {
        "id": token.id,
        "name": token.name,
        "role": token.role,
        "site": token.site,
        "revoked_at": None if token.revoked_at is None else token.revoked_at.isoformat(),
    }
