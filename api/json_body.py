"""JSON bodies written by orjson, for answers too big to build as pydantic models.

A month of hourly buckets is 744 objects; building a model for each and having FastAPI
check and serialize them cost more than reading them from the database (bench
api_series). Routes that answer so much build plain dicts and lists, declare their
pydantic model as ``response_model`` (so the OpenAPI schema and the contract test still
hold them to it), and return `json_body` of them. The output is byte for byte what
pydantic writes for the same values: instants in RFC 3339 with ``Z`` for UTC, decimals
as exact strings, floats in their shortest round-trip form.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from fastapi import Response

_OPTIONS = orjson.OPT_UTC_Z


def json_body(content: Any, status_code: int = 200) -> Response:
    """``content`` (dicts, lists, str, int, float, bool, None, datetime, Decimal) as JSON."""
    data = orjson.dumps(content, default=_decimal, option=_OPTIONS)
    return Response(data, status_code=status_code, media_type="application/json")


def _decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)  # as pydantic writes a Decimal: the exact digits, as a string
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
