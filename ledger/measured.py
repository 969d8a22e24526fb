"""What a site's meters measured, in the units its KPIs and memo lines need.

The PV balance (`ledger.self_consumption`), each production meter's counted output, each
meter's amount for per-line KPIs (kWh net of export, Nm³, t of steam), and the site's
average tCO2e per unit of each, from the stated lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.findings import Finding
from ledger.product_lines import Metered
from ledger.quantities import Quantity, convert, q
from ledger.self_consumption import pv_line
from ledger.statements import Line, Statement

if TYPE_CHECKING:
    from ledger.close import MeterBook, SiteBook
    from ledger.rollup import ActivityLine

Activities = Mapping[str, tuple["MeterBook", "ActivityLine"]]


def is_grid(meter: MeterBook) -> bool:
    """A main electricity meter with an import counter: what scope 2 is stated from."""
    return (
        meter.role == "main"
        and meter.carrier == "electricity"
        and "energy_import" in meter.counters
    )


def pv_lines(book: SiteBook, activities: Activities) -> tuple[list[Line], tuple[Finding, ...]]:
    """The PV memo line when the site has generation meters: generation against export."""
    generators = [m for m in book.meters if m.role == "generation"]
    made = [_quantity(m, "energy_generation", activities) for m in generators]
    if not generators or not any(made):
        return [], ()
    grid = [m for m in book.meters if is_grid(m) and "energy_export" in m.counters]
    exported = [_quantity(m, "energy_export", activities) for m in grid]
    keys = tuple(
        f"{m.key}/{m.counters[quantity][0]}"
        for m, quantity in [(g, "energy_generation") for g in generators]
        + [(g, "energy_export") for g in grid]
        if quantity in m.counters
    )
    generation = _kwh(made)
    line, findings = pv_line(generation, _kwh(exported), tuple(m.key for m in generators), keys)
    return [line], findings


def _quantity(meter: MeterBook, quantity: str, activities: Activities) -> Quantity | None:
    if quantity not in meter.counters:
        return None
    line = activities[f"{meter.key}/{meter.counters[quantity][0]}"][1]
    return q(line.quantity, line.unit)


def _kwh(parts: Sequence[Quantity | None]) -> Quantity:
    return Quantity(
        sum((convert(p, "kWh").value for p in parts if p is not None), Decimal(0)), "kWh"
    )


def counted_output(activities: Activities) -> dict[str, Decimal]:
    """Each production meter's counted output in tonnes, keyed by the meter (the line)."""
    found: dict[str, Decimal] = {}
    for meter, line in activities.values():
        counter = meter.counters.get("production")
        if counter is not None and counter[1].point_id == line.point_id:
            tonnes = convert(q(line.quantity, line.unit), "t").value
            found[meter.key] = found.get(meter.key, Decimal(0)) + tonnes
    return found


def measured(book: SiteBook, activities: Activities) -> dict[str, Metered]:
    """What each meter measured, in the unit of its per-line KPI."""
    found = {}
    for meter in book.meters:
        if meter.carrier == "electricity" and "energy_import" in meter.counters:
            imported = _quantity(meter, "energy_import", activities)
            exported = _quantity(meter, "energy_export", activities)
            amount = _kwh([imported]).value - _kwh([exported]).value
            found[meter.key] = Metered("electricity", amount, meter.role)
        elif meter.carrier == "natural_gas" and "volume" in meter.counters:
            volume = _quantity(meter, "volume", activities)
            assert volume is not None
            found[meter.key] = Metered("natural_gas", convert(volume, "Nm3").value, meter.role)
        elif meter.carrier == "steam" and "mass" in meter.counters:
            mass = _quantity(meter, "mass", activities)
            assert mass is not None
            found[meter.key] = Metered("steam", convert(mass, "t").value, meter.role)
    return found


def carbon_per_unit(
    book: SiteBook, activities: Activities, statement: Statement
) -> dict[tuple[str, str], Decimal]:
    """The site's average tCO2e per kWh used, per Nm³ burnt, per t of steam bought."""
    measured_now = measured(book, activities)
    used = _main_total(measured_now, "electricity") + sum(
        (_kwh([_quantity(m, "energy_generation", activities)]).value
         for m in book.meters if m.role == "generation"),
        Decimal(0),
    )  # fmt: skip
    denominators = {
        "electricity": used,
        "natural_gas": _main_total(measured_now, "natural_gas"),
        "steam": _main_total(measured_now, "steam"),
    }
    out = {}
    for measure, denominator in denominators.items():
        for basis in ("location", "market"):
            tco2e = sum(
                (
                    line.tco2e
                    for line in statement.lines
                    if line.carrier == measure
                    and line.meter is not None
                    and line.basis in ("direct", basis)
                ),
                Decimal(0),
            )
            out[(measure, basis)] = tco2e / denominator if denominator > 0 else Decimal(0)
    return out


def _main_total(measured: Mapping[str, Metered], measure: str) -> Decimal:
    return sum(
        (m.amount for m in measured.values() if m.measure == measure and m.role == "main"),
        Decimal(0),
    )
