"""RFC 9457 problem details for every refusal the API makes.

Whatever goes wrong with a request is answered as ``application/problem+json`` naming
what to fix: FastAPI's own validation errors (a query parameter out of bounds, a path
parameter that does not parse) and the errors of `meterledger.errors` raised by the
routes. Besides the standard members a problem carries ``field`` and ``value`` (the
first offending input) and, for validation errors, ``errors`` with every one of them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from meterledger.errors import (
    FactorError,
    InputError,
    NotFoundError,
    StoreError,
    WorkflowError,
)

PROBLEM = "application/problem+json"


class InvalidParam(BaseModel):
    """One input a request got wrong."""

    field: str = Field(examples=["limit"])
    location: str = Field(examples=["query"], description="query, path, header or body")
    value: Any = Field(default=None, description="what was sent; absent when it was missing")
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong with the request, naming the field and value."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = Field(default=None, description="the first offending input")
    value: Any = Field(default=None, description="its value as sent")
    errors: list[InvalidParam] | None = None
    findings: list[dict[str, str]] | None = Field(
        default=None, description="blocking findings, when a workflow move is refused"
    )


def problem_response(description: str) -> dict[str, Any]:
    """An OpenAPI response entry whose body is a `Problem`."""
    return {"model": Problem, "description": description, "content": {PROBLEM: {}}}


#: The refusals every read route can answer (401 and 403 come from api.auth's policy).
READ_PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: problem_response("The site, meter, point or period named does not exist"),
    422: problem_response("A parameter cannot be used; the problem names it and its value"),
    503: problem_response("The database could not be reached"),
}


def install(app: FastAPI) -> None:
    """Answer validation errors, HTTP errors and meterledger errors as problem+json."""
    handlers: dict[type[Exception], Any] = {
        RequestValidationError: _invalid_request,
        HTTPException: _http_error,
        NotFoundError: _not_found,
        InputError: _bad_input,
        FactorError: _bad_factor,
        WorkflowError: _workflow,
        StoreError: _unavailable,
    }
    for error, handler in handlers.items():
        app.add_exception_handler(error, handler)


def respond(request: Request, problem: Problem, headers: dict[str, str] | None = None) -> Any:
    """Render ``problem`` for ``request`` (its path becomes the instance)."""
    problem.instance = problem.instance or request.url.path
    body = problem.model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM, headers=headers)


async def _invalid_request(request: Request, exc: RequestValidationError) -> Any:
    params = [_param(error) for error in exc.errors()]
    first = params[0] if params else None
    detail = "; ".join(f"{p.location} {p.field} = {_shown(p.value)}: {p.detail}" for p in params)
    problem = Problem(
        title="Invalid request",
        status=422,
        detail=detail or "the request does not validate",
        field=first.field if first else None,
        value=first.value if first else None,
        errors=params,
    )
    return respond(request, problem)


def _param(error: Any) -> InvalidParam:
    loc = [str(part) for part in error.get("loc", ())]
    location = loc[0] if loc and loc[0] in ("query", "path", "header", "body", "cookie") else ""
    field = ".".join(loc[1:] if location else loc) or location or "(request)"
    value = error.get("input") if error.get("type") != "missing" else None
    return InvalidParam(
        field=field, location=location or "body", value=_plain(value), detail=str(error["msg"])
    )


def _plain(value: Any) -> Any:
    """The value as JSON can carry it: scalars as they are, anything else as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _shown(value: Any) -> str:
    return "(missing)" if value is None else repr(value)


async def _http_error(request: Request, exc: HTTPException) -> Any:
    title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
    problem = Problem(title=title, status=exc.status_code, detail=str(exc.detail))
    return respond(request, problem, dict(exc.headers) if exc.headers else None)


async def _not_found(request: Request, exc: NotFoundError) -> Any:
    problem = Problem(title="Not found", status=404, detail=str(exc), field=exc.kind, value=exc.key)
    return respond(request, problem)


async def _bad_input(request: Request, exc: InputError) -> Any:
    problem = Problem(
        title="Invalid request", status=422, detail=str(exc), field=exc.field, value=exc.value
    )
    return respond(request, problem)


async def _bad_factor(request: Request, exc: FactorError) -> Any:
    problem = Problem(
        title="Factor set refused",
        status=422,
        detail=str(exc),
        field=exc.column or exc.subject,
        value=exc.value,
    )
    return respond(request, problem)


async def _workflow(request: Request, exc: WorkflowError) -> Any:
    findings = [
        {k: str(getattr(f, k)) for k in ("code", "subject", "detail", "source")}
        for f in exc.findings
    ]
    problem = Problem(title="Conflict", status=409, detail=str(exc), findings=findings or None)
    return respond(request, problem)


async def _unavailable(request: Request, exc: StoreError) -> Any:
    problem = Problem(title="Service unavailable", status=503, detail=str(exc))
    return respond(request, problem, {"Retry-After": "5"})
