"""Global warming potentials: the chosen, recorded parameter that turns a gas into CO2e.

A ledger states which IPCC assessment its CO2e figures use (BRIEF: "the GWP set is a chosen,
recorded parameter"); mixing sets inside one inventory is a reporting error, so every CO2e
result carries the name of the set that produced it.

Values are the 100-year GWPs, each with the table it comes from:

- AR4: IPCC AR4 WG1, Forster et al. 2007, Chapter 2, Table 2.14: CH4 25, N2O 298.
- AR5: IPCC AR5 WG1, Myhre et al. 2013, Chapter 8, Table 8.7 (without climate-carbon
  feedback): CH4 28, N2O 265.
- AR6: IPCC AR6 WG1, Forster et al. 2021, Chapter 7, Table 7.15: CH4 from fossil sources
  29.8, CH4 from non-fossil sources 27.0, N2O 273.

Refrigerants (HFCs, SF6) are masses of their own gas, weighed in kg at a top-up; their
GWPs come from the same reports' full tables: AR4 Table 2.14, AR5 Chapter 8 Appendix
Table 8.A.1, AR6 Chapter 7 Supplementary Material Table 7.SM.7. A blend (R-410A, R-404A,
R-407C, R-507A) is a mixture by mass of its components (ASHRAE Standard 34 compositions),
so its GWP is the mass-weighted sum of theirs in the chosen set: R-410A is
0.5 × 677 + 0.5 × 3170 = 1923.5 in AR5. Trade names (R-134a, R-32) are accepted for the
pure gases.

AR6 gives methane two values; asking AR6 for plain ``CH4`` is refused rather than guessed,
so the factor or entry must say ``CH4_fossil`` or ``CH4_non_fossil``. AR4 and AR5 give one
value, which serves both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from meterledger.errors import FactorError

# The gases the ledger knows, and the unit dimension a mass of each must have.
GAS_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "CO2": "tCO2",
        "CH4": "tCH4",
        "CH4_fossil": "tCH4",
        "CH4_non_fossil": "tCH4",
        "N2O": "tN2O",
        "CO2e": "tCO2e",
        # Refrigerants: plain mass of the gas, as weighed at a top-up.
        "HFC-23": "t",
        "HFC-32": "t",
        "HFC-125": "t",
        "HFC-134a": "t",
        "HFC-143a": "t",
        "SF6": "t",
        "R-404A": "t",
        "R-407C": "t",
        "R-410A": "t",
        "R-507A": "t",
    }
)

#: Refrigerant blends by mass share of their components (ASHRAE Standard 34).
BLENDS: Mapping[str, Mapping[str, Decimal]] = MappingProxyType(
    {
        "R-404A": {"HFC-125": Decimal("0.44"), "HFC-143a": Decimal("0.52"),
                   "HFC-134a": Decimal("0.04")},
        "R-407C": {"HFC-32": Decimal("0.23"), "HFC-125": Decimal("0.25"),
                   "HFC-134a": Decimal("0.52")},
        "R-410A": {"HFC-32": Decimal("0.5"), "HFC-125": Decimal("0.5")},
        "R-507A": {"HFC-125": Decimal("0.5"), "HFC-143a": Decimal("0.5")},
    }
)  # fmt: skip

_TRADE_NAMES = {"R-23": "HFC-23", "R-32": "HFC-32", "R-125": "HFC-125", "R-134A": "HFC-134a",
                "R-143A": "HFC-143a"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class GwpSet:
    """One assessment report's 100-year GWPs, with the source of the values."""

    name: str
    values: Mapping[str, Decimal]
    source: str

    def gwp(self, gas: str) -> Decimal:
        """Return the GWP of ``gas``; CO2 is 1 by definition and CO2e is already CO2e."""
        if gas in ("CO2", "CO2e"):
            return Decimal(1)
        if gas in BLENDS:
            return sum((share * self.gwp(part) for part, share in BLENDS[gas].items()), Decimal(0))
        if gas in self.values:
            return self.values[gas]
        if gas.startswith("CH4_") and "CH4" in self.values:
            return self.values["CH4"]  # this report gives one value for all methane
        if gas == "CH4" and "CH4_fossil" in self.values:
            raise FactorError(
                f"GWP {self.name} for CH4",
                f"{self.name} distinguishes fossil ({self.values['CH4_fossil']}) and "
                f"non-fossil ({self.values['CH4_non_fossil']}) methane: record the gas as "
                "CH4_fossil or CH4_non_fossil",
            )
        raise FactorError(f"GWP {self.name} for {gas}", f"{self.name} has no value for {gas}")

    def explain(self, gas: str) -> str:
        """Write how the GWP of a gas is found: a blend's weighted sum, or the table value."""
        if gas not in BLENDS:
            return f"GWP_{gas} = {self.gwp(gas)} ({self.name})"
        parts = " + ".join(f"{share} × {self.gwp(part)}" for part, share in BLENDS[gas].items())
        return f"GWP_{gas} = {parts} = {self.gwp(gas)} ({self.name})"


