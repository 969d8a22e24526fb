"""``GET /api/v1/me``: who the token is, and what its role may do.

The dashboard shows a workflow button only where this says the role may press it; the
answer is derived from `api.policy`, the same rules that admit or refuse the request the
button would send, so the page cannot offer what the API would refuse.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import Caller
from api.policy import rule_for
from api.problems import READ_PROBLEMS
from api.schemas_dashboard import Me

_PERIOD = "/api/v1/sites/{site}/periods/{period}"
#: Each action the dashboard offers, and the route it sends.
ACTIONS: dict[str, tuple[str, str]] = {
    "close": ("POST", f"{_PERIOD}/close"),
    "review": ("POST", f"{_PERIOD}/review"),
    "approve": ("POST", f"{_PERIOD}/approve"),
    "restate": ("POST", f"{_PERIOD}/restatement"),
    "record_event": ("POST", "/api/v1/sites/{site}/meters/{meter}/events"),
    "lineage": ("GET", f"{_PERIOD}/lineage"),
    "audit": ("GET", "/api/v1/audit"),
}


def me_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["access"], responses=READ_PROBLEMS)

    @router.get("/me", name="show_me", operation_id="show_me")
    async def show_me(who: Caller) -> Me:
        """The caller's token name, role and site, and the actions its role admits."""
        may = [
            a for a, (method, path) in ACTIONS.items() if rule_for(method, path).admits(who.role)
        ]
        return Me(name=who.name, role=who.role, site=who.site, may=may)

    return router
