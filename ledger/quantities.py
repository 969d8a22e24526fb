"""Quantities with units, checked on every operation, with Decimal values end to end.

BRIEF rule 1: km × kgCO2e/(t·km) is an error, kW is not kWh, tce is not tCO2. A value is a
``Quantity`` (Decimal and unit) or a ``Rate`` (Decimal, numerator and denominator units);
the operations refuse to combine them unless the dimensions fit, and name the quantities.

Own base dimensions, so nothing converts silently (docs/factors.md, "Units"):
``[CO2]``, ``[CH4]``, ``[N2O]`` for the mass of one gas (only a chosen GWP set makes CO2e
of CH4 or N2O; CO2 becomes CO2e with GWP 1, explicitly, so a CO2-only factor and a CO2e
factor are never mixed by accident); ``[CO2e]``; ``[carbon]`` (tC, for carbon content,
which becomes tCO2 only through 44/12); ``[coal_equivalent]`` (tce, a statistical energy
convention, convertible to nothing here); ``[normal_volume]`` (Nm3 and e4Nm3 = 10⁴Nm³; gas
at standard conditions is not a geometric m³).

Decimal: the registry is built with ``non_int_type=Decimal``, so pint's conversion factors
are Decimals (1 MWh → 1E+3 kWh, 1 GJ/e4Nm3 → 0.0001 GJ/Nm3); the factor is asked of pint
once per unit pair and the value multiplied here, never through float. Factors that do not
terminate (1 GJ = 277.77… kWh) are rounded to the Decimal context (28 digits).

Unit strings are normalised before pint sees them: pint reads ``Nm³`` and ``Nm**3`` as
``number_meter**3`` (STACK.md), so every spelling of normal cubic metres becomes ``Nm3``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from meterledger.errors import UnitError

if TYPE_CHECKING:
    import pint

# Own base dimensions, each spelled as one word with t, kg and g: tCO2e, kgCO2e, gCO2e...
_OWN_DIMENSIONS = {"CO2e": "CO2e", "CO2": "CO2", "CH4": "CH4", "N2O": "N2O", "C": "carbon"}
_DEFINITIONS = (
    *(f"t{name} = [{dim}]" for name, dim in _OWN_DIMENSIONS.items()),
    *(f"kg{name} = t{name} / 1000" for name in _OWN_DIMENSIONS),
    *(f"g{name} = kg{name} / 1000" for name in _OWN_DIMENSIONS),
    "tce = [coal_equivalent]",
    "kgce = tce / 1000",
    "Nm3 = [normal_volume]",
    "e4Nm3 = 10000 * Nm3",
)

# Names for the dimensions people meet, so errors read "[power]" rather than pint's
# "[mass] * [length] ** 2 / [time] ** 3". Each name is given by a unit that has it.
_DIMENSION_NAMES = {
    "energy": "kWh", "power": "kW", "mass": "kg", "length": "km", "time": "h",
    "volume": "m**3", "normal volume": "Nm3", "mass·length": "t*km", "CO2e": "tCO2e",
    "CO2": "tCO2", "CH4": "tCH4", "N2O": "tN2O", "carbon": "tC", "coal equivalent": "tce",
    "dimensionless": "",
}  # fmt: skip

_SYMBOLS = str.maketrans(
    {"·": "*", "⋅": "*", "×": "*", "₂": "2", "₄": "4", "³": "^3", "²": "^2", "⁴": "^4"}
)
_TKM = r"(?<![A-Za-z])(?:t\*km|t\.km|tkm|tonne[.\- ]km|吨公里)(?![A-Za-z])"
_SPELLINGS = (
    (re.compile(r"\s*(\^|\*\*)\s*"), "^"),
    (re.compile(r"(?:10\^4|万)\s*\*?\s*Nm\^?3"), "e4Nm3"),
    (re.compile(r"Nm\^?3"), "Nm3"),
    (re.compile(r"(?<![A-Za-z])m3(?![0-9])"), "m^3"),
    (re.compile(rf"/\s*{_TKM}"), "/(t*km)"),  # per t·km, not per t then times km
    (re.compile(_TKM), "t*km"),
    (re.compile(r"\b(t|kg|g)\s+(?=CO2|CH4|N2O)"), r"\1"),
    (re.compile(r"CO2[-_ ]?eq?\b"), "CO2e"),
    (re.compile(r"%"), "percent"),
    (re.compile(r"\^"), "**"),
    (re.compile(r"\s+"), " "),
)


def normalise(unit: str) -> str:
    """Rewrite a unit as written in a report or CSV into the spelling the registry reads.

    ``m³``/``m3`` → ``m**3``; ``Nm³``/``Nm^3``/``Nm**3`` → ``Nm3``; ``10⁴Nm³``/``万Nm3`` →
    ``e4Nm3``; ``t·km``/``tkm`` → ``t*km``; ``t CO2e``/``tCO₂-eq`` → ``tCO2e``; ``%`` →
    ``percent``. ``1`` and the empty string mean dimensionless.
    """
    text = unit.strip().translate(_SYMBOLS)
    if text in ("", "1"):
        return ""
    for pattern, replacement in _SPELLINGS:
        text = pattern.sub(replacement, text)
    return text.strip()


def plain(value: Decimal) -> str:
    """Write a Decimal as a report would: no exponent, no trailing zeros (127.000107)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def pretty(unit: str) -> str:
    """Spell a normalised unit the way a report prints it: ``kgCO2e/(t·km)``, ``GJ/10⁴Nm³``."""
    text = unit.replace("e4Nm3", "10⁴Nm³").replace("Nm3", "Nm³")
    text = text.replace("**3", "³").replace("**2", "²").replace("*", "·")
    return text or "1"


