"""The factor sets shipped with meterledger, and the reader for their CSV format.

One set is one CSV file here (format in docs/factors.md): a ``#`` comment header that names
the set and its version and cites its sources, then a header row and one record per line.
The reader validates once, at the edge, and fails loudly: every error names the file, line,
column and value, and nothing is repaired or skipped. A loaded set carries the SHA-256 of
its text so a closed period can pin exactly what it used.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import TypeVar

from ledger.factors import KINDS, Factor, FactorSet
from ledger.gwp import GAS_UNITS
from ledger.quantities import Rate, dimension, normalise, rate
from meterledger.errors import FactorError, UnitError

T = TypeVar("T")

COLUMNS = (
    "id", "kind", "carrier", "region", "gas", "value", "numerator", "denominator",
    "data_year", "valid_from", "valid_to", "publisher", "document", "url", "superseded_by",
    "notes",
)  # fmt: skip

# What each kind of record must measure, as (numerator, denominator) dimensions.
_PARAMETER_DIMENSIONS = {
    "NCV": ("[energy]", None),
    "CC": ("[carbon]", "[energy]"),
    "OF": ("[dimensionless]", "[dimensionless]"),
}


def shipped() -> dict[str, FactorSet]:
    """Load every factor set shipped in this folder, by set name."""
    folder = resources.files(__name__)
    sets = [
        parse_factor_set(entry.read_text(encoding="utf-8"), entry.name)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".csv")
    ]
    return {s.name: s for s in sets}


def read_factor_set(path: Path) -> FactorSet:
    """Import a factor set from a CSV file in the shipped format."""
    return parse_factor_set(path.read_text(encoding="utf-8"), path.name)


def parse_factor_set(text: str, source: str) -> FactorSet:
    """Parse and validate a factor set; errors name the line, column and value."""
    meta: dict[str, str] = {}
    rows: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#"):
            key, colon, value = line[1:].partition(":")
            if colon and key.strip() in ("set", "version", "title"):
                meta[key.strip()] = value.strip()
        elif line.strip():
            rows.append((number, next(csv.reader([line]))))
    for key in ("set", "version"):
        if not meta.get(key):
            raise FactorError(source, f"the header has no '# {key}: …' line")
    if not rows or tuple(cell.strip() for cell in rows[0][1]) != COLUMNS:
        raise FactorError(source, f"the first row must name the columns {','.join(COLUMNS)}")
    factors = tuple(_records(source, meta["set"], meta["version"], rows[1:]))
    _check_links(source, factors, {f.id: n for (n, _), f in zip(rows[1:], factors, strict=True)})
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return FactorSet(meta["set"], meta["version"], meta.get("title", ""), factors, digest)


def _records(
    source: str, set_name: str, version: str, rows: list[tuple[int, list[str]]]
) -> Iterator[Factor]:
    seen: set[str] = set()
    for number, cells in rows:
        if len(cells) != len(COLUMNS):
            raise FactorError(
                f"{source} line {number}",
                f"{len(cells)} fields, expected {len(COLUMNS)}",
                line=number,
            )
        row = dict(zip(COLUMNS, (cell.strip() for cell in cells), strict=True))
        cell = _Cell(source, number, row)
        factor_id = cell.text("id", r"[A-Za-z0-9._-]+")
        if factor_id in seen:
            raise cell.error("id", "duplicate id")
        seen.add(factor_id)
        yield _record(cell, factor_id, set_name, version)


def _record(cell: _Cell, factor_id: str, set_name: str, version: str) -> Factor:
    kind = cell.text("kind", "|".join(KINDS))
    gas = cell.text("gas", "|".join(GAS_UNITS) if kind == "factor" else "")
    value = cell.parse("value", _non_negative)
    for column in ("numerator", "denominator"):
        try:
            dimension(normalise(cell.row[column]))
        except UnitError as exc:
            raise cell.error(column, exc.reason) from exc
    factor_rate = rate(value, cell.row["numerator"], cell.row["denominator"])
    _check_dimensions(cell, kind, gas, factor_rate)
    valid_from = cell.optional("valid_from", date.fromisoformat)
    valid_to = cell.optional("valid_to", date.fromisoformat)
    if valid_from and valid_to and valid_to <= valid_from:
        raise cell.error("valid_to", f"not after valid_from {valid_from}")
    if not cell.row["document"] and not cell.row["url"]:
        raise cell.error("document", "a factor needs a document number or a URL")
    return Factor(
        id=factor_id,
        kind=kind,
        gas=gas,
        rate=factor_rate,
        carrier=cell.text("carrier", r"[a-z0-9_]+"),
        region=cell.text("region", r"[A-Za-z0-9_-]+"),
        data_year=cell.optional("data_year", _year),
        valid_from=valid_from,
        valid_to=valid_to,
        publisher=cell.text("publisher", r".+"),
        document=cell.row["document"],
        url=cell.row["url"],
        superseded_by=cell.row["superseded_by"],
        notes=cell.row["notes"],
        set_name=set_name,
        set_version=version,
    )


def _check_dimensions(cell: _Cell, kind: str, gas: str, found: Rate) -> None:
    if kind == "factor":
        wanted: tuple[str, str | None] = (dimension(GAS_UNITS[gas]), None)
    else:
        wanted = _PARAMETER_DIMENSIONS[kind]
    for column, unit, need in (
        ("numerator", found.numerator, wanted[0]),
        ("denominator", found.denominator, wanted[1]),
    ):
        if need is not None and dimension(unit) != need:
            what = f"gas {gas}" if kind == "factor" else kind
            raise cell.error(column, f"{what} needs {need}, {unit or '1'} is {dimension(unit)}")


def _check_links(source: str, factors: tuple[Factor, ...], lines: dict[str, int]) -> None:
    for factor in factors:
        if factor.superseded_by and factor.superseded_by not in lines:
            line = lines[factor.id]
            raise FactorError(
                f"{source} line {line}, column superseded_by",
                f"{factor.superseded_by!r} is not an id in this set",
                line=line,
                column="superseded_by",
                value=factor.superseded_by,
            )


def _non_negative(text: str) -> Decimal:
    number = Decimal(text)
    if not number.is_finite() or number < 0:
        raise ValueError("not a finite non-negative number")
    return number


def _year(text: str) -> int:
    year = int(text)
    if not 1900 <= year <= 2100:
        raise ValueError("not a year")
    return year


@dataclass(frozen=True, slots=True)
class _Cell:
    """One CSV row being validated, to build errors that name line, column and value."""

    source: str
    line: int
    row: dict[str, str]

    def error(self, column: str, reason: str) -> FactorError:
        value = self.row.get(column, "")
        return FactorError(
            f"{self.source} line {self.line}, column {column}",
            f"{value!r}: {reason}",
            line=self.line,
            column=column,
            value=value,
        )

    def text(self, column: str, pattern: str) -> str:
        value = self.row[column]
        if not re.fullmatch(pattern, value):
            expected = f"one of {pattern.replace('|', ', ')}" if "|" in pattern else pattern
            raise self.error(column, f"expected {expected or 'an empty cell'}")
        return value

    def parse(self, column: str, parser: Callable[[str], T]) -> T:
        try:
            return parser(self.row[column])
        except (ValueError, InvalidOperation) as exc:
            raise self.error(column, f"cannot be read ({exc})") from exc

    def optional(self, column: str, parser: Callable[[str], T]) -> T | None:
        return self.parse(column, parser) if self.row[column] else None