def refrigerant(name: str) -> str:
    """Return the gas name the GWP tables use for a refrigerant as people write it.

    ``r410a``, ``R410A`` and ``R-410A`` are R-410A; ``R-134a`` is HFC-134a. Raises
    FactorError listing the known refrigerants for anything else.
    """
    spelled = name.strip().upper().replace(" ", "")
    if spelled.startswith("R") and not spelled.startswith("R-"):
        spelled = "R-" + spelled[1:]
    if spelled.startswith("HFC") and not spelled.startswith("HFC-"):
        spelled = "HFC-" + spelled[3:]
    known = {gas.upper(): gas for gas in GAS_UNITS if GAS_UNITS[gas] == "t"}
    found = known.get(spelled) or _TRADE_NAMES.get(spelled)
    if found is None:
        names = ", ".join(sorted(known.values()))
        raise FactorError(f"refrigerant {name!r}", f"unknown; known refrigerants are {names}")
    return found


def _set(name: str, source: str, **values: str) -> GwpSet:
    return GwpSet(
        name=name,
        values=MappingProxyType(
            {
                gas.replace("_", "-") if gas.startswith(("HFC", "HCFC")) else gas: Decimal(value)
                for gas, value in values.items()
            }
        ),
        source=source,
    )


AR4 = _set(
    "AR4",
    "IPCC AR4 WG1 (2007), Chapter 2, Table 2.14, GWP-100",
    CH4="25",
    N2O="298",
    HFC_23="14800",
    HFC_32="675",
    HFC_125="3500",
    HFC_134a="1430",
    HFC_143a="4470",
    SF6="22800",
)
AR5 = _set(
    "AR5",
    "IPCC AR5 WG1 (2013), Chapter 8, Table 8.7 and Table 8.A.1, GWP-100 without "
    "climate-carbon feedback",
    CH4="28",
    N2O="265",
    HFC_23="12400",
    HFC_32="677",
    HFC_125="3170",
    HFC_134a="1300",
    HFC_143a="4800",
    SF6="23500",
)
AR6 = _set(
    "AR6",
    "IPCC AR6 WG1 (2021), Chapter 7, Table 7.15 and Table 7.SM.7, GWP-100",
    CH4_fossil="29.8",
    CH4_non_fossil="27.0",
    N2O="273",
    HFC_23="14600",
    HFC_32="771",
    HFC_125="3740",
    HFC_134a="1530",
    HFC_143a="5810",
    SF6="25200",
)

GWP_SETS: Mapping[str, GwpSet] = MappingProxyType({s.name: s for s in (AR4, AR5, AR6)})


def gwp_set(name: str) -> GwpSet:
    """Look up a GWP set by name (``AR4``, ``AR5``, ``AR6``)."""
    try:
        return GWP_SETS[name]
    except KeyError:
        known = ", ".join(GWP_SETS)
        raise FactorError(f"GWP set {name!r}", f"unknown; known sets are {known}") from None
