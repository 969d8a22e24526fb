"""Manual activity entries: what no meter sees, stated like metered lines, with evidence.

Three categories, each with a unit check by dimension and a cited factor:

- ``diesel`` (scope 1, fuel combustion): in t, or in L with the delivery note's density
  (kg/L) to make tonnes; NDRC parameters NCV, CC and OF from the fuel set, ``E = A × NCV ×
  CC × OF × 44/12``. A fuel set that has a diesel emission factor instead (DESNZ, per L)
  is used as ``E = A × EF``.
- ``refrigerant`` (scope 1, fugitive emissions): kg of one gas or blend topped up, ``E = m
  × GWP`` in the ledger's chosen GWP set (``ledger.gwp``); the top-up stands for what leaked.
- ``road_freight`` (scope 3, upstream transport): t·km against a per-t·km factor; an
  activity in km alone is refused, naming both quantities (the brief's seed error).

An entry may name its own factor record (``set/id``, from the book's library); it then
overrides the category's default. Each result becomes a statement line whose activity is
an `EntryActivity` carrying the evidence files' SHA-256, so the hash covers them. An entry
that cannot be stated is refused with an `InputError` naming the field and value; at
close, the same refusal becomes a blocking ``ENTRY_REFUSED`` finding instead of an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ledger.emissions import Emission, emission, fuel_combustion, gas_co2e
from ledger.factors import Factor, FactorSet
from ledger.findings import Finding
from ledger.gwp import GwpSet, refrigerant
from ledger.ports import EntryRecord
from ledger.quantities import Quantity, Rate, convert, dimension, multiply, pretty, q, rate
from ledger.statements import Line
from meterledger.errors import FactorError, InputError, UnitError


@dataclass(frozen=True, slots=True)
class Category:
    """What a kind of manual entry is in the inventory, and which units it accepts."""

    scope: str
    label: str  # the GHG category, as the statement prints it
    carrier: str  # the factor records' carrier
    dimensions: tuple[str, ...]
    example: str


CATEGORIES: Mapping[str, Category] = {
    "diesel": Category("1", "fuel combustion", "diesel", ("[mass]", "[volume]"), "1200 L"),
    "refrigerant": Category("1", "fugitive emissions", "refrigerant", ("[mass]",), "12 kg"),
    "road_freight": Category(
        "3", "upstream transport", "road_freight", ("[mass·length]",), "36465 t·km"
    ),
}


@dataclass(frozen=True, slots=True)
class EntryFactors:
    """The factor sets and GWP set manual entries are stated with."""

    region: str
    fuels: FactorSet
    freight: FactorSet | None
    gwp: GwpSet
    library: Mapping[str, FactorSet]  # for a factor an entry names itself


@dataclass(frozen=True, slots=True)
class EntryActivity:
    """The activity data behind an entry's line: the entry as typed, and its evidence."""

    key: str  # "entry/12"
    entry_id: int
    category: str
    quantity: Decimal
    unit: str
    description: str
    entered_by: str
    entered_at: datetime
    factor: str | None
    gas: str | None
    density: Decimal | None
    density_unit: str | None
    evidence: tuple[tuple[str, str, str, int], ...]  # (sha256, filename, media type, size)


@dataclass(frozen=True, slots=True)
class EntryResult:
    """An entry stated: its line (None when refused), its activity, and findings."""

    line: Line | None
    activity: EntryActivity
    findings: tuple[Finding, ...]


def state_entry(
    entry: EntryRecord, factors: EntryFactors, period_start: date, period_end: date
) -> tuple[Line, tuple[Finding, ...]]:
    """Compute an entry's line for the period [period_start, period_end) of local dates.

    Raises InputError naming the field and value when the entry cannot be stated.
    """
    category = CATEGORIES.get(entry.category)
    if category is None:
        raise InputError(
            "category", entry.category, f"unknown; known categories are {', '.join(CATEGORIES)}"
        )
    amount = _amount(entry, category)
    try:
        result, findings = _emission(entry, amount, factors, period_start, period_end)
    except (UnitError, FactorError) as exc:
        raise InputError("quantity" if isinstance(exc, UnitError) else "factor",
                         _value(entry), str(exc)) from exc  # fmt: skip
    key = f"scope{category.scope}/{category.label.replace(' ', '-')}/{entry.category}"
    line = Line(
        key=f"{key}/entry-{entry.id}",
        scope=category.scope,
        category=category.label,
        carrier=category.carrier if entry.category != "refrigerant" else str(result.gas),
        meter=None,
        activity=result.activity.value,
        activity_unit=result.activity.unit,
        factor_id=", ".join(use.ref for use in result.factors) or f"gwp/{factors.gwp.name}",
        factor_version="",
        tco2e=result.tco2e,
        formula=result.formula,
        basis="direct",
        activity_keys=(f"entry/{entry.id}",),
    )
    return line, findings


def entry_result(
    entry: EntryRecord, factors: EntryFactors, period_start: date, period_end: date
) -> EntryResult:
    """State an entry for a statement: a refusal becomes a blocking finding, not an error."""
    activity = entry_activity(entry)
    try:
        line, findings = state_entry(entry, factors, period_start, period_end)
    except InputError as exc:
        refused = Finding("ENTRY_REFUSED", activity.key, str(exc), "manual entry")
        return EntryResult(None, activity, (refused,))
    return EntryResult(line, activity, findings)


def entry_activity(entry: EntryRecord) -> EntryActivity:
    """The statement's record of an entry, with its evidence files by SHA-256."""
    return EntryActivity(
        key=f"entry/{entry.id}",
        entry_id=entry.id,
        category=entry.category,
        quantity=entry.quantity,
        unit=entry.unit,
        description=entry.description,
        entered_by=entry.entered_by,
        entered_at=entry.entered_at,
        factor=entry.factor,
        gas=entry.gas,
        density=entry.density,
        density_unit=entry.density_unit,
        evidence=tuple((e.sha256, e.filename, e.media_type, e.size) for e in entry.evidence),
    )