@functools.cache
def registry() -> pint.UnitRegistry[Any]:
    """Build the unit registry once, on first use: pint's import and setup cost ~0.5 s.

    ``cache_folder=":auto:"`` keeps pint's parsed definitions in the user cache folder,
    which brings a later start from ~0.4 s to ~0.05 s (STACK.md).
    """
    import pint

    ureg: pint.UnitRegistry[Any]
    try:
        ureg = pint.UnitRegistry(non_int_type=Decimal, cache_folder=":auto:")
    except OSError:  # no writable cache folder: slower start, same registry
        ureg = pint.UnitRegistry(non_int_type=Decimal)
    for definition in _DEFINITIONS:
        ureg.define(definition)
    return ureg


def _dimensionality(unit: str) -> object:
    """Return pint's dimensionality of a normalised unit, or raise UnitError naming it."""
    import pint

    try:
        return registry().get_dimensionality(unit)
    except pint.errors.PintError as exc:
        raise UnitError(pretty(unit), f"unknown unit ({exc})") from exc
    except Exception as exc:  # pint's parser fails on odd text in any way
        # (AssertionError, tokenize errors, AttributeError, ...): all mean "not a unit".
        raise UnitError(pretty(unit), f"not a unit ({type(exc).__name__})") from exc


@functools.cache
def dimension(unit: str) -> str:
    """Name the dimension of a unit in brackets: ``[energy]``, ``[mass·length]``, ``[CO2e]``."""
    found = _dimensionality(unit)
    for name, reference in _DIMENSION_NAMES.items():
        if _dimensionality(reference) == found:
            return f"[{name}]"
    return str(found)


@functools.cache
def _factor(source: str, target: str) -> Decimal:
    """Return the exact Decimal that turns a value in ``source`` into one in ``target``."""
    if dimension(source) != dimension(target):
        raise UnitError(
            f"{pretty(source)} → {pretty(target)}",
            f"{dimension(source)} is not {dimension(target)}",
        )
    magnitude = registry().Quantity(Decimal(1), source).to(target).magnitude
    if not isinstance(magnitude, Decimal):  # pint changed: refuse rather than go float
        raise UnitError(f"{pretty(source)} → {pretty(target)}", "conversion left Decimal")
    return magnitude


