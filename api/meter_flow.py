"""The live meter tree of a site: each meter's rate, and the unmetered remainder per level.

The same balance the ledger checks for a month (`ledger.close`: sub-meters against what
the loads behind their main meter drew), applied to the newest power or flow readings:
a main electricity meter reads the grid net of the PV behind it, so the PV's output is
added back before the sub-meters are subtracted. Pure: the route hands in the catalog
rows and the latest values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from api.schemas_dashboard import CarrierFlow, FlowNode
from store.readings import LatestValue

#: Gauges that say how fast a carrier flows, in order of preference per meter.
RATES = ("power", "mass_flow", "flow", "heat_flow")
#: Carriers that are not energy or water (production output): not part of the flow.
NOT_FLOWS = frozenset({"other"})
#: The order carriers are listed in; others follow in catalog order.
ORDER = ("electricity", "natural_gas", "steam", "heat", "water")


class MeterLike(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def carrier(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def parent(self) -> str | None: ...


def carrier_flows(meters: Sequence[MeterLike], latest: Sequence[LatestValue]) -> list[CarrierFlow]:
    """One tree per carrier, main meters as roots, in catalog order."""
    rates = _rates(latest)
    shown = [m for m in meters if m.carrier not in NOT_FLOWS]
    keys = {m.key for m in shown}
    flows = []
    carriers = sorted(dict.fromkeys(m.carrier for m in shown), key=_rank)
    for carrier in carriers:
        mine = [m for m in shown if m.carrier == carrier]
        mains = [m for m in mine if m.role == "main"]
        behind = {m.key: _behind(m, mains) for m in mine if m.role == "generation"}
        roots = [
            _node(m, mine, behind, rates)
            for m in mine
            if m.role != "generation" and (m.parent is None or m.parent not in keys)
        ]
        own = {m.key for m in mine}
        orphans = [m for m in mine if m.key in behind and behind[m.key] not in own]
        roots += [_node(m, mine, behind, rates) for m in orphans]
        flows.append(CarrierFlow(carrier=carrier, roots=roots))
    return flows


def _rank(carrier: str) -> int:
    return ORDER.index(carrier) if carrier in ORDER else len(ORDER)


def _rates(latest: Sequence[LatestValue]) -> dict[str, LatestValue]:
    """Each meter's preferred rate gauge."""
    found: dict[str, LatestValue] = {}
    for row in sorted(latest, key=lambda r: RATES.index(r.quantity) if r.quantity in RATES else 99):
        if row.kind == "gauge" and row.quantity in RATES:
            found.setdefault(row.meter, row)
    return found


def _behind(generation: MeterLike, mains: Sequence[MeterLike]) -> str | None:
    """The main meter a generation meter feeds behind: its parent, or the only main."""
    if generation.parent is not None:
        return generation.parent
    return mains[0].key if len(mains) == 1 else None


def _node(
    meter: MeterLike,
    meters: Sequence[MeterLike],
    behind: dict[str, str | None],
    rates: dict[str, LatestValue],
) -> FlowNode:
    rate = rates.get(meter.key)
    children = [
        _node(m, meters, behind, rates)
        for m in meters
        if m.parent == meter.key and m.role != "generation"
    ]
    generation = [_node(m, meters, behind, rates) for m in meters if behind.get(m.key) == meter.key]
    value = rate.value if rate else None
    served = _sum([value, *(g.value for g in generation)])
    unmetered = None
    if children and served is not None:
        parts = _sum([c.value for c in children])
        unmetered = None if parts is None else served - parts
    share = unmetered / served if unmetered is not None and served else None
    return FlowNode(
        meter=meter.key,
        name=meter.name,
        role=meter.role,
        point_id=rate.point_id if rate else None,
        unit=rate.unit if rate else None,
        value=value,
        ts=rate.ts if rate else None,
        served=served,
        unmetered=unmetered,
        unmetered_share=share if served and served > 0 else None,
        generation=generation,
        children=children,
    )


def _sum(values: Sequence[float | None]) -> float | None:
    """The sum, or None when any value is missing (a remainder from half the parts lies)."""
    if any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)