def _value(entry: EntryRecord) -> str:
    return f"{entry.quantity} {entry.unit}"


def _amount(entry: EntryRecord, category: Category) -> Quantity:
    """Read the quantity, checking it is positive and of a dimension the category takes."""
    try:
        amount = q(entry.quantity, entry.unit)
    except (UnitError, TypeError, ValueError) as exc:
        raise InputError("quantity", _value(entry), str(exc)) from exc
    if amount.value <= 0:
        raise InputError("quantity", _value(entry), "must be positive; void an entry to undo it")
    found = dimension(amount.unit)
    if found not in category.dimensions:
        wanted = " or ".join(category.dimensions)
        raise InputError(
            "quantity",
            str(amount),
            f"{entry.category} needs {wanted} (like {category.example}); "
            f"{pretty(amount.unit) or '1'} is {found}",
        )
    return amount


def _emission(
    entry: EntryRecord, amount: Quantity, factors: EntryFactors, start: date, end: date
) -> tuple[Emission, tuple[Finding, ...]]:
    if entry.factor:
        chosen = _chosen(entry.factor, factors.library, start, end)
        return _with_density(entry, amount, chosen.rate, chosen), ()
    if entry.category == "diesel":
        return _diesel(entry, amount, factors, start, end)
    if entry.category == "refrigerant":
        if not entry.gas:
            raise InputError("gas", "", "a refrigerant entry names its gas (R-410A, HFC-134a …)")
        try:
            gas = refrigerant(entry.gas)
        except FactorError as exc:
            raise InputError("gas", entry.gas, exc.reason) from exc
        result = gas_co2e(gas, amount, factors.gwp)
        formula = f"{result.formula}; {factors.gwp.explain(gas)}"
        return Emission(amount, (), formula, gas, amount, factors.gwp.name, result.tco2e), ()
    if factors.freight is None:
        raise InputError("category", entry.category, "the ledger has no freight factor set")
    selected = factors.freight.select("road_freight", factors.region, start, end)
    return emission(amount, selected.factor), selected.findings


def _diesel(
    entry: EntryRecord, amount: Quantity, factors: EntryFactors, start: date, end: date
) -> tuple[Emission, tuple[Finding, ...]]:
    kinds = {f.kind for f in factors.fuels.factors if f.carrier == "diesel"}
    if {"NCV", "CC", "OF"} <= kinds:
        params = [
            factors.fuels.select("diesel", factors.region, start, end, kind=kind)
            for kind in ("NCV", "CC", "OF")
        ]
        ncv = params[0].factor
        mass, shown = _to(entry, amount, ncv.rate.denominator)
        result = fuel_combustion(mass, ncv, params[1].factor, params[2].factor)
        formula = f"{shown}{result.formula}"
        found = tuple(f for p in params for f in p.findings)
        return Emission(
            amount, result.factors, formula, "CO2", result.mass, "", result.tco2e
        ), found
    selected = factors.fuels.select("diesel", factors.region, start, end)
    return _with_density(entry, amount, selected.factor.rate, selected.factor), selected.findings


def _with_density(entry: EntryRecord, amount: Quantity, wanted: Rate, factor: Factor) -> Emission:
    """``E = A × EF`` after converting litres to tonnes (or back) with the entry's density."""
    activity, shown = _to(entry, amount, wanted.denominator)
    result = emission(activity, factor, None)
    return Emission(
        amount, result.factors, f"{shown}{result.formula}", result.gas, result.mass, "",
        result.tco2e,
    )  # fmt: skip


def _to(entry: EntryRecord, amount: Quantity, unit: str) -> tuple[Quantity, str]:
    """Express the amount in ``unit``, through the density when mass and volume differ."""
    if dimension(amount.unit) == dimension(unit):
        return convert(amount, unit), ""
    if entry.density is None or not entry.density_unit:
        raise InputError(
            "density", "", f"{amount} must become {pretty(unit)}: give the density (kg/L) "
            "from the delivery note",
        )  # fmt: skip
    try:
        density = rate(entry.density, entry.density_unit)
        if dimension(amount.unit) == dimension(density.denominator):
            mass = convert(multiply(amount, density), unit)
            return mass, f"A = V × density = {amount} × {density} = {mass}; "
        volume = Quantity(
            convert(amount, density.numerator).value / density.value, density.denominator
        )
        volume = convert(volume, unit)
        return volume, f"A = m / density = {amount} / {density} = {volume}; "
    except UnitError as exc:
        raise InputError("density", f"{entry.density} {entry.density_unit}", str(exc)) from exc


def _chosen(ref: str, library: Mapping[str, FactorSet], start: date, end: date) -> Factor:
    """Find a factor an entry names as ``set/id`` (``set@version/id`` also matches)."""
    name, slash, factor_id = ref.partition("/")
    name, _, version = name.partition("@")
    found = library.get(name)
    if not slash or found is None:
        raise InputError("factor", ref, f"name a record as set/id; sets: {', '.join(library)}")
    if version and version != found.version:
        raise InputError("factor", ref, f"the ledger has {name}@{found.version}")
    try:
        factor = found.get(factor_id)
    except FactorError as exc:
        raise InputError("factor", ref, exc.reason) from exc
    if factor.kind != "factor":
        raise InputError("factor", ref, f"is a {factor.kind} parameter, not an emission factor")
    if not factor.covers(start, end):
        span = f"[{factor.valid_from or '…'}, {factor.valid_to or '…'})"
        raise InputError("factor", ref, f"valid for {span}, not for [{start}, {end})")
    return factor
