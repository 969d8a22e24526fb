"""Ledger inputs over HTTP: manual entries, contractual instruments and production figures.

Each write is checked the way the ledger will state it before anything is stored (an
entry goes through `ledger.manual.state_entry`, so 561 km against a per-t·km factor is
refused naming the field and both units; a production line must be one of the site's).
The input, its evidence files (stored by SHA-256), the audit-log row and, for a month that
was approved, its pending restatement are written in one transaction: all or nothing.
A correction is a void with a reason and a new input (docs/ledger-inputs.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, UploadFile
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from api.auth import Caller
from api.input_schemas import (
    EntryAdded,
    EntryForm,
    EntryOut,
    InstrumentAdded,
    InstrumentForm,
    InstrumentOut,
    Items,
    MonthEffect,
    ProductionAdded,
    ProductionIn,
    ProductionOut,
    VoidOut,
    VoidRequest,
)
from api.schemas_ledger import MONTH_PATTERN
from api.workflow_routes import PeriodKey, SiteKey
from api.write_schemas import ERRORS, LineChangeOut
from ledger import closing
from ledger.close import SiteBook
from ledger.manual import state_entry
from ledger.periods import Month
from ledger.ports import EntryRecord
from ledger.statements import Status
from meterledger.errors import InputError, NotFoundError
from store.access import AuditEntry, Token, append_audit
from store.ledger_input_rows import Listed
from store.ledger_inputs import MAX_EVIDENCE_BYTES, StoreLedgerInputs, Table
from store.rollup_source import StoreRollupSource
from store.statements import StoreStatements
from store.transaction import SharedConnection, transaction

InputId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MULTIPART = "multipart/form-data"
#: An instrument longer than this is a typing error, not a contract.
LONGEST_INSTRUMENT = timedelta(days=3 * 366)


def input_router(pool: AsyncConnectionPool, books: Mapping[str, SiteBook]) -> APIRouter:
    """Routes under ``/api/v1/sites/{site}/`` for a month's entries and production, and
    a site's instruments; ``books`` by site key."""
    router = APIRouter(prefix="/api/v1/sites/{site}", tags=["ledger inputs"])
    readings = StoreRollupSource(pool)
    inputs = StoreLedgerInputs(pool)

    def book_of(site: str) -> SiteBook:
        if site not in books:
            raise NotFoundError("site", site)
        return books[site]

    async def effects(
        tx: SharedConnection, book: SiteBook, months: list[Month]
    ) -> list[MonthEffect]:
        """Recheck each month the input counts in, inside the write's transaction."""
        statements, written = StoreStatements(tx), StoreLedgerInputs(tx)
        return [await _effect(book, m, readings, statements, written) for m in months]

    @router.post(
        "/periods/{period}/entries", status_code=201, response_model=EntryAdded, responses=ERRORS
    )
    async def add_entry(
        site: SiteKey,
        period: PeriodKey,
        who: Caller,
        form: Annotated[EntryForm, Form(media_type=MULTIPART)],
    ) -> EntryAdded:
        """Record a manual activity entry (diesel, refrigerant, road freight in t·km) with
        its evidence files; refused, naming the field, when the ledger cannot state it."""
        book = book_of(site)
        month = _started(book, period)
        record = EntryRecord(
            0, form.category, form.quantity, form.unit, form.description, who.name,
            datetime.now(UTC), form.factor, form.gas, form.density, form.density_unit,
        )  # fmt: skip
        if form.density is not None and form.density_unit is None:
            raise InputError("density_unit", "(missing)", f"density {form.density} needs a unit")
        if form.density is None and form.density_unit is not None:
            raise InputError("density", "(missing)", f"density_unit {form.density_unit} needs it")
        line, _ = state_entry(record, book.entry_factors(), month.first_day, month.next().first_day)
        files = await _read(form.evidence)
        async with transaction(pool) as tx:
            store = StoreLedgerInputs(tx)
            refs = [await store.store_evidence(c, n, m, who.name) for n, m, c in files]
            stored = await store.add_entry(
                site, month, category=form.category, quantity=form.quantity, unit=form.unit,
                entered_by=who.name, description=form.description, factor=form.factor,
                gas=form.gas, density=form.density, density_unit=form.density_unit,
                evidence=[r.sha256 for r in refs],
            )  # fmt: skip
            shown = EntryOut.of(Listed(stored))
            await _audit(tx, who, "entry.add", f"{site}/entry/{stored.id}", site, shown)
            months = await effects(tx, book, [month])
        return EntryAdded(
            **shown.model_dump(), tco2e=line.tco2e, formula=line.formula, months=months
        )

    @router.get("/periods/{period}/entries", response_model=Items[EntryOut], responses=ERRORS)
    async def list_entries(
        site: SiteKey, period: PeriodKey, voided: bool = False
    ) -> Items[EntryOut]:
        """A month's manual entries, oldest first, with their evidence files' SHA-256."""
        month = _month(period)
        listed = await inputs.entries(site, month, voided=voided)
        return Items[EntryOut](items=[EntryOut.of(e) for e in listed])

    @router.post("/instruments", status_code=201, response_model=InstrumentAdded, responses=ERRORS)
    async def add_instrument(
        site: SiteKey, who: Caller, form: Annotated[InstrumentForm, Form(media_type=MULTIPART)]
    ) -> InstrumentAdded:
        """Record a contractual instrument (GEC, I-REC, PPA): MWh over [period_start,
        period_end) at its own factor, with certificate ids and evidence files."""
        book = book_of(site)
        if form.period_end <= form.period_start:
            raise InputError("period_end", str(form.period_end), "must be after period_start")
        if form.period_end - form.period_start > LONGEST_INSTRUMENT:
            raise InputError("period_end", str(form.period_end), "covers more than three years")
        files = await _read(form.evidence)
        async with transaction(pool) as tx:
            store = StoreLedgerInputs(tx)
            refs = [await store.store_evidence(c, n, m, who.name) for n, m, c in files]
            stored = await store.add_instrument(
                site, kind=form.kind, mwh=form.mwh, period_start=form.period_start,
                period_end=form.period_end, factor=form.factor, entered_by=who.name,
                certificates=form.certificates, evidence=[r.sha256 for r in refs],
            )  # fmt: skip
            shown = InstrumentOut.of(Listed(stored))
            await _audit(tx, who, "instrument.add", f"{site}/instrument/{stored.id}", site, shown)
            months = await effects(tx, book, _covered(form.period_start, form.period_end))
        return InstrumentAdded(**shown.model_dump(), months=months)

    @router.get("/instruments", response_model=Items[InstrumentOut], responses=ERRORS)
    async def list_instruments(
        site: SiteKey,
        period: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
        voided: bool = False,
    ) -> Items[InstrumentOut]:
        """A site's instruments (those covering ``period``, or all), oldest first."""
        month = _month(period) if period else None
        listed = await inputs.instruments(site, month, voided=voided)
        return Items[InstrumentOut](items=[InstrumentOut.of(i) for i in listed])

    @router.post(
        "/periods/{period}/production",
        status_code=201,
        response_model=ProductionAdded,
        responses=ERRORS,
    )
    async def add_production(
        site: SiteKey, period: PeriodKey, who: Caller, body: ProductionIn
    ) -> ProductionAdded:
        """Record a line's output for the month; ``replace`` voids the live figure first.

        The entered figure wins over the line's MES counter in the KPIs."""
        book = book_of(site)
        month = _started(book, period)
        lines = book.production_lines()
        if body.line not in lines:
            known = ", ".join(sorted(lines)) or "none declared"
            raise InputError("line", body.line, f"not a production line of {site} ({known})")
        async with transaction(pool) as tx:
            stored = await StoreLedgerInputs(tx).add_production(
                site, month, body.line, body.tonnes, source=body.source,
                entered_by=who.name, replace=body.replace,
            )  # fmt: skip
            shown = ProductionOut.of(Listed(stored))
            await _audit(tx, who, "production.add", f"{site}/production/{stored.id}", site, shown)
            months = await effects(tx, book, [month])
        return ProductionAdded(**shown.model_dump(), months=months)

    @router.get(
        "/periods/{period}/production", response_model=Items[ProductionOut], responses=ERRORS
    )
    async def list_production(
        site: SiteKey, period: PeriodKey, voided: bool = False
    ) -> Items[ProductionOut]:
        """A month's entered production figures per line, oldest first."""
        month = _month(period)
        listed = await inputs.production(site, month, voided=voided)
        return Items[ProductionOut](items=[ProductionOut.of(p) for p in listed])

    async def void(site: str, table: Table, input_id: int, who: Token, reason: str) -> VoidOut:
        book = book_of(site)
        kind = {"manual_entry": "entry", "contract_instrument": "instrument"}.get(
            table, "production"
        )
        async with transaction(pool) as tx:
            first, last = await StoreLedgerInputs(tx).void(site, table, input_id, who.name, reason)
            after = {"id": input_id, "reason": reason, "months": [first, last]}
            await _audit(tx, who, f"{kind}.void", f"{site}/{kind}/{input_id}", site, after)
            months = _between(Month.parse(first), Month.parse(last).next())
            return VoidOut(id=input_id, months=await effects(tx, book, months))

    @router.post("/entries/{input_id}/void", response_model=VoidOut, responses=ERRORS)
    async def void_entry(
        site: SiteKey, input_id: InputId, who: Caller, body: VoidRequest
    ) -> VoidOut:
        """Void a manual entry with a reason: the one change an approved month's input allows."""
        return await void(site, "manual_entry", input_id, who, body.reason)

    @router.post("/instruments/{input_id}/void", response_model=VoidOut, responses=ERRORS)
    async def void_instrument(
        site: SiteKey, input_id: InputId, who: Caller, body: VoidRequest
    ) -> VoidOut:
        """Void a contractual instrument with a reason."""
        return await void(site, "contract_instrument", input_id, who, body.reason)

    @router.post("/production/{input_id}/void", response_model=VoidOut, responses=ERRORS)
    async def void_production(
        site: SiteKey, input_id: InputId, who: Caller, body: VoidRequest
    ) -> VoidOut:
        """Void a production figure with a reason."""
        return await void(site, "production_entry", input_id, who, body.reason)

    return router


