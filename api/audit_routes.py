"""The audit log over HTTP, for admins and auditors: every write, oldest first, in pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

from api.auth import Caller
from api.problems import problem_response
from store.access import audit_records
from store.catalog import KEY_PATTERN


class AuditItem(BaseModel):
    id: int
    at: datetime
    token_id: int | None = Field(description="the API token; null for the command line")
    actor: str = Field(description="the token's name, or cli:USER")
    action: str = Field(examples=["period.approve", "meter_event.replacement", "token.create"])
    subject: str = Field(examples=["shenyang-dairy/2026-03"])
    site: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditItem]
    next_after: int | None = Field(description="pass as `after` for the next page; null: none")


def audit_router(pool: AsyncConnectionPool) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["audit"])

    @router.get(
        "/audit",
        response_model=AuditPage,
        responses={503: problem_response("The database could not be reached")},
    )
    async def audit_log(
        who: Caller,
        after: Annotated[int, Query(ge=0, le=2**63 - 1, description="last id seen")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        site: Annotated[str | None, Query(pattern=KEY_PATTERN)] = None,
    ) -> AuditPage:
        """Who changed what and when, with the state before and after.

        A token limited to a site sees that site's entries only.
        """
        rows = await audit_records(pool, site=who.site or site, after_id=after, limit=limit)
        items = [AuditItem.model_validate(row, from_attributes=True) for row in rows]
        return AuditPage(items=items, next_after=items[-1].id if len(items) == limit else None)

    return router
