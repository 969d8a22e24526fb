"""Faults in what a simulated meter shows: each does what the plant file says, in its
window only, and ground truth (what the meter delivered) is the same as without it."""

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter, ValidationError

from meterledger.bootstrap import run_system, wiring
from meterledger.config import load_config
from meterledger.errors import ConfigError
from meterledger.settings import Settings
from meterledger.simulate import describe
from simulators import ground_truth
from simulators.config import SimulationConfig
from simulators.fault_config import COUNTERS, SHOWN, FaultSpec, MqttGatewaySimulation
from simulators.faults import NO_FAULTS, FaultyMeter, faults_of
from simulators.gas import GasMeter
from simulators.meters import ElectricityMeter, MeterModel, WaterMeter
from simulators.plant import build_models

ROOT = Path(__file__).resolve().parents[2]
FAULTS_PLANT = ROOT / "tests/plants/faults.yaml"
BERLIN = ZoneInfo("Europe/Berlin")
ORIGIN = datetime(2026, 3, 2, tzinfo=BERLIN).timestamp()
HOUR = 3600.0
FAULT = TypeAdapter(FaultSpec)


class Constant:
    def __init__(self, rate: float) -> None:
        self.value = rate

    def rate(self, t: float) -> float:
        return self.value


def iso(hours: float) -> str:
    return datetime.fromtimestamp(ORIGIN + hours * HOUR, BERLIN).isoformat()


def fault(**fields: Any) -> FaultSpec:
    return FAULT.validate_python({"meter": "m", **fields})


def electricity(kw: float = 400, initial: float = 1000, refresh: float | None = None) -> Any:
    return ElectricityMeter(Constant(kw), initial, ORIGIN, 60, refresh=refresh)


def faulty(model: MeterModel, kind: str, *faults: dict[str, Any]) -> FaultyMeter:
    return FaultyMeter(model, kind, [fault(**f) for f in faults])


def test_every_model_shows_exactly_the_values_faults_may_name() -> None:
    config = load_config(ROOT / "examples/plant.yaml")
    models = build_models(config.simulation, wiring(config), origin=ORIGIN)
    for meter, spec in config.simulation.meters.items():
        shown = models[meter].values_at(ORIGIN + 600)
        assert tuple(shown) == SHOWN[spec.model], meter
        assert set(COUNTERS[spec.model]) <= set(shown)


def test_a_counter_wraps_at_its_wrap_value_and_ground_truth_keeps_the_energy() -> None:
    plain = GasMeter(Constant(1000), 9500, ORIGIN, 60)
    wrapped = faulty(
        GasMeter(Constant(1000), 9500, ORIGIN, 60),
        "gas",
        {"kind": "wrap", "value": 10000, "counters": ["volume"]},
    )
    before, after = wrapped.values_at(ORIGIN)["volume"], wrapped.values_at(ORIGIN + HOUR)
    assert before == 9500.0
    assert after["volume"] == pytest.approx(500.0)  # 10500 rolled over at 10000
    assert after["actual_volume"] == plain.values_at(ORIGIN + HOUR)["actual_volume"]  # not named
    truth = ground_truth.delivered(wrapped, ORIGIN, ORIGIN + HOUR)
    assert truth == ground_truth.delivered(plain, ORIGIN, ORIGIN + HOUR)
    assert truth["volume"] == pytest.approx(1000.0)
    assert after["volume"] + 10000 - before == pytest.approx(truth["volume"])  # one wrap


def test_a_replacement_restarts_the_counters_and_its_readings_splice_to_the_truth() -> None:
    plain = electricity()
    meter = faulty(
        electricity(), "electricity", {"kind": "replacement", "at": iso(1), "initial": 5}
    )
    (swap,) = meter.replacements
    assert swap.at == ORIGIN + HOUR
    assert meter.values_at(ORIGIN + HOUR - 60)["import_energy"] == pytest.approx(
        1000 + 400 * 59 / 60
    )
    assert meter.values_at(ORIGIN + HOUR)["import_energy"] == 5.0
    assert meter.values_at(ORIGIN + 2 * HOUR)["import_energy"] == pytest.approx(405.0)
    assert meter.values_at(ORIGIN + 2 * HOUR)["total_energy"] == pytest.approx(405.0)
    old, new = meter.replaced(swap)["import_energy"]
    assert (old, new) == pytest.approx((1400.0, 5.0))
    truth = ground_truth.delivered(meter, ORIGIN, ORIGIN + 2 * HOUR)
    assert truth == ground_truth.delivered(plain, ORIGIN, ORIGIN + 2 * HOUR)
    start, end = 1000.0, meter.values_at(ORIGIN + 2 * HOUR)["import_energy"]
    assert (old - start) + (end - new) == pytest.approx(truth["import_energy"]) == 800.0


