"""A site's emission target as a trajectory: what each month may emit on the way to it.

The target is a linear absolute contraction, as the Science Based Targets initiative sets
them: from the base year's emissions, a fixed share of that base is cut every year (4.2 %
a year is SBTi's 1.5 °C pathway). A year's allowance is spread over its months by their
days, so a trajectory month compares with a statement month whatever its length.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from ledger.periods import Month


@dataclass(frozen=True, slots=True)
class Target:
    """The base year's total and the share of it cut each year, on one scope-2 basis."""

    base_year: int
    base_tco2e: Decimal
    annual_reduction: Decimal
    basis: Literal["location", "market"] = "location"

    def year(self, year: int) -> Decimal:
        """The year's allowance in tCO2e: the base, less the cuts since; never below zero."""
        cut = self.annual_reduction * max(0, year - self.base_year)
        return max(Decimal(0), self.base_tco2e * (1 - cut))

    def month(self, month: Month) -> Decimal:
        """The month's share of its year's allowance, by days."""
        days = calendar.monthrange(month.year, month.month)[1]
        in_year = 366 if calendar.isleap(month.year) else 365
        return self.year(month.year) * days / in_year
