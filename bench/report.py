"""What a benchmark returns, and the one line it prints."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Result:
    """A figure and how it compares with the ceiling measured in the same run.

    ``ratio`` is oriented so that 1.00 means "as good as the ceiling" and lower is worse:
    ours / ceiling for rates, ceiling / ours for costs (CPU time, memory).
    """

    name: str
    value: float
    unit: str
    ratio: float
    decimals: int = 0

    def line(self) -> str:
        value = f"{self.value:.{self.decimals}f}"
        return f"{self.name}: {value} {self.unit} (ratio {self.ratio:.2f} of ceiling)"
