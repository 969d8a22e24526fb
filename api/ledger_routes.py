"""Ledger routes: month to date, periods and their status, statements, versions and their
diff, the lineage of a line, and the hash chain.

Month to date is `ledger.close.compute_statement` itself, with the same readings, inputs
and factor sets a close would use; stored statements are shown from the bytes their hash
covers. Nothing here writes (the workflow routes do).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from psycopg_pool import AsyncConnectionPool

from api.factor_library import library, records_for
from api.pagination import CursorParam, Limit, Page, decode, page_of
from api.problems import READ_PROBLEMS
from api.schemas_ledger import (
    MONTH_PATTERN,
    ActivityLineage,
    AppliedEvent,
    ChainCheck,
    ChangeOut,
    DiffOut,
    FindingOut,
    Lineage,
    LineOut,
    MonthToDate,
    PeriodOut,
    StatementOut,
    VersionOut,
)
from api.statement_docs import activity_out, factor_record, period_days, rebuild, statement_out
from ledger.close import SiteBook, compute_statement
from ledger.closing import StoredStatement
from ledger.periods import Month, Period
from ledger.statements import canonical, stored_diff, verify_stored
from meterledger.errors import InputError, NotFoundError
from store import catalog_reads
from store.ledger_inputs import StoreLedgerInputs
from store.ledger_reads import period_rows
from store.rollup_source import StoreRollupSource
from store.statements import StoreStatements, first_reading, pending

SiteKey = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]*$", examples=["shenyang-dairy"])]
PeriodKey = Annotated[str, Path(pattern=MONTH_PATTERN, examples=["2026-03"])]
Version = Annotated[int | None, Query(ge=1, description="a version; the latest when omitted")]


def ledger_router(pool: AsyncConnectionPool, books: Mapping[str, SiteBook]) -> APIRouter:
    router = APIRouter(prefix="/api/v1/sites/{site}", tags=["ledger"], responses=READ_PROBLEMS)
    readings = StoreRollupSource(pool)
    inputs = StoreLedgerInputs(pool)
    statements = StoreStatements(pool)

    @router.get("/month-to-date", name="month_to_date", operation_id="month_to_date")
    async def month_to_date(
        site: SiteKey,
        month: Annotated[
            str | None, Query(pattern=MONTH_PATTERN, description="default: the current month")
        ] = None,
    ) -> MonthToDate:
        """The site's statement for the month so far, computed now by the code that closes
        months: coverage, both scope-2 bases, intensity KPIs, findings, factors used."""
        book = books.get(site)
        if book is None:
            raise NotFoundError("site", site)
        now = datetime.now(UTC)
        chosen = Month.parse(month) if month else _current(book.zone, now)
        statement = await compute_statement(
            book, chosen, readings, inputs=inputs, computed_at=now, until=now
        )
        doc = json.loads(canonical(statement.content()))
        shown = statement_out(doc, await library(pool), status="to-date")
        interval = Period(book.zone, chosen).interval
        return MonthToDate(**shown.model_dump(), as_of=now, start=interval.start, end=interval.end)

    @router.get("/periods", name="list_periods", operation_id="list_periods")
    async def list_periods(
        site: SiteKey, limit: Limit = 100, cursor: CursorParam = None
    ) -> Page[PeriodOut]:
        """The site's months, newest first, from its first reading to this month, each with
        its status (open until closed) and its latest version."""
        zone = await _zone(pool, site)
        before = str(decode(cursor, 1)[0]) if cursor else "9999-99"
        stated = {r.period: r for r in await period_rows(pool, site)}
        months = set(stated)
        first = await first_reading(pool, site)
        if first is not None:
            month, last = _current(zone, first), _current(zone, datetime.now(UTC))
            while month <= last:
                months.add(str(month))
                month = month.next()
        rows = []
        for period in sorted((m for m in months if m < before), reverse=True)[: limit + 1]:
            row = stated.get(period)
            rows.append(
                PeriodOut(
                    period=period,
                    status=row.status if row else "open",  # type: ignore[arg-type]
                    version=row.version if row else None,
                    hash=row.content_hash if row else None,
                    created_at=row.created_at if row else None,
                    pending_restatement=row.pending if row else False,
                )
            )
        return page_of(rows, limit, lambda p: [p.period])

    @router.get("/periods/{period}", name="show_statement", operation_id="show_statement")
    async def show_statement(
        site: SiteKey, period: PeriodKey, version: Version = None
    ) -> StatementOut:
        """A period's statement (the latest version unless one is asked for): lines by
        scope, category, carrier and meter, activities, KPIs, findings, factors used."""
        stored = await _version(statements, site, period, version)
        shown = _shown(stored, await library(pool))
        if version is None or version == stored.version:
            shown.pending_restatement = await pending(pool, site, period) or None
        return shown

    @router.get("/periods/{period}/versions", name="list_versions", operation_id="list_versions")
    async def list_versions(
        site: SiteKey, period: PeriodKey, limit: Limit = 100, cursor: CursorParam = None
    ) -> Page[VersionOut]:
        """Every version of a period, oldest first, with its hash and why it exists."""
        after = int(decode(cursor, 1)[0]) if cursor else 0
        found = [v for v in await statements.versions(site, period) if v.version > after]
        if not found and not after:
            await _zone(pool, site)
            raise NotFoundError("statement", f"{site} {period}")
        rows = [_version_out(v) for v in found[: limit + 1]]
        return page_of(rows, limit, lambda v: [v.version])

    @router.get("/periods/{period}/diff", name="diff_versions", operation_id="diff_versions")
    async def diff_versions(
        site: SiteKey,
        period: PeriodKey,
        before: Annotated[
            int | None, Query(ge=1, description="default: the one before `after`")
        ] = None,
        after: Annotated[int | None, Query(ge=1, description="default: the latest")] = None,
    ) -> DiffOut:
        """What a restatement changed, line by line (and KPI by KPI), with the inputs that
        moved."""
        later = await _version(statements, site, period, after)
        number = before if before is not None else later.version - 1
        if number < 1 or number >= later.version:
            raise InputError("before", str(number), f"must be a version before {later.version}")
        earlier = await _version(statements, site, period, number)
        changes = stored_diff(earlier.content, rebuild(later.content))
        return DiffOut(
            site=site,
            period=period,
            before=earlier.version,
            after=later.version,
            reason=later.reason,
            changes=[
                ChangeOut(
                    key=c.key, before=c.before, after=c.after, delta=c.delta, fields=list(c.fields)
                )
                for c in changes
            ],
        )

    @router.get("/periods/{period}/lineage", name="line_lineage", operation_id="line_lineage")
    async def line_lineage(
        site: SiteKey,
        period: PeriodKey,
        line: Annotated[
            str,
            Query(min_length=1, max_length=300, examples=["scope2/electricity/location/grid-main"]),
        ],
        version: Version = None,
    ) -> Lineage:
        """From a statement line to its activity data, the boundary readings (instants,
        values, quality flags), the meter events applied, the factor records and the
        formula: what an auditor needs to recompute the line by hand."""
        stored = await _version(statements, site, period, version)
        doc = json.loads(stored.content)
        lines = {row["key"]: row for row in doc["lines"]}
        if line not in lines:
            raise NotFoundError("line", line)
        row = lines[line]
        interval = Period(await _zone(pool, site), Month.parse(period)).interval
        activities = {a["key"]: a for a in doc.get("activities", [])}
        traced = [
            await _traced(
                pool, site, activities[key], stored.created_at, interval.start, interval.end
            )
            for key in row.get("activity_keys", [])
            if key in activities
        ]
        sets = await library(pool)
        start, end = period_days(period)
        records = [
            factor_record(r, sets[(r.set_name, r.set_version)].factor_set.digest)
            for r in records_for(row["factor_id"], sets, start, end)
        ]
        return Lineage(
            site=site,
            period=period,
            version=stored.version,
            hash=stored.hash,
            start=interval.start,
            end=interval.end,
            line=LineOut.model_validate(row),
            activities=traced,
            factors=records,
            formula=row["formula"],
            recompute=_steps(row, traced),
        )

    @router.get("/chain", name="verify_chain", operation_id="verify_chain")
    async def verify_chain(site: SiteKey) -> ChainCheck:
        """Recompute the site's hash chain from the stored bytes; findings say where it
        breaks (`meterledger ledger verify` does the same)."""
        await _zone(pool, site)
        chain = await statements.chain(site)
        found = verify_stored([(s.previous_hash, s.content, s.hash) for s in chain])
        return ChainCheck(
            site=site,
            statements=len(chain),
            intact=not found,
            findings=[
                FindingOut(code=f.code, subject=f.subject, detail=f.detail, source=f.source)
                for f in found
            ],
        )

    return router


def _current(zone: str, instant: datetime) -> Month:
    return Month.of(instant.astimezone(ZoneInfo(zone)).date())


async def _zone(pool: AsyncConnectionPool, site: str) -> str:
    rows = await catalog_reads.sites(pool, key=site, limit=1)
    if not rows:
        raise NotFoundError("site", site)
    return rows[0].timezone


async def _version(
    statements: StoreStatements, site: str, period: str, version: int | None
) -> StoredStatement:
    versions = await statements.versions(site, period)
    if not versions:
        raise NotFoundError("statement", f"{site} {period}")
    if version is None:
        return versions[-1]
    for stored in versions:
        if stored.version == version:
            return stored
    raise NotFoundError("version", str(version))


def _shown(stored: StoredStatement, sets: Any) -> StatementOut:
    return statement_out(
        stored.content,
        sets,
        status=stored.status.value,
        hash=stored.hash,
        previous_hash=stored.previous_hash,
        created_at=stored.created_at,
    )


def _version_out(stored: StoredStatement) -> VersionOut:
    statement = rebuild(stored.content)
    return VersionOut(
        version=stored.version,
        status=stored.status.value,
        hash=stored.hash,
        previous_hash=stored.previous_hash,
        reason=stored.reason,
        created_at=stored.created_at,
        total_location=statement.total("location"),
        total_market=statement.total("market"),
    )


async def _traced(
    pool: AsyncConnectionPool,
    site: str,
    activity: dict[str, Any],
    computed: datetime,
    start: datetime,
    end: datetime,
) -> ActivityLineage:
    """An activity with the meter events that touch its point over its evidence."""
    shown = activity_out(activity)
    instants = [e.ts for e in shown.evidence] + [start, end]
    events = await catalog_reads.meter_events(
        pool,
        site,
        point_id=shown.point_id,
        start=min(instants),
        end=max(instants),
        limit=1000,
    )
    applied = [
        AppliedEvent(
            id=e.id,
            ts=e.ts,
            kind=e.kind,
            old_value=e.old_value,
            new_value=e.new_value,
            detail=e.detail,
            recorded_at=e.recorded_at,
            recorded_by=e.recorded_by,
            applied=e.recorded_at <= computed and e.kind != "manual_reading",
        )
        for e in events
    ]
    return ActivityLineage(**shown.model_dump(), events=applied)


def _steps(line: dict[str, Any], activities: list[ActivityLineage]) -> list[str]:
    """The recomputation in words, with the numbers of this line."""
    steps = []
    for a in activities:
        text = (
            f"{a.key}: {a.method}; counter {a.start_value} at the period start and "
            f"{a.end_value} at its end (from the readings listed)"
        )
        if a.corrections:
            text += "; corrected for " + "; ".join(a.corrections)
        steps.append(f"{text} = {a.quantity} {a.unit}")
    keys = ", ".join(line.get("activity_keys", []))
    steps.append(f"activity {line['activity']} {line['activity_unit']} ({keys})")
    steps.append(line["formula"])
    return steps
