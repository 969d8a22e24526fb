"""Emissions: pure formulas from activity data and cited factors to tCO2e, with lineage.

Every function returns an immutable ``Emission`` that carries what an auditor needs to
recompute it (BRIEF rule 3): the activity with its unit, each factor used (set, version,
id, value, units), the formula written out with the numbers substituted, the mass of the
gas in the factor's unit, the GWP set when one was needed, and the result in tCO2e as an
unrounded Decimal. Nothing here reads a database or a steam table: enthalpy, meter values
and contractual instruments come from the caller.

Electricity and on-site PV: location-based emissions are ``(import - export) × EF_grid``.
Self-consumed PV never enters that formula: it lowers the import the meter records, and
that is its whole effect. There is deliberately no "PV reduction" line, because counting
the lower purchase and a separate reduction would count the same kWh twice (BRIEF).
``site_consumption`` adds PV back only for energy KPIs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledger.factors import Factor
from ledger.findings import Finding
from ledger.gwp import GAS_UNITS, GwpSet
from ledger.quantities import Quantity, Rate, add, convert, convert_rate, multiply, plain, q
from ledger.quantities import subtract as minus
from meterledger.errors import FactorError

FEED_WATER_ENTHALPY = Decimal("83.74")  # kJ/kg, water at 20 °C: the reference of Q
CO2_PER_C = (Decimal(44), Decimal(12))  # molar masses: 44/12 tCO2 per tC


@dataclass(frozen=True, slots=True)
class FactorUse:
    """A factor or parameter as a result used it, pinned by set, version and id."""

    ref: str
    kind: str
    gas: str
    rate: Rate

    @classmethod
    def of(cls, factor: Factor) -> FactorUse:
        return cls(factor.ref, factor.kind, factor.gas, factor.rate)


@dataclass(frozen=True, slots=True)
class Emission:
    """One computed emission with everything needed to recompute it."""

    activity: Quantity
    factors: tuple[FactorUse, ...]
    formula: str
    gas: str
    mass: Quantity
    gwp: str
    tco2e: Decimal
    findings: tuple[Finding, ...] = ()


def to_tco2e(gas: str, mass: Quantity, gwp: GwpSet | None) -> Decimal:
    """Express a mass of one gas in tCO2e; CH4 and N2O need a GWP set, CO2 has GWP 1."""
    if gas not in GAS_UNITS:
        raise FactorError(f"gas {gas!r}", f"unknown; known gases are {', '.join(GAS_UNITS)}")
    tonnes = convert(mass, GAS_UNITS[gas]).value
    if gas in ("CO2", "CO2e"):
        return tonnes
    if gwp is None:
        raise FactorError(f"{mass} of {gas}", "a GWP set is needed to express it as CO2e")
    return tonnes * gwp.gwp(gas)


def _co2e_text(gas: str, mass: Quantity, tco2e: Decimal, gwp: GwpSet | None) -> str:
    if gas == "CO2e" and mass.unit == "tCO2e":
        return ""
    if gwp is None or gas in ("CO2", "CO2e"):
        return f" = {plain(tco2e)} tCO2e"
    return f" × GWP_{gas} {plain(gwp.gwp(gas))} ({gwp.name}) = {plain(tco2e)} tCO2e"


def emission(activity: Quantity, factor: Factor, gwp: GwpSet | None = None) -> Emission:
    """Compute ``E = A × EF`` for one gas; the mass is in the factor's numerator unit."""
    return _line(activity, factor, gwp, "E = A × EF", str(activity))


def _line(activity: Quantity, factor: Factor, gwp: GwpSet | None, lhs: str, shown: str) -> Emission:
    """Apply a factor and write the formula as ``lhs = shown × EF = mass [= tCO2e]``."""
    if factor.kind != "factor":
        raise FactorError(factor.ref, f"is a {factor.kind} parameter, not an emission factor")
    mass = multiply(activity, factor.rate)
    tco2e = to_tco2e(factor.gas, mass, gwp)
    formula = f"{lhs} = {shown} × {factor.rate} = {mass}"
    return Emission(
        activity=activity,
        factors=(FactorUse.of(factor),),
        formula=formula + _co2e_text(factor.gas, mass, tco2e, gwp),
        gas=factor.gas,
        mass=mass,
        gwp=gwp.name if gwp and factor.gas not in ("CO2", "CO2e") else "",
        tco2e=tco2e,
    )