def test_a_replacement_between_refreshes_takes_effect_at_the_next_refresh() -> None:
    meter = faulty(electricity(refresh=900), "electricity", {"kind": "replacement", "at": iso(0.1)})
    (swap,) = meter.replacements
    assert swap.at == ORIGIN + 900  # 00:06 is between the 00:00 and 00:15 refreshes
    assert meter.values_at(ORIGIN + 899)["import_energy"] == 1000.0
    assert meter.values_at(ORIGIN + 900)["import_energy"] == 0.0
    assert meter.replaced(swap)["import_energy"] == pytest.approx((1100.0, 0.0))


def test_a_wrapped_counter_replaced_shows_the_old_final_reading_wrapped() -> None:
    meter = faulty(
        electricity(initial=9900),
        "electricity",
        {"kind": "wrap", "value": 10000, "counters": ["import_energy"]},
        {"kind": "replacement", "at": iso(1), "initial": 0, "counters": ["import_energy"]},
    )
    (swap,) = meter.replacements
    assert meter.replaced(swap)["import_energy"] == pytest.approx((300.0, 0.0))
    assert meter.values_at(ORIGIN + 2 * HOUR)["import_energy"] == pytest.approx(400.0)
    assert "export_energy" not in meter.replaced(swap)


def test_stuck_values_hold_their_state_at_the_window_start_then_catch_up() -> None:
    plain = electricity()
    meter = faulty(electricity(), "electricity", {"kind": "stuck", "from": iso(1), "to": iso(2)})
    frozen = plain.values_at(ORIGIN + HOUR)["import_energy"]
    assert meter.values_at(ORIGIN + HOUR - 60)["import_energy"] < frozen
    assert meter.values_at(ORIGIN + 1.5 * HOUR)["import_energy"] == frozen
    assert (
        meter.values_at(ORIGIN + 1.5 * HOUR)["total_power"]
        == plain.values_at(ORIGIN + HOUR)["total_power"]
    )
    assert meter.values_at(ORIGIN + 2 * HOUR)["import_energy"] == pytest.approx(1800.0)
    assert ground_truth.delivered(meter, ORIGIN, ORIGIN + 3 * HOUR)["import_energy"] == 1200.0


def test_a_spike_multiplies_and_offsets_only_its_values_only_in_its_window() -> None:
    meter = faulty(
        WaterMeter(Constant(12), 100, ORIGIN, 60),
        "water",
        {
            "kind": "spike",
            "values": ["flow"],
            "factor": 10,
            "offset": 1,
            "from": iso(1),
            "to": iso(1.5),
        },
    )
    assert meter.values_at(ORIGIN + 0.9 * HOUR)["flow"] == 12.0
    assert meter.values_at(ORIGIN + 1.2 * HOUR)["flow"] == 121.0
    assert meter.values_at(ORIGIN + 1.2 * HOUR)["volume"] == pytest.approx(100 + 12 * 1.2)
    assert meter.values_at(ORIGIN + 1.5 * HOUR)["flow"] == 12.0
    assert ground_truth.delivered(meter, ORIGIN, ORIGIN + 2 * HOUR)["volume"] == 24.0


@pytest.mark.parametrize(
    ("spec", "query", "inside", "outside"),
    [
        ({"kind": "silent"}, "silent", True, False),
        ({"kind": "slow", "delay": 0.5}, "delay", 0.5, 0.0),
        ({"kind": "word_order", "order": "DCBA"}, "word_order", "DCBA", None),
        ({"kind": "duplicate", "copies": 2}, "copies", 2, 0),
        ({"kind": "late", "delay": 600}, "late", 600.0, 0.0),
        ({"kind": "out_of_order"}, "out_of_order", True, False),
        ({"kind": "clock_offset", "offset": -120}, "clock_offset", -120.0, 0.0),
    ],
)
def test_a_protocol_fault_is_in_force_from_its_start_until_its_end(
    spec: dict[str, Any], query: str, inside: object, outside: object
) -> None:
    meter = faulty(electricity(), "electricity", {**spec, "from": iso(1), "to": iso(2)})
    faults = faults_of(meter)
    assert getattr(faults, query)(ORIGIN + HOUR) == inside
    assert getattr(faults, query)(ORIGIN + 2 * HOUR - 1) == inside
    assert getattr(faults, query)(ORIGIN + HOUR - 1) == outside
    assert getattr(faults, query)(ORIGIN + 2 * HOUR) == outside
    assert meter.values_at(ORIGIN + 1.5 * HOUR) == electricity().values_at(ORIGIN + 1.5 * HOUR)


