"""Cursor pagination: every list answers a bounded page and the cursor of the next one.

A cursor is the sort key of the last item sent, opaque to clients (URL-safe base64 of a
small JSON array), so a page is found with an index range scan however deep the client
has paged, and an item inserted meanwhile neither shifts nor repeats the others, as an
offset would. ``limit`` is bounded: a client cannot ask for the whole table at once.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from meterledger.errors import InputError

T = TypeVar("T")

MAX_LIMIT = 1000

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"items per page, at most {MAX_LIMIT}")
]
CursorParam = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the previous page; omit for the first"),
]


class Page(BaseModel, Generic[T]):
    """One page of a list; ``next_cursor`` is null on the last."""

    items: list[T]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null when there is none"
    )


def encode(key: Sequence[Any]) -> str:
    """The cursor that resumes after the item whose sort key is ``key``."""
    raw = json.dumps(list(key), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, arity: int) -> list[Any]:
    """The sort key in ``cursor``; InputError naming the cursor when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InputError("cursor", cursor, "not a cursor this API issued") from exc
    if not isinstance(key, list) or len(key) != arity:
        raise InputError("cursor", cursor, "not a cursor of this list")
    return key


def page_of(items: Sequence[T], limit: int, key: Callable[[T], Sequence[Any]]) -> Page[T]:
    """Cut a page from ``items`` fetched with ``limit + 1`` rows: the extra row says more."""
    shown = list(items[:limit])
    more = len(items) > limit
    return Page[T](items=shown, next_cursor=encode(key(shown[-1])) if more and shown else None)
