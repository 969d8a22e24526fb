"""IAPWS-IF97 steam properties through pyXSteam, the one place that talks to it.

pyXSteam is pure Python (no numpy/scipy, unlike iapws) and gives h(1.0 MPa, 200 °C) =
2828.27 kJ/kg as the IF97 tables do (a unit test holds it to that within 0.1 kJ/kg). It
answers NaN rather than raising outside its range; we raise instead, because a NaN
enthalpy would silently turn a steam meter's energy counter into NaN.

Heat delivered with steam follows the ledger's formula (domain brief, "Purchased steam as
heat"): Q [GJ] = M [t] x (h - 83.74 kJ/kg) x 1e-3, with 83.74 kJ/kg the enthalpy of feed
water at 20 °C.
"""

from __future__ import annotations

import logging
import math
from functools import cache, lru_cache
from typing import Any

from pyXSteam.XSteam import XSteam

FEED_WATER_ENTHALPY = 83.74  # kJ/kg, water at 20 °C: the brief's reference for heat in steam
KELVIN = 273.15


@cache
def _tables() -> Any:
    # BARE units: MPa and kelvin in, kJ/kg out. Built on first use, not at import; its
    # INFO line about the unit system would be the only thing it ever logs.
    logging.getLogger("pyXSteam").setLevel(logging.WARNING)
    return XSteam(XSteam.UNIT_SYSTEM_BARE)


@lru_cache(maxsize=65536)
def enthalpy(pressure: float, temperature: float) -> float:
    """Specific enthalpy in kJ/kg of water/steam at ``pressure`` MPa (abs) and °C.

    Cached: a steam meter's P and T hold for ten minutes, its counter asks every step.
    """
    value = float(_tables().h_pt(pressure, temperature + KELVIN))
    if not math.isfinite(value):
        raise ValueError(f"no IF97 enthalpy at {pressure} MPa, {temperature} °C")
    return value


def saturation_temperature(pressure: float) -> float:
    """Boiling point in °C at ``pressure`` MPa (abs); ValueError outside 611 Pa…22.064 MPa."""
    value = float(_tables().tsat_p(pressure)) - KELVIN
    if not math.isfinite(value):
        raise ValueError(f"no saturation temperature at {pressure} MPa")
    return value


def heat_per_tonne(pressure: float, temperature: float) -> float:
    """GJ carried by one tonne of steam over feed water at 20 °C."""
    return (enthalpy(pressure, temperature) - FEED_WATER_ENTHALPY) * 1e-3
