"""Bearer tokens on every route, by the rules of `api.policy`.

One app-wide dependency finds the matched route's rule, so no route can forget to ask:
no token, an unknown or a revoked one is refused with 401 and ``WWW-Authenticate:
Bearer``; a token whose role the rule does not admit, or whose site is not the one the
request names, with 403. Both are problem+json (RFC 9457). The caller's token is kept on
the request for the routes that audit what it does or filter by its site.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import AsyncConnectionPool

from api.policy import rule_for
from api.problems import Problem, respond
from meterledger.errors import AuthenticationError, PermissionDeniedError
from store.access import Token, authenticate

bearer = HTTPBearer(
    auto_error=False,
    description="`meterledger token create --role ROLE --name NAME` prints a token once",
)


class Access:
    """The app-wide dependency: the caller's token, or None on a public route."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Token | None:
        route = request.scope.get("route")
        path = route.path if isinstance(route, APIRoute) else request.url.path
        rule = rule_for(request.method, path)
        if rule.public:
            return None
        if credentials is None:
            raise AuthenticationError("this route needs a bearer token (Authorization: Bearer …)")
        token = await authenticate(self._pool, credentials.credentials)
        if token is None:
            raise AuthenticationError("the bearer token is unknown or revoked")
        if not rule.admits(token.role):
            allowed = ", ".join(sorted(rule.roles)) or "nobody (the route has no access rule)"
            raise PermissionDeniedError(
                f"role {token.role} may not {request.method} {path}; allowed: {allowed}",
                role=token.role,
                site=token.site,
            )
        named = request.path_params.get("site") or request.query_params.get("site")
        if token.site is not None and named is not None and named != token.site:
            raise PermissionDeniedError(
                f"this token is limited to site {token.site}, not {named}",
                role=token.role,
                site=token.site,
            )
        request.state.caller = token
        return token


def caller(request: Request) -> Token:
    """The token that passed `Access` on this request (routes with a rule other than public)."""
    token = getattr(request.state, "caller", None)
    if not isinstance(token, Token):
        raise AuthenticationError("this route needs a bearer token (Authorization: Bearer …)")
    return token


Caller = Annotated[Token, Depends(caller)]


def sees(token: Token, site: str) -> bool:
    """Whether a token may see a site's data: unscoped tokens see every site."""
    return token.site is None or token.site == site


def install(app: FastAPI) -> None:
    """Answer access errors as problem+json (api/contract.py documents them)."""
    app.add_exception_handler(AuthenticationError, _unauthenticated)  # type: ignore[arg-type]
    app.add_exception_handler(PermissionDeniedError, _forbidden)  # type: ignore[arg-type]


async def _unauthenticated(request: Request, exc: AuthenticationError) -> JSONResponse:
    problem = Problem(title="Unauthorized", status=401, detail=exc.reason)
    response: JSONResponse = respond(request, problem, {"WWW-Authenticate": "Bearer"})
    return response


async def _forbidden(request: Request, exc: PermissionDeniedError) -> JSONResponse:
    response: JSONResponse = respond(
        request, Problem(title="Forbidden", status=403, detail=exc.reason)
    )
    return response
