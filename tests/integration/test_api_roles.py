"""Every route × every role (and no token), generated from the app's own routes.

A route added without a rule in `api.policy` fails here; so does a rule for a route that
no longer exists. Each request goes through uvicorn, so streaming routes are checked by
their status line alone. Write routes get a body they refuse (422) or a move the workflow
refuses (409): what is checked is who is let in, without changing anything.
"""

import re
from collections.abc import Iterable
from typing import Any

import httpx
from api_harness import OTHER, SCOPED, SITE, api, serving
from fastapi import FastAPI
from starlette.routing import BaseRoute

from api.policy import NOBODY, POLICY, Rule
from store.access import ROLES

#: A value for each path parameter the routes use; a new name needs one here.
SAMPLES = {
    "site": SITE,
    "period": "2026-03",
    "meter": "grid-main",
    "point_id": "1",
    "name": "cn-mee-grid",
    "version": "1",
    "input_id": "1",
}
REFUSED_BODY = {"__matrix__": True}


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every route the app serves, HEAD aside.

    FastAPI 0.16x keeps included routers as nodes of their own; `iter_route_contexts`
    yields their routes with the prefixes applied (older versions list them flat).
    """
    found = []
    for route in _flat(app.routes):
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                found.append((method, getattr(route, "path", "")))
    return found


def _flat(routes: list[BaseRoute]) -> Iterable[Any]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:
        return routes
    return iter_route_contexts(routes)


def concrete(path: str) -> str:
    def sample(match: re.Match[str]) -> str:
        name = match[1].split(":")[0]
        assert name in SAMPLES, f"no sample value for path parameter {name!r} of {path}"
        return SAMPLES[name]

    return re.sub(r"\{([^}]+)\}", sample, path)


def outcome(status: int) -> str:
    if status >= 500:
        return f"server error {status}"
    return str(status) if status in (401, 403) else "served"


async def status_of(client: httpx.AsyncClient, method: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = REFUSED_BODY if method in ("POST", "PUT", "PATCH") else None
    async with client.stream(method, path, headers=headers, json=body) as response:
        return response.status_code


async def test_every_route_has_a_rule_and_every_rule_a_route(database_url: str) -> None:
    async with api(database_url, readings=False) as harness:
        served = routes(harness.app)
    assert served, "the app has no routes?"
    assert [f"{m} {p}" for m, p in served if (m, p) not in POLICY] == []
    assert [f"{m} {p}" for m, p in POLICY if (m, p) not in served] == []


async def test_every_route_admits_exactly_the_roles_of_its_rule(database_url: str) -> None:
    mismatches = []
    async with (
        api(database_url, readings=False) as harness,
        serving(harness.app) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        for method, path in routes(harness.app):
            rule = POLICY.get((method, path), NOBODY)
            target = concrete(path)
            for who in (None, *ROLES, *(SCOPED if "{site}" in path else ())):
                status = await status_of(client, method, target, harness.tokens.get(who or ""))
                want = _want(rule, path, who)
                if outcome(status) != want:
                    mismatches.append(f"{method} {path} as {who}: {status}, expected {want}")
    assert mismatches == []


def _want(rule: Rule, path: str, who: str | None) -> str:
    """What ``who`` must get: served (any status but 401/403/5xx), 401 or 403."""
    if rule.public:
        return "served"
    if who is None:
        return "401"
    if who in SCOPED:
        role, site = SCOPED[who]
        assert site == OTHER  # the samples name SITE: a scoped token is out of its site
        return "403" if "{site}" in path else ("served" if role in rule.roles else "403")
    return "served" if who in rule.roles else "403"
