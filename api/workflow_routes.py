"""The period workflow over HTTP: close, review, approve, and restate with a reason.

Each action runs `ledger.closing` on the stored statements, as ``meterledger ledger``
does, inside one transaction with its audit-log row: the statement (or its new status)
and the record of who did it commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Body, Path
from psycopg_pool import AsyncConnectionPool

from api.auth import Caller
from api.schemas_ledger import MONTH_PATTERN
from api.write_schemas import (
    ERRORS,
    CloseRequest,
    LineChangeOut,
    PeriodState,
    RestatementRequest,
    RestatementState,
    StoredStatus,
)
from ledger import closing
from ledger.close import SiteBook
from ledger.closing import StoredStatement
from ledger.periods import Month, Period
from ledger.statements import Status
from ledger.workflow import restate
from meterledger.errors import InputError, NotFoundError
from store.access import AuditEntry, Token, append_audit
from store.catalog import KEY_PATTERN
from store.ledger_inputs import StoreLedgerInputs
from store.rollup_source import StoreRollupSource
from store.statements import StoreStatements
from store.transaction import SharedConnection, transaction

SiteKey = Annotated[str, Path(pattern=KEY_PATTERN, examples=["shenyang-dairy"])]
PeriodKey = Annotated[str, Path(pattern=MONTH_PATTERN, examples=["2026-03"])]


def workflow_router(pool: AsyncConnectionPool, books: Mapping[str, SiteBook]) -> APIRouter:
    """Routes under ``/api/v1/sites/{site}/periods/{period}/``; ``books`` by site key."""
    router = APIRouter(prefix="/api/v1/sites/{site}/periods/{period}", tags=["workflow"])
    readings = StoreRollupSource(pool)
    inputs = StoreLedgerInputs(pool)  # entries, instruments, production: as the CLI closes

    def book_of(site: str) -> SiteBook:
        if site not in books:
            raise NotFoundError("site", site)
        return books[site]

    @router.post("/close", status_code=201, response_model=PeriodState, responses=ERRORS)
    async def close_period(
        site: SiteKey,
        period: PeriodKey,
        who: Caller,
        body: Annotated[CloseRequest | None, Body()] = None,
    ) -> PeriodState:
        """Close an ended month (version 1), or compute a draft again with a reason.

        An approved month is not closed again: start a restatement instead.
        """
        book = book_of(site)
        month = _ended(book, period)
        reason = body.reason if body else None
        async with transaction(pool) as tx:
            store = StoreStatements(tx)
            before = await store.latest(site, period)
            if before is not None and before.status is Status.APPROVED:
                raise InputError(
                    "period", period, "is approved: start a restatement (with a reason) instead"
                )
            stored = await closing.close(book, month, readings, store, reason=reason, inputs=inputs)
            await _audit(tx, who, "period.close", stored, before)
        return _state(stored)

    async def move(site: str, period: str, who: Token, target: Status) -> PeriodState:
        book_of(site)
        async with transaction(pool) as tx:
            store = StoreStatements(tx)
            before = await store.latest(site, period)
            stored = await closing.move(store, site, _month(period), target)
            action = "review" if target is Status.REVIEWED else "approve"
            await _audit(tx, who, f"period.{action}", stored, before)
        return _state(stored)

    @router.post("/review", response_model=PeriodState, responses=ERRORS)
    async def review_period(site: SiteKey, period: PeriodKey, who: Caller) -> PeriodState:
        """Mark the latest version reviewed; blocking findings stop it."""
        return await move(site, period, who, Status.REVIEWED)

    @router.post("/approve", response_model=PeriodState, responses=ERRORS)
    async def approve_period(site: SiteKey, period: PeriodKey, who: Caller) -> PeriodState:
        """Approve (lock) the reviewed version; blocking findings stop it."""
        return await move(site, period, who, Status.APPROVED)

    @router.post("/restatement", status_code=201, response_model=RestatementState, responses=ERRORS)
    async def restate_period(
        site: SiteKey, period: PeriodKey, who: Caller, body: RestatementRequest
    ) -> RestatementState:
        """Compute an approved month again as a new version, saying why.

        The answer lists the lines that moved against the approved version.
        """
        book = book_of(site)
        month = _ended(book, period)
        async with transaction(pool) as tx:
            store = StoreStatements(tx)
            before = await store.latest(site, period)
            if before is None:
                raise InputError("period", period, "is open: close it first")
            restate(before.status, before.version, body.reason)
            changes = await closing.changes_since(book, month, readings, before, inputs)
            stored = await closing.close(
                book, month, readings, store, reason=body.reason, inputs=inputs
            )
            await _audit(tx, who, "period.restate", stored, before)
        moved = [LineChangeOut.of(c) for c in changes]
        return RestatementState(**_state(stored).model_dump(), changes=moved)

    return router


def _ended(book: SiteBook, period: str) -> Month:
    """The month, once it has ended in the site's time zone; InputError before."""
    month = _month(period)
    try:
        end = Period(book.zone, month).interval.end
    except ValueError as exc:  # December 9999 ends in a year that cannot be written
        raise InputError("period", period, str(exc)) from exc
    if end > datetime.now(UTC):
        raise InputError("period", period, f"has not ended yet (it ends {end.isoformat()})")
    return month


def _month(period: str) -> Month:
    try:
        return Month.parse(period)
    except ValueError as exc:
        raise InputError("period", period, str(exc)) from exc


async def _audit(
    tx: SharedConnection,
    who: Token,
    action: str,
    after: StoredStatement,
    before: StoredStatement | None,
) -> None:
    entry = AuditEntry(
        who.name,
        action,
        f"{after.site}/{after.period}",
        token_id=who.id,
        site=after.site,
        before=None if before is None else _summary(before),
        after=_summary(after),
    )
    await append_audit(tx, entry)


def _summary(stored: StoredStatement) -> dict[str, Any]:
    return {
        "version": stored.version,
        "status": stored.status.value,
        "hash": stored.hash,
        "reason": stored.reason,
    }


def _state(stored: StoredStatement) -> PeriodState:
    return PeriodState(
        site=stored.site,
        period=stored.period,
        version=stored.version,
        status=cast(StoredStatus, stored.status.value),
        hash=stored.hash,
        previous_hash=stored.previous_hash,
        reason=stored.reason,
        created_at=stored.created_at,
    )