def multi_gas(activity: Quantity, factors: Sequence[Factor], gwp: GwpSet) -> tuple[Emission, ...]:
    """Compute ``E_CO2e = Σ A × EF_gas × GWP_gas``: one line per gas, summed by the caller."""
    return tuple(emission(activity, factor, gwp) for factor in factors)


def gas_co2e(gas: str, mass: Quantity, gwp: GwpSet) -> Emission:
    """Express a directly measured gas mass (a refrigerant leak, a stack test) as CO2e."""
    tco2e = to_tco2e(gas, mass, gwp)
    formula = f"E = m × GWP = {mass}" + _co2e_text(gas, mass, tco2e, gwp)
    name = gwp.name if gas not in ("CO2", "CO2e") else ""
    return Emission(mass, (), formula, gas, mass, name, tco2e)


def total_tco2e(emissions: Sequence[Emission]) -> Decimal:
    """Add the unrounded tCO2e of several results."""
    return sum((item.tco2e for item in emissions), Decimal(0))


def fuel_combustion(amount: Quantity, ncv: Factor, cc: Factor, oxidation: Factor) -> Emission:
    """Compute fuel CO2 from parameters: ``EF = CC × OF × 44/12``, ``E = A × NCV × EF``.

    The only inexact step, the division by 12, is done last, so the result carries no
    rounding from an intermediate EF. The EF is still written into the formula.
    """
    for factor, kind in ((ncv, "NCV"), (cc, "CC"), (oxidation, "OF")):
        if factor.kind != kind:
            raise FactorError(factor.ref, f"is a {factor.kind}, expected {kind}")
    energy = multiply(amount, ncv.rate)
    carbon = convert_rate(cc.rate, "tC", energy.unit)
    ratio = _fraction(oxidation)
    tonnes = energy.value * carbon.value * ratio * CO2_PER_C[0] / CO2_PER_C[1]
    ef = Rate(carbon.value * ratio * CO2_PER_C[0] / CO2_PER_C[1], "tCO2", energy.unit)
    mass = q(tonnes, "tCO2")
    formula = (
        f"EF = CC × OF × 44/12 = {carbon} × {plain(ratio)} × 44/12 = {ef}; "
        f"E = A × NCV × EF = {amount} × {ncv.rate} × {ef} = {mass}"
    )
    uses = tuple(FactorUse.of(f) for f in (ncv, cc, oxidation))
    return Emission(amount, uses, formula, "CO2", mass, "", tonnes)


def fuel_factor(cc: Factor, oxidation: Factor, per: str = "GJ") -> Rate:
    """Return ``EF = CC × OF × 44/12`` as a rate in tCO2 per ``per`` (for reports)."""
    carbon = convert_rate(cc.rate, "tC", per)
    ratio = _fraction(oxidation)
    return Rate(carbon.value * ratio * CO2_PER_C[0] / CO2_PER_C[1], "tCO2", carbon.denominator)


def _fraction(oxidation: Factor) -> Decimal:
    """Return an oxidation factor as a plain fraction: 99 % → 0.99."""
    return convert_rate(oxidation.rate, "", "").value


def steam_heat(mass: Quantity, enthalpy: Rate) -> Quantity:
    """Return the heat of purchased steam, ``Q (GJ) = M (t) × (h - 83.74) × 10⁻³``.

    ``enthalpy`` is the specific enthalpy at the measured pressure and temperature, from
    the caller's steam tables (the ledger stays pure); 83.74 kJ/kg is feed water at 20 °C.
    """
    h = convert_rate(enthalpy, "kJ", "kg").value
    if h <= FEED_WATER_ENTHALPY:
        raise ValueError(f"steam enthalpy {plain(h)} kJ/kg is not above feed water 83.74 kJ/kg")
    return convert(multiply(mass, Rate(h - FEED_WATER_ENTHALPY, "kJ", "kg")), "GJ")


def purchased_steam(mass: Quantity, enthalpy: Rate, heat_factor: Factor) -> Emission:
    """Compute purchased steam as heat: ``Q = M × (h - 83.74) × 10⁻³``, ``E = Q × EF_heat``."""
    heat = steam_heat(mass, enthalpy)
    line = _line(heat, heat_factor, None, "E = Q × EF_heat", str(heat))
    h = convert_rate(enthalpy, "kJ", "kg").value
    formula = (
        f"Q = M × (h - 83.74) × 10⁻³ = {convert(mass, 't')} × ({plain(h)} - 83.74) kJ/kg "
        f"× 10⁻³ = {heat}; {line.formula}"
    )
    return Emission(mass, line.factors, formula, line.gas, line.mass, "", line.tco2e)