def _decimal(value: Decimal | int | str) -> Decimal:
    """Accept Decimal, int or a decimal string; refuse float, whose binary error we'd carry."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"expected Decimal, int or str, got {type(value).__name__}: {value!r}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


@dataclass(frozen=True, slots=True)
class Quantity:
    """An amount of something: an exact Decimal and its normalised unit."""

    value: Decimal
    unit: str

    def __str__(self) -> str:
        return f"{plain(self.value)} {pretty(self.unit)}"


@dataclass(frozen=True, slots=True)
class Rate:
    """An amount per amount, such as an emission factor: ``0.5703 tCO2/MWh``."""

    value: Decimal
    numerator: str
    denominator: str

    @property
    def unit(self) -> str:
        denominator = self.denominator
        if re.search(r"[*/ ]", denominator):
            denominator = f"({denominator})"
        return f"{self.numerator}/{denominator}" if denominator else self.numerator

    def __str__(self) -> str:
        return f"{plain(self.value)} {pretty(self.unit)}"


def q(value: Decimal | int | str, unit: str) -> Quantity:
    """Make a quantity, normalising and checking the unit; floats are refused."""
    normalised = normalise(unit)
    dimension(normalised)
    return Quantity(_decimal(value), normalised)


def _split(unit: str) -> tuple[str, str]:
    """Split ``kgCO2e/(t*km)`` into its numerator and denominator at the top-level slash."""
    depth = 0
    for index, char in enumerate(unit):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "/" and depth == 0:
            numerator, denominator = unit[:index].strip(), unit[index + 1 :].strip()
            if denominator.startswith("(") and denominator.endswith(")"):
                denominator = denominator[1:-1].strip()
            return numerator, denominator
    return unit, ""


def rate(value: Decimal | int | str, unit: str, denominator: str | None = None) -> Rate:
    """Make a rate from ``"tCO2/MWh"``, or from a numerator and a denominator given apart."""
    if denominator is None:
        numerator, denominator = _split(normalise(unit))
    else:
        numerator, denominator = normalise(unit), normalise(denominator)
    dimension(numerator)
    dimension(denominator)
    return Rate(_decimal(value), numerator, denominator)


def convert(quantity: Quantity, unit: str) -> Quantity:
    """Express a quantity in another unit of the same dimension, exactly."""
    target = normalise(unit)
    if target == quantity.unit:
        return quantity
    return Quantity(quantity.value * _factor(quantity.unit, target), target)


def convert_rate(value: Rate, numerator: str, denominator: str) -> Rate:
    """Express a rate in other units: ``tC/TJ`` as ``tC/GJ``, ``kgCO2/kWh`` as ``tCO2/MWh``."""
    top, bottom = normalise(numerator), normalise(denominator)
    scale = _factor(value.numerator, top) / _factor(value.denominator, bottom)
    return Rate(value.value * scale, top, bottom)


def add(first: Quantity, second: Quantity) -> Quantity:
    """Add two quantities of one dimension; the result is in the first one's unit."""
    if dimension(first.unit) != dimension(second.unit):
        raise UnitError(
            f"{pretty(first.unit)} + {pretty(second.unit)}",
            f"{dimension(second.unit)} cannot be added to {dimension(first.unit)}",
        )
    return Quantity(first.value + convert(second, first.unit).value, first.unit)


def subtract(first: Quantity, second: Quantity) -> Quantity:
    """Subtract the second quantity from the first, in the first one's unit."""
    return add(first, Quantity(-second.value, second.unit))


def total(quantities: Iterable[Quantity], unit: str) -> Quantity:
    """Add any number of quantities of one dimension, expressed in ``unit``."""
    result = q(0, unit)
    for quantity in quantities:
        result = add(result, quantity)
    return result


def product(first: Quantity, second: Quantity) -> Quantity:
    """Multiply two quantities into a compound one: 65 t × 561 km = 36465 t·km."""
    return Quantity(first.value * second.value, normalise(f"{first.unit}*{second.unit}"))


def multiply(activity: Quantity, factor: Rate) -> Quantity:
    """Apply a rate to an activity; the result is in the rate's numerator unit.

    The activity must have the dimension of the factor's denominator (it is converted to
    that unit first, exactly), otherwise the error names both: ``km × kgCO2e/(t·km):
    activity is [length] but the factor wants [mass·length]``.
    """
    if dimension(activity.unit) != dimension(factor.denominator):
        raise UnitError(
            f"{pretty(activity.unit)} × {pretty(factor.unit)}",
            f"activity is {dimension(activity.unit)} "
            f"but the factor wants {dimension(factor.denominator)}",
        )
    base = convert(activity, factor.denominator)
    return Quantity(base.value * factor.value, factor.numerator)
