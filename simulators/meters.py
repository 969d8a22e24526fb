"""What a simulated meter is to the gateways and to ground truth, and every model of one.

A model shows ``values_at(t)`` by register name (what a gateway encodes or publishes),
refreshed at ``grid(t)``, and names its counters in ``totals()`` (what ground truth
integrates). The models themselves live in a module each; they are gathered here so that
a gateway or a test needs one import.
"""

from __future__ import annotations

from typing import Protocol

from simulators.counters import Counter, Timing, Total
from simulators.electricity import ElectricityMeter, NetFlow
from simulators.gas import GasMeter
from simulators.steam import SteamMeter
from simulators.totalizers import ProductionCounter, WaterMeter

__all__ = [
    "Counter",
    "ElectricityMeter",
    "GasMeter",
    "MeterModel",
    "NetFlow",
    "ProductionCounter",
    "SteamMeter",
    "WaterMeter",
]


class MeterModel(Protocol):
    """A simulated meter as gateways and ground truth see it."""

    timing: Timing

    def grid(self, t: float) -> float:
        """The instant whose state the meter shows at Unix time ``t``."""
        ...

    def values_at(self, t: float) -> dict[str, float]:
        """Every value shown at ``t``, by register name, in the register's unit."""
        ...

    def totals(self) -> dict[str, Total]:
        """The counters by name, with their unit and the rate they integrate."""
        ...