def electricity_location(imported: Quantity, exported: Quantity, grid: Factor) -> Emission:
    """Compute location-based electricity, ``E = (import - export) × EF_grid``.

    A net export gives zero emissions (exports do not offset other emissions) and a
    ``NET_EXPORT`` finding rather than a negative line.
    """
    net = minus(imported, exported)
    findings: tuple[Finding, ...] = ()
    if net.value < 0:
        detail = f"export {exported} exceeds import {imported}; counted as zero"
        findings = (Finding("NET_EXPORT", grid.ref, detail, "electricity_location"),)
        net = Quantity(Decimal(0), net.unit)
    shown = f"({imported} - {exported})"
    line = _line(net, grid, None, "E = (import - export) × EF_grid", shown)
    return Emission(net, line.factors, line.formula, line.gas, line.mass, "", line.tco2e, findings)


def site_consumption(imported: Quantity, exported: Quantity, pv_generated: Quantity) -> Quantity:
    """Return the site's electricity use for KPIs: import - export + PV generated.

    Only for intensity figures; emissions never take PV as an input (module docstring).
    """
    return add(minus(imported, exported), pv_generated)


@dataclass(frozen=True, slots=True)
class Instrument:
    """A contractual instrument (GEC, I-REC, green power contract) with its own factor."""

    id: str
    kind: str
    energy: Quantity
    period_start: date
    period_end: date
    rate: Rate
    gas: str = "CO2"


@dataclass(frozen=True, slots=True)
class MarketResult:
    """Market-based electricity: one line per instrument applied, then the remainder."""

    lines: tuple[Emission, ...]
    tco2e: Decimal
    findings: tuple[Finding, ...]


def electricity_market(
    consumption: Quantity,
    instruments: Sequence[Instrument],
    remainder: Factor,
    period_start: date,
    period_end: date,
) -> MarketResult:
    """Compute market-based electricity: instruments first at their factors, the rest at
    ``remainder`` (a residual-mix or grid factor).

    Instruments whose period does not overlap [period_start, period_end) are not applied;
    instruments are applied in order and never beyond the consumption, and any surplus is
    reported as an ``INSTRUMENTS_EXCEED_CONSUMPTION`` finding rather than dropped silently.
    """
    if consumption.value < 0:
        raise ValueError(f"consumption {consumption} is negative")
    left = consumption
    lines: list[Emission] = []
    findings: list[Finding] = []
    for item in instruments:
        if item.period_end <= period_start or item.period_start >= period_end:
            detail = (
                f"{item.kind} for [{item.period_start}, {item.period_end}) is outside the period"
            )
            findings.append(Finding("INSTRUMENT_OUTSIDE_PERIOD", item.id, detail, "market"))
            continue
        energy = convert(item.energy, left.unit)
        covered = Quantity(min(energy.value, max(left.value, Decimal(0))), left.unit)
        if covered.value < energy.value:
            detail = f"{minus(energy, covered)} of {item.energy} exceeds the consumption left"
            findings.append(Finding("INSTRUMENTS_EXCEED_CONSUMPTION", item.id, detail, "market"))
        mass = multiply(covered, item.rate)
        tco2e = to_tco2e(item.gas, mass, None)
        use = FactorUse(f"instrument/{item.kind}/{item.id}", "instrument", item.gas, item.rate)
        formula = f"E = A_instrument × EF_instrument = {covered} × {item.rate} = {mass}"
        lines.append(Emission(covered, (use,), formula, item.gas, mass, "", tco2e))
        left = minus(left, covered)
    lines.append(_line(left, remainder, None, "E = remainder × EF_remainder", str(left)))
    return MarketResult(tuple(lines), total_tco2e(lines), tuple(findings))


def saving(rate_before: Rate, rate_after: Rate, days: Quantity) -> Quantity:
    """Compute a project saving, ``(rate_before - rate_after) × operating days``.

    Both rates must measure the same thing per the same time (``t/day``, ``kWh/day``); a
    kW figure where kWh per day is meant is refused. Savings are a separate bucket from the
    inventory (BRIEF rule 6): this returns the amount, not an emission line.
    """
    after = convert_rate(rate_after, rate_before.numerator, rate_before.denominator)
    difference = Rate(
        rate_before.value - after.value, rate_before.numerator, rate_before.denominator
    )
    return multiply(days, difference)
