"""Every factor set the API can name: the shipped ones and those an admin imported.

Imported sets are stored as CSV text and parsed by the same reader as the shipped files
(`ledger.factorsets.parse_factor_set`), so a set read back is the set that was checked;
parsed sets are kept by digest, since a name and version never change their text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from psycopg_pool import AsyncConnectionPool

from ledger.factors import Factor, FactorSet
from ledger.factorsets import parse_factor_set, shipped
from meterledger.errors import FactorError
from store.factor_sets import stored_sets


@dataclass(frozen=True, slots=True)
class Entry:
    """A factor set and where it comes from."""

    factor_set: FactorSet
    origin: str  # "shipped" or "imported"


@functools.cache
def _shipped() -> dict[tuple[str, str], FactorSet]:
    return {(s.name, s.version): s for s in shipped().values()}


@functools.lru_cache(maxsize=64)
def _parsed(digest: str, text: str, source: str) -> FactorSet:
    return parse_factor_set(text, source)


async def library(pool: AsyncConnectionPool) -> dict[tuple[str, str], Entry]:
    """Every set by (name, version), shipped first; imported sets under a shipped name and
    version cannot exist (the import refuses them)."""
    found = {key: Entry(s, "shipped") for key, s in _shipped().items()}
    for row in await stored_sets(pool):
        parsed = _parsed(row.digest, row.csv, f"{row.name}@{row.version}")
        found.setdefault((row.name, row.version), Entry(parsed, "imported"))
    return found


def is_shipped(name: str, version: str) -> bool:
    return (name, version) in _shipped()


def parse_ref(ref: str) -> tuple[str, str, str] | None:
    """Split ``set@version/id``; None for what is not a factor record (an instrument)."""
    head, slash, factor_id = ref.partition("/")
    name, at, version = head.partition("@")
    if not (slash and at and name and version and factor_id):
        return None
    return name, version, factor_id


def records_for(
    ref: str, sets: dict[tuple[str, str], Entry], start: date, end: date
) -> list[Factor]:
    """The records a line's factor id stands for: the record itself, and for a fuel's NCV
    the carbon content and oxidation chosen with it for ``[start, end)``.

    Empty when the reference names no stored set (an instrument, or a set since removed).
    """
    parts = parse_ref(ref)
    if parts is None or (parts[0], parts[1]) not in sets:
        return []
    factor_set = sets[(parts[0], parts[1])].factor_set
    try:
        record = factor_set.get(parts[2])
    except FactorError:
        return []
    if record.kind != "NCV":
        return [record]
    found = [record]
    for kind in ("CC", "OF"):
        try:
            found.append(
                factor_set.select(record.carrier, record.region, start, end, kind=kind).factor
            )
        except FactorError:
            continue
    return found
