"""Factor sets and their records: list, show, and (for admins) import one from CSV.

An import is checked by the same reader as the shipped sets, so every refusal names the
line, column and value; it is stored as the text that was checked. A name and version
already taken by other text is a conflict: a corrected set is a new version.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from api.auth import Caller
from api.factor_library import Entry, is_shipped, library
from api.pagination import CursorParam, Limit, Page, decode, page_of
from api.problems import READ_PROBLEMS, problem_response
from api.schemas_ledger import FactorRecord
from api.statement_docs import factor_record
from ledger.factorsets import parse_factor_set
from meterledger.errors import InputError, NotFoundError
from store.access import AuditEntry, Token, append_audit
from store.factor_sets import StoredSet, save_set
from store.transaction import transaction

MAX_CSV_BYTES = 1_000_000
SetName = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]+$", max_length=100)]


class FactorSetOut(BaseModel):
    name: str = Field(examples=["cn-mee-grid"])
    version: str
    title: str
    digest: str = Field(description="SHA-256 of the set's CSV text")
    origin: str = Field(description="shipped with meterledger, or imported by an admin")
    records: int


def factor_router(pool: AsyncConnectionPool) -> APIRouter:
    router = APIRouter(prefix="/api/v1/factor-sets", tags=["factors"], responses=READ_PROBLEMS)

    @router.get("", name="list_factor_sets", operation_id="list_factor_sets")
    async def list_factor_sets(
        limit: Limit = 100, cursor: CursorParam = None
    ) -> Page[FactorSetOut]:
        """List every factor set, shipped and imported, by name and version."""
        after = tuple(decode(cursor, 2)) if cursor else ("", "")
        sets = await library(pool)
        keys = sorted(k for k in sets if k > after)[: limit + 1]
        return page_of([_set(sets[k]) for k in keys], limit, lambda s: [s.name, s.version])

    @router.get("/{name}/{version}", name="show_factor_set", operation_id="show_factor_set")
    async def show_factor_set(name: SetName, version: SetName) -> FactorSetOut:
        """Show one factor set."""
        return _set(await _entry(pool, name, version))

    @router.get("/{name}/{version}/factors", name="list_factors", operation_id="list_factors")
    async def list_factors(
        name: SetName,
        version: SetName,
        carrier: Annotated[str | None, Query(max_length=100)] = None,
        limit: Limit = 100,
        cursor: CursorParam = None,
    ) -> Page[FactorRecord]:
        """List a set's records in file order, optionally of one carrier: value, units,
        gas, region, data year, validity, publisher, document and what superseded it."""
        entry = await _entry(pool, name, version)
        after = int(decode(cursor, 1)[0]) if cursor else -1
        digest = entry.factor_set.digest
        indexed = [
            (i, f)
            for i, f in enumerate(entry.factor_set.factors)
            if i > after and carrier in (None, f.carrier)
        ][: limit + 1]
        page = page_of(indexed, limit, lambda item: [item[0]])
        return Page[FactorRecord](
            items=[factor_record(f, digest) for _, f in page.items], next_cursor=page.next_cursor
        )

    @router.post(
        "",
        name="import_factor_set",
        operation_id="import_factor_set",
        status_code=201,
        responses={
            200: {"model": FactorSetOut, "description": "The same text was imported before"},
            409: problem_response("The name and version exist with other content"),
            413: problem_response(f"More than {MAX_CSV_BYTES} bytes"),
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"text/csv": {"schema": {"type": "string"}}},
                "description": "a factor set in the shipped CSV format (docs/factors.md)",
            }
        },
    )
    async def import_factor_set(request: Request, response: Response, who: Caller) -> FactorSetOut:
        """Import a factor set from CSV (admins); refusals name the line, column and value."""
        body = await request.body()
        if len(body) > MAX_CSV_BYTES:
            raise HTTPException(413, f"{len(body)} bytes; a factor set may have {MAX_CSV_BYTES}")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError("body", f"byte {exc.start}", "the CSV must be UTF-8") from exc
        parsed = parse_factor_set(text, "(request body)")
        if is_shipped(parsed.name, parsed.version):
            raise HTTPException(
                409,
                f"{parsed.name}@{parsed.version} is shipped with meterledger; use a new version",
            )
        async with transaction(pool) as tx:  # the set and its audit row, or neither
            stored, created = await save_set(
                tx, parsed.name, parsed.version, parsed.title, parsed.digest, text, who.name
            )
            if stored.digest != parsed.digest:
                raise HTTPException(
                    409,
                    f"{parsed.name}@{parsed.version} exists with other content "
                    f"(sha256 {stored.digest[:12]}…); a corrected set is a new version",
                )
            if created:
                await append_audit(tx, _imported(who, parsed.name, parsed.version, stored))
        if not created:
            response.status_code = 200
        return _set(Entry(parsed, "imported"))

    return router


async def _entry(pool: AsyncConnectionPool, name: str, version: str) -> Entry:
    sets = await library(pool)
    if (name, version) not in sets:
        raise NotFoundError("factor set", f"{name}@{version}")
    return sets[(name, version)]


def _imported(who: Token, name: str, version: str, stored: StoredSet) -> AuditEntry:
    after = {"name": name, "version": version, "title": stored.title, "digest": stored.digest}
    return AuditEntry(
        who.name, "factor_set.import", f"{name}@{version}", token_id=who.id, after=after
    )


def _set(entry: Entry) -> FactorSetOut:
    s = entry.factor_set
    return FactorSetOut(
        name=s.name,
        version=s.version,
        title=s.title,
        digest=s.digest,
        origin=entry.origin,
        records=len(s.factors),
    )
