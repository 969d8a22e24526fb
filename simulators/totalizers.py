"""Meters with one counter and its flow: water (m³, m³/h) and a line's output (t, t/h).

The production counter is what a line's MES or checkweigher totals: tonnes of product,
following the same shifts, weekends and holidays as the energy the line draws, so
intensity KPIs (kWh/t, m³ gas/t) come out of the simulation with plausible values.
"""

from __future__ import annotations

from simulators.counters import Counter, Meter, Rate, Timing, Total


class Totalizer(Meter):
    """One counter (``counter_name``, in ``unit``) and its flow (``flow_name``, per hour)."""

    counter_name = "total"
    flow_name = "flow_rate"
    unit = ""

    def __init__(
        self,
        profile: Rate,
        initial: float,
        origin: float,
        step: float,
        *,
        refresh: float | None = None,
    ) -> None:
        super().__init__(Timing(origin, step, refresh))
        self.profile = profile
        self.total = Counter(profile, initial, origin, step)

    def totals(self) -> dict[str, Total]:
        return {self.counter_name: Total(self.unit, self.profile)}

    def _values(self, at: float) -> dict[str, float]:
        return {
            self.counter_name: self.total.value_at(at),
            self.flow_name: self.profile.rate(at),
        }


class WaterMeter(Totalizer):
    """A water meter: ``volume`` in m³ and ``flow`` in m³/h."""

    counter_name = "volume"
    flow_name = "flow"
    unit = "m3"


class ProductionCounter(Totalizer):
    """A production line's ``output`` in t and ``output_rate`` in t/h."""

    counter_name = "output"
    flow_name = "output_rate"
    unit = "t"