def test_a_window_open_at_one_end_runs_from_the_origin_or_forever() -> None:
    meter = faulty(electricity(), "electricity", {"kind": "silent", "from": iso(1)})
    assert faults_of(meter).silent(ORIGIN + 1e6)
    assert not faults_of(meter).silent(ORIGIN)
    assert faults_of(electricity()) is NO_FAULTS


def test_the_faults_plant_builds_the_same_faults_every_time() -> None:
    config = load_config(FAULTS_PLANT)
    runs = [build_models(config.simulation, wiring(config), origin=0) for _ in range(2)]
    instants = [ORIGIN + k * 600 for k in range(0, 40)]
    shown = [
        [{m: dict(model.values_at(t)) for m, model in run.items()} for t in instants]
        for run in runs
    ]
    assert shown[0] == shown[1]
    kinds = {f.kind for f in config.simulation.faults}
    assert kinds == {
        "wrap", "replacement", "silent", "slow", "word_order", "stuck", "spike",
        "duplicate", "late", "out_of_order", "malformed", "clock_offset",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"meter": "nope", "kind": "silent"}, "faults[0].meter: 'nope' is not a simulated meter"),
        (
            {"meter": "gas", "kind": "wrap", "value": 1e5, "counters": ["volumen"]},
            "a gas meter has no counter 'volumen'",
        ),
        (
            {"meter": "gas", "kind": "stuck", "values": ["power"]},
            "a gas meter has no value 'power'",
        ),
        ({"meter": "gas", "kind": "silent", "from": "2026-03-02T01:00:00"}, "timezone"),
        ({"meter": "gas", "kind": "silent", "from": iso(2), "to": iso(1)}, "must be after 'from'"),
        ({"meter": "gas", "kind": "wrap", "value": 1e5, "from": iso(1)}, "Extra inputs"),
        ({"meter": "gas", "kind": "spike", "values": ["flow"]}, "a factor other than 1"),
        ({"meter": "gas", "kind": "clock_offset", "offset": 0}, "changes nothing"),
        ({"meter": "gas", "kind": "teleport"}, "does not match any of the expected tags"),
    ],
)
def test_a_fault_naming_what_does_not_exist_is_refused_with_its_field(
    tmp_path: Path, entry: dict[str, Any], message: str
) -> None:
    path = tmp_path / "plant.yaml"
    path.write_text(PLANT + "  faults:\n    - " + json.dumps(entry) + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.field.startswith("simulation")
    assert message in str(caught.value)


def test_two_replacements_of_a_meter_at_one_instant_are_refused() -> None:
    entry = {"meter": "m", "kind": "replacement", "at": iso(1)}
    with pytest.raises(ValidationError, match="already replaced"):
        simulation_with([entry, entry])


def test_two_wrap_values_for_one_counter_are_refused() -> None:
    entry = {"meter": "m", "kind": "wrap", "value": 1000}
    with pytest.raises(ValidationError, match="already has a wrap value"):
        simulation_with([entry, {**entry, "value": 2000, "counters": ["import_energy"]}])


def simulation_with(faults: list[dict[str, Any]]) -> SimulationConfig:
    return SimulationConfig.model_validate(
        {"meters": {"m": {"model": "electricity", "base": 1}}, "faults": faults}
    )


PLANT = """
sites:
  - id: s
    timezone: Europe/Berlin
    meters:
      - id: gas
        carrier: natural_gas
        role: main
        points: [{id: volume, quantity: volume, unit: Nm3, kind: counter}]
simulation:
  meters:
    gas: {model: gas, base: 1}
"""


def test_the_meter_list_names_each_meters_faults() -> None:
    rows = {meter: model for meter, _, model in describe(load_config(FAULTS_PLANT))}
    assert rows["boiler-gas"].endswith("; faults: wrap, stuck, spike")
    assert "faults" not in next(
        model for *_, model in describe(load_config(ROOT / "examples/plant.yaml"))
    )


async def test_publishing_options_for_a_gateway_that_does_not_exist_are_refused(
    tmp_path: Path,
) -> None:
    config = load_config(FAULTS_PLANT)
    simulation = config.simulation.model_copy(
        update={"mqtt_gateways": {"nowhere": MqttGatewaySimulation(batch=2)}}
    )
    settings = Settings(mqtt_url="mqtt://127.0.0.1:1", data_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"mqtt_gateways: no such gateway \['nowhere'\]"):
        await run_system(
            config.model_copy(update={"simulation": simulation}),
            settings,
            asyncio.Event(),
            parts=frozenset({"simulate"}),
        )