async def _effect(
    book: SiteBook,
    month: Month,
    readings: StoreRollupSource,
    statements: StoreStatements,
    written: StoreLedgerInputs,
) -> MonthEffect:
    """What an input does to a month: taken at close, a draft to redo, or a pending
    restatement of the approved version (recorded, as `ledger.closing.recheck` does)."""
    period = str(month)
    latest = await statements.latest(book.site, period)
    if latest is None:
        return MonthEffect(period=period, status="open", effect="taken at close")
    status = latest.status.value
    if latest.status is not Status.APPROVED:
        effect = f"draft version {latest.version}: close it again with a reason to take it"
        return MonthEffect(period=period, status=status, effect=effect)
    changes = await closing.recheck(book, month, readings, statements, written, written)
    return MonthEffect(
        period=period,
        status=status,
        effect="pending restatement" if changes else "no change",
        pending_restatement=[LineChangeOut.of(c) for c in changes],
    )


def _month(period: str) -> Month:
    try:
        return Month.parse(period)
    except ValueError as exc:
        raise InputError("period", period, str(exc)) from exc


def _started(book: SiteBook, period: str) -> Month:
    """The month, once it has begun in the site's time zone: nothing is known of later ones."""
    month = _month(period)
    today = datetime.now(ZoneInfo(book.zone)).date()
    if month.first_day > today:
        raise InputError("period", period, f"has not begun yet in {book.zone}")
    return month


