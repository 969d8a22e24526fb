"""The emission lines of a site's main meters: electricity, natural gas, purchased heat.

Which meters carry emissions follows the GHG Protocol and the brief (see `ledger.close`);
this module turns one main meter's rolled-up counters into its lines with cited factors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from ledger.emissions import (
    Emission,
    Instrument,
    electricity_location,
    electricity_market,
    fuel_combustion,
)
from ledger.emissions import emission as single_factor
from ledger.factors import Factor
from ledger.findings import Finding
from ledger.periods import Month, Period
from ledger.quantities import Quantity, q
from ledger.statements import Line

if TYPE_CHECKING:
    from ledger.close import MeterBook, SiteBook
    from ledger.rollup import ActivityLine

Activities = Mapping[str, tuple["MeterBook", "ActivityLine"]]


def meter_lines(
    book: SiteBook,
    meter: MeterBook,
    activities: Activities,
    period: Period,
    instruments: Sequence[Instrument],
    any_instruments: bool,
) -> tuple[list[Line], list[Finding]]:
    """The emission lines of one main meter, with ``instruments`` its market-based share."""
    # Factors are valid for calendar periods in local dates.
    local_start, local_end = first_day(period.month), first_day(period.month.next())
    amount = amounts(meter, activities)
    if meter.carrier == "electricity" and "energy_import" in amount:
        imported = amount["energy_import"]
        exported = amount.get("energy_export", q(0, imported.unit))
        selected = book.electricity.select("electricity_grid", book.region, local_start, local_end)
        location = electricity_location(imported, exported, selected.factor)
        net = location.activity
        market = electricity_market(net, instruments, selected.factor, local_start, local_end)
        keys = _keys(meter, amount, ("energy_import", "energy_export"))
        found = [*selected.findings, *location.findings, *market.findings]
        if not any_instruments:
            found.append(
                Finding(
                    "MARKET_BASED_FALLBACK",
                    meter.key,
                    "no contractual instruments and no residual mix recorded: "
                    "the market-based view uses the grid factor",
                    "close",
                )
            )
        made = [
            _line(
                f"scope2/electricity/location/{meter.key}",
                "2",
                "purchased electricity",
                meter,
                location,
                selected.factor,
                "location",
                keys,
            )
        ]
        made += [
            _line(
                f"scope2/electricity/market/{meter.key}/{i}",
                "2",
                "purchased electricity",
                meter,
                part,
                None,
                "market",
                keys,
            )
            for i, part in enumerate(market.lines)
        ]
        return made, found
    if meter.carrier == "natural_gas" and "volume" in amount:
        params = [
            book.fuels.select("natural_gas", book.region, local_start, local_end, kind=kind)
            for kind in ("NCV", "CC", "OF")
        ]
        result = fuel_combustion(amount["volume"], *(p.factor for p in params))
        found = [f for p in params for f in p.findings]
        key = f"scope1/stationary-combustion/natural_gas/{meter.key}"
        return [
            _line(
                key,
                "1",
                "stationary combustion",
                meter,
                result,
                params[0].factor,
                "direct",
                _keys(meter, amount, ("volume",)),
            )
        ], found
    if meter.carrier in ("steam", "heat") and "heat" in amount:
        selected = book.heat.select("purchased_heat", book.region, local_start, local_end)
        result = single_factor(amount["heat"], selected.factor)
        key = f"scope2/purchased-heat/{meter.carrier}/{meter.key}"
        return [
            _line(
                key,
                "2",
                f"purchased {meter.carrier}",
                meter,
                result,
                selected.factor,
                "location",
                _keys(meter, amount, ("heat",)),
            ),
            _line(
                key.replace("scope2/", "scope2/market/"),
                "2",
                f"purchased {meter.carrier}",
                meter,
                result,
                selected.factor,
                "market",
                _keys(meter, amount, ("heat",)),
            ),
        ], list(selected.findings)
    if meter.carrier == "steam":
        return [], [
            Finding(
                "STEAM_WITHOUT_HEAT",
                meter.key,
                "purchased steam needs a heat counter (GJ) to be stated",
                "close",
            )
        ]
    return [], []


def first_day(month: Month) -> date:
    return date(month.year, month.month, 1)


def amounts(meter: MeterBook, activities: Activities) -> dict[str, Quantity]:
    """A meter's rolled-up counters as quantities, by point quantity."""
    out = {}
    for quantity, (point_key, _) in meter.counters.items():
        line = activities[f"{meter.key}/{point_key}"][1]
        out[quantity] = q(line.quantity, line.unit)
    return out


def _keys(
    meter: MeterBook, amount: Mapping[str, Quantity], wanted: Sequence[str]
) -> tuple[str, ...]:
    return tuple(f"{meter.key}/{meter.counters[w][0]}" for w in wanted if w in amount)


def _line(
    key: str,
    scope: str,
    category: str,
    meter: MeterBook,
    result: Emission,
    factor: Factor | None,
    basis: str,
    activity_keys: tuple[str, ...],
) -> Line:
    used = result.factors[0]
    return Line(
        key=key,
        scope=scope,
        category=category,
        carrier=meter.carrier,
        meter=meter.key,
        activity=result.activity.value,
        activity_unit=result.activity.unit,
        factor_id=factor.ref if factor else used.ref,
        factor_version=factor.set_version if factor else "",
        tco2e=result.tco2e,
        formula=result.formula,
        basis=basis,
        activity_keys=activity_keys,
    )
