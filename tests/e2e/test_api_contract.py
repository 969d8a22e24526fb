"""The OpenAPI contract, checked by schemathesis against the live API with an admin token.

The API runs under uvicorn over a real database holding two sites and a month of
readings. For every operation in the served ``/openapi.json`` schemathesis generates
requests from the schema (valid ones, valid ones aimed at things that exist, and invalid
ones) and checks each answer: no server error, and status, content type, headers and body
as the schema documents them (problem+json included).

Hypothesis drives the generation directly rather than through schemathesis' pytest
plugin, whose lazy (fixture-built) schemas rely on a pytest attribute that 9.x removed.
"""

import functools
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
import schemathesis
from api_harness import MARCH, SITE, LiveApi, live_api
from hypothesis import HealthCheck, given, settings
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from schemathesis import GenerationMode

#: Examples per operation and kind of generation: enough to reach the documented
#: statuses, few enough for `make test`.
EXAMPLES = 12
#: What the contract does not promise. Schema-valid data may still break a rule no schema
#: states (a meter event in the future, on a gauge): the documented 422 answers it. And,
#: as most web APIs, the routes ignore query parameters they do not know rather than refuse
#: them, which schemathesis counts as "invalid data accepted". Every other check runs: no
#: server error; status, media type, headers and body as documented.
RULES_BEYOND_SCHEMA = [
    schemathesis.checks.positive_data_acceptance,
    schemathesis.checks.negative_data_rejection,
]
STREAM = "text/event-stream"
#: In CI the same examples every run, so a build fails only for a change; locally new ones
#: each time, to keep finding what the schema lets through.
DERANDOMIZE = os.environ.get("CI") == "true"
#: Path parameters that name things the database holds, so generation gets past 404.
EXISTING = {"site": SITE, "meter": "grid-main", "period": MARCH, "point_id": 1}


@pytest.fixture(scope="module")
def live(server_url: str) -> Iterator[LiveApi]:
    """One live API for the whole module, over a database of its own."""
    name = f"ml_contract_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(**(conninfo_to_dict(server_url) | {"dbname": name}))
    try:
        with live_api(url) as api:
            yield api
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def operations(live: LiveApi) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(f"{live.base_url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]


def exercise(operation: schemathesis.APIOperation, live: LiveApi, **strategy: Any) -> None:
    """Send generated requests to ``operation``; raise on the first answer that breaks it."""
    headers = {"Authorization": f"Bearer {live.tokens['admin']}"}

    @given(case=operation.as_strategy(**strategy))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=DERANDOMIZE,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=live.base_url, headers=headers, excluded_checks=RULES_BEYOND_SCHEMA, timeout=10
        )

    check()


def streams(operation: schemathesis.APIOperation) -> bool:
    """Server-sent events never end: their answers cannot be read whole and validated."""
    responses = operation.definition.raw["responses"].values()
    return any(STREAM in response.get("content", {}) for response in responses)


def opens(operation: schemathesis.APIOperation, live: LiveApi) -> None:
    """A stream is checked by its status line and media type, then closed."""
    headers = {"Authorization": f"Bearer {live.tokens['admin']}"}
    url = f"{live.base_url}{operation.path}"
    with httpx.stream(operation.method.upper(), url, headers=headers, timeout=10) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith(STREAM)


def kinds(operation: schemathesis.APIOperation) -> dict[str, dict[str, Any]]:
    """The generations to run: schema-valid, schema-valid on existing things, invalid."""
    names = {p.name for p in operation.path_parameters}
    existing = {k: v for k, v in EXISTING.items() if k in names}
    out: dict[str, dict[str, Any]] = {"valid": {}}
    if names or list(operation.query) or list(operation.body):  # something to get wrong
        out["invalid"] = {"generation_mode": GenerationMode.NEGATIVE}
    if existing:
        out["valid, existing"] = {"path_parameters": existing}
    return out


def test_every_operation_answers_as_documented_and_never_with_a_server_error(
    live: LiveApi,
) -> None:
    found = operations(live)
    assert len(found) >= 8, [o.label for o in found]
    failures: list[str] = []
    for operation in found:
        if streams(operation):
            _collect(failures, operation.label, functools.partial(opens, operation, live))
            continue
        for kind, strategy in kinds(operation).items():
            _collect(
                failures,
                f"{operation.label} ({kind})",
                functools.partial(exercise, operation, live, **strategy),
            )
    assert failures == [], "\n\n".join(failures)


def test_the_served_contract_names_problem_details_for_every_error(live: LiveApi) -> None:
    undocumented = []
    for operation in operations(live):
        for status, response in operation.definition.raw["responses"].items():
            if status.startswith(("4", "5")) and "application/problem+json" not in response.get(
                "content", {}
            ):
                undocumented.append(f"{operation.label} {status}")
    assert undocumented == []


def _collect(failures: list[str], label: str, run: Callable[[], None]) -> None:
    try:
        run()
    except Exception as exc:  # every failure of every operation, not only the first
        failures.append(f"{label}: {exc}")