def _covered(start: date, end: date) -> list[Month]:
    """The months an instrument over [start, end) counts in."""
    return _between(Month.of(start), Month.of(end - timedelta(days=1)).next())


def _between(first: Month, end: Month) -> list[Month]:
    months = []
    while first < end:
        months.append(first)
        first = first.next()
    return months


async def _read(files: Sequence[UploadFile]) -> list[tuple[str, str, bytes]]:
    """(name, media type, bytes) of each evidence file; refuse an empty or too big one."""
    read = []
    for upload in files:
        name = upload.filename or "evidence"
        if upload.size is not None and upload.size > MAX_EVIDENCE_BYTES:
            raise InputError("evidence", name, f"{upload.size} bytes; at most {MAX_EVIDENCE_BYTES}")
        content = await upload.read()
        if not content:
            raise InputError("evidence", name, "the file is empty")
        media = upload.content_type or "application/octet-stream"
        read.append((name.replace("\x00", ""), media, content))
    return read


async def _audit(
    tx: SharedConnection,
    who: Token,
    action: str,
    subject: str,
    site: str,
    after: BaseModel | Mapping[str, Any],
) -> None:
    shown = after.model_dump(mode="json") if isinstance(after, BaseModel) else after
    entry = AuditEntry(who.name, action, subject, token_id=who.id, site=site, after=shown)
    await append_audit(tx, entry)
