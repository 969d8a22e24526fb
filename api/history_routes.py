"""``GET /api/v1/sites/{site}/history``: months side by side, from their stored statements.

Emissions by scope and carrier on both scope-2 bases, and the intensity KPIs, of the
latest version of each month that has a statement: one request for a two-year chart,
instead of one statement per month. The figures are the statements' own (`Statement.total`
over their lines), exact decimal strings like every ledger figure of the API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from psycopg_pool import AsyncConnectionPool

from api.problems import READ_PROBLEMS
from api.schemas_dashboard import History, MonthFigures, TargetMonth, TargetOut
from api.schemas_ledger import MONTH_PATTERN, KpiOut
from api.statement_docs import breakdown, rebuild
from ledger.close import SiteBook
from ledger.periods import Month
from ledger.targets import Target
from meterledger.errors import InputError, NotFoundError
from store import catalog_reads
from store.catalog import KEY_PATTERN
from store.statement_history import latest_by_month

SiteKey = Annotated[str, Path(pattern=KEY_PATTERN, examples=["shenyang-dairy"])]
From = Annotated[
    str | None,
    Query(alias="from", pattern=MONTH_PATTERN, description="default: 23 months before `to`"),
]
To = Annotated[str | None, Query(alias="to", pattern=MONTH_PATTERN, description="default: now")]
MAX_MONTHS = 120
DEFAULT_MONTHS = 24  # this year and the last, for "same month of the previous year"


def history_router(pool: AsyncConnectionPool, books: Mapping[str, SiteBook]) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["ledger"], responses=READ_PROBLEMS)

    @router.get("/sites/{site}/history", name="site_history", operation_id="site_history")
    async def site_history(
        site: SiteKey,
        start: From = None,
        end: To = None,
    ) -> History:
        """Each month's latest statement in brief (status, totals, tCO2e by scope and
        carrier, KPIs), oldest first; months without a statement are left out."""
        found = await catalog_reads.sites(pool, key=site, limit=1)
        if not found:
            raise NotFoundError("site", site)
        last = Month.parse(end) if end else _this_month(found[0].timezone)
        first = Month.parse(start) if start else _back(last, DEFAULT_MONTHS - 1)
        if first > last:
            raise InputError("from", str(first), f"must not be after to ({last})")
        if _back(last, MAX_MONTHS - 1) > first:
            raise InputError("from", str(first), f"at most {MAX_MONTHS} months at once")
        rows = await latest_by_month(pool, site, str(first), str(last))
        book = books.get(site)
        return History(
            site=site,
            start=str(first),
            end=str(last),
            months=[_figures(r.period, r.status, r.version, r.content) for r in rows],
            target=_trajectory(book.target, first, last) if book and book.target else None,
        )

    return router


def _trajectory(target: Target, first: Month, last: Month) -> TargetOut:
    months, month = [], first
    while month <= last:
        months.append(TargetMonth(period=str(month), tco2e=target.month(month)))
        month = month.next()
    return TargetOut(
        base_year=target.base_year,
        base_tco2e=target.base_tco2e,
        annual_reduction=target.annual_reduction,
        basis=target.basis,
        months=months,
    )


def _figures(period: str, status: str, version: int, content: bytes) -> MonthFigures:
    doc = json.loads(content)
    statement = rebuild(doc)
    return MonthFigures(
        period=period,
        status=status,
        version=version,
        total_location=statement.total("location"),
        total_market=statement.total("market"),
        breakdown=[b for b in breakdown(statement) if b.by in ("scope", "carrier")],
        kpis=[KpiOut.model_validate(k) for k in doc.get("kpis", [])],
    )


def _this_month(zone: str) -> Month:
    return Month.of(datetime.now(UTC).astimezone(ZoneInfo(zone)).date())


def _back(month: Month, count: int) -> Month:
    """The month ``count`` months before ``month``."""
    index = month.year * 12 + month.month - 1 - count
    return Month(index // 12, index % 12 + 1)
