"""The live meter tree: remainders per level, PV added back, nothing guessed when a value
is missing."""

from dataclasses import dataclass
from datetime import UTC, datetime

from api.meter_flow import carrier_flows
from store.readings import LatestValue

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class M:
    key: str
    role: str
    parent: str | None = None
    carrier: str = "electricity"
    name: str = ""


def rate(meter: str, value: float | None, point_id: int, quantity: str = "power") -> LatestValue:
    unit = "kW" if quantity == "power" else "Nm3/h"
    ts = NOW if value is not None else None
    return LatestValue("s", meter, quantity, point_id, quantity, unit, "gauge", ts, value, 0)


def test_a_generation_meter_naming_another_sites_parent_stands_alone_as_a_root() -> None:
    meters = [M("grid", "main"), M("pv", "generation", parent="elsewhere")]
    (flow,) = carrier_flows(meters, [rate("grid", 10.0, 1), rate("pv", 4.0, 2)])
    assert [r.meter for r in flow.roots] == ["grid", "pv"]
    assert flow.roots[0].served == 10.0, "a PV meter behind no main meter adds nothing"


def test_two_main_meters_leave_an_unparented_pv_meter_unattributed() -> None:
    meters = [M("grid-a", "main"), M("grid-b", "main"), M("pv", "generation")]
    (flow,) = carrier_flows(meters, [rate("grid-a", 1.0, 1), rate("pv", 4.0, 2)])
    assert [(r.meter, r.generation) for r in flow.roots[:2]] == [("grid-a", []), ("grid-b", [])]
    assert flow.roots[2].meter == "pv"


def test_a_sub_meter_without_a_value_leaves_the_remainder_unknown_not_overstated() -> None:
    meters = [M("grid", "main"), M("ws-1", "sub", "grid"), M("ws-2", "sub", "grid")]
    (flow,) = carrier_flows(meters, [rate("grid", 100.0, 1), rate("ws-1", 60.0, 2)])
    (grid,) = flow.roots
    assert (grid.served, grid.unmetered, grid.unmetered_share) == (100.0, None, None)


def test_production_lines_are_not_part_of_the_flow_and_carriers_come_in_a_fixed_order() -> None:
    meters = [
        M("water", "main", carrier="water"),
        M("gas", "main", carrier="natural_gas"),
        M("line", "main", carrier="other"),
        M("grid", "main"),
    ]
    flows = carrier_flows(meters, [rate("gas", 12.5, 1, "flow")])
    assert [f.carrier for f in flows] == ["electricity", "natural_gas", "water"]
    assert (flows[1].roots[0].value, flows[1].roots[0].unit) == (12.5, "Nm3/h")


def test_an_idle_main_meter_has_no_share_rather_than_a_division_by_zero() -> None:
    meters = [M("grid", "main"), M("ws", "sub", "grid")]
    (flow,) = carrier_flows(meters, [rate("grid", 0.0, 1), rate("ws", 0.0, 2)])
    assert (flow.roots[0].unmetered, flow.roots[0].unmetered_share) == (0.0, None)
