"""What ``/openapi.json`` promises beyond what FastAPI derives from the routes.

Three things FastAPI cannot know: which routes are public (`api.policy`: those need no
token, the others answer 401 and 403), that every error is problem+json whatever status
(FastAPI documents its 422 as plain JSON of another shape), and that a body that is not
JSON gets 400. The contract test (tests/e2e/test_api_contract.py) holds the app to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from api.policy import rule_for
from api.problems import PROBLEM, Problem

ACCESS = {
    "401": "No bearer token, or an unknown or revoked one (`WWW-Authenticate: Bearer`)",
    "403": "The token's role may not use this route, or it is limited to another site",
}
BODY = {"400": "The body is not JSON"}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def document(app: FastAPI) -> None:
    """Make ``app.openapi()`` state access rules and problem+json errors on every route."""
    app.openapi = _amended(app, app.openapi)  # type: ignore[method-assign]


def _amended(app: FastAPI, build: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for path, operations in schema.get("paths", {}).items():
                for method, operation in operations.items():
                    _amend(path, method, operation)
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in _problem_schemas().items():
                schemas.setdefault(name, definition)
            schemas.pop("HTTPValidationError", None)  # replaced by Problem on every 422
            schemas.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def _amend(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    if rule_for(method, path).public:
        operation.pop("security", None)
    else:
        for status, text in ACCESS.items():
            responses.setdefault(status, _problem(text))
    if "requestBody" in operation:
        for status, text in BODY.items():
            responses.setdefault(status, _problem(text))
    for status, response in responses.items():
        if status.startswith(("4", "5")):
            response["content"] = {PROBLEM: {"schema": PROBLEM_REF}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": PROBLEM_REF}}}


def _problem_schemas() -> dict[str, Any]:
    """`Problem` and the models it refers to, as ``components.schemas`` entries."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"Problem": schema, **schema.pop("$defs", {})}
