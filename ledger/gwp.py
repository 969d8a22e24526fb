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
    }
)


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


def _set(name: str, source: str, **values: str) -> GwpSet:
    return GwpSet(
        name=name,
        values=MappingProxyType({gas: Decimal(value) for gas, value in values.items()}),
        source=source,
    )


AR4 = _set(
    "AR4",
    "IPCC AR4 WG1 (2007), Chapter 2, Table 2.14, GWP-100",
    CH4="25",
    N2O="298",
)
AR5 = _set(
    "AR5",
    "IPCC AR5 WG1 (2013), Chapter 8, Table 8.7, GWP-100 without climate-carbon feedback",
    CH4="28",
    N2O="265",
)
AR6 = _set(
    "AR6",
    "IPCC AR6 WG1 (2021), Chapter 7, Table 7.15, GWP-100",
    CH4_fossil="29.8",
    CH4_non_fossil="27.0",
    N2O="273",
)

GWP_SETS: Mapping[str, GwpSet] = MappingProxyType({s.name: s for s in (AR4, AR5, AR6)})


def gwp_set(name: str) -> GwpSet:
    """Look up a GWP set by name (``AR4``, ``AR5``, ``AR6``)."""
    try:
        return GWP_SETS[name]
    except KeyError:
        known = ", ".join(GWP_SETS)
        raise FactorError(f"GWP set {name!r}", f"unknown; known sets are {known}") from None
