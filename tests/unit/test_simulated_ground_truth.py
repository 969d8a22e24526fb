"""Ground truth: each meter's delivery integrated from its own model, and its exports."""

import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from meterledger.bootstrap import wiring
from meterledger.config import load_config
from simulators import ground_truth
from simulators.counters import Counter
from simulators.electricity import ElectricityMeter
from simulators.meters import MeterModel
from simulators.plant import build_models

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> float:
    return datetime(*args, tzinfo=SHANGHAI).timestamp()  # type: ignore[misc]


class Constant:
    def __init__(self, kw: float) -> None:
        self.kw = kw

    def rate(self, t: float) -> float:
        return self.kw


def plant(name: str, origin: float, step: float = 60) -> dict[str, MeterModel]:
    config = load_config(ROOT / name)
    simulation = config.simulation.model_copy(update={"step": step})
    return build_models(simulation, wiring(config), origin=origin)


def test_an_hour_at_400_kw_is_exactly_400_kwh() -> None:
    for step in (1, 10, 60):
        meter = ElectricityMeter(Constant(400), 0, at(2026, 3, 4), step)
        start = at(2026, 3, 4, 9)
        assert ground_truth.delivered(meter, start, start + 3600)["import_energy"] == 400.0


def test_ground_truth_is_the_counters_increase_and_adds_up() -> None:
    a, b, c = at(2026, 2, 13, 18), at(2026, 2, 14, 7, 30), at(2026, 2, 15)
    models = plant("examples/plant.yaml", origin=at(2026, 2, 13, 17))
    for meter, model in models.items():
        first, second = ground_truth.delivered(model, a, b), ground_truth.delivered(model, b, c)
        whole = ground_truth.delivered(model, a, c)
        for quantity, value in whole.items():
            assert first[quantity] + second[quantity] == pytest.approx(value, rel=1e-12)
        counter = next(v for v in vars(model).values() if isinstance(v, Counter))
        name = next(n for n, t in model.totals().items() if t.rate is counter.profile)
        increase = counter.value_at(c) - counter.value_at(a)
        assert increase == pytest.approx(whole[name], rel=1e-9), meter


def test_pv_generation_plus_import_minus_export_is_the_site_load() -> None:
    start, end = at(2026, 5, 1), at(2026, 5, 6)
    models = plant("examples/plant.yaml", origin=start)  # Labour Day: low load, sunny noons
    grid = ground_truth.delivered(models["grid-main"], start, end)
    pv = ground_truth.delivered(models["pv-roof"], start, end)
    assert grid["export_energy"] > 0
    assert pv["import_energy"] == grid["generation"]
    assert pv["import_energy"] + grid["import_energy"] - grid["export_energy"] == (
        pytest.approx(grid["load"], rel=1e-12)
    )


def test_workshop_sub_meters_cover_85_to_95_percent_of_the_site_load() -> None:
    start, end = at(2026, 3, 2), at(2026, 3, 16)  # two ordinary weeks
    models = plant("examples/plant.yaml", origin=start, step=300)
    load = ground_truth.delivered(models["grid-main"], start, end)["load"]
    workshops = sum(
        ground_truth.delivered(models[m], start, end)["import_energy"]
        for m in ("ws-process", "ws-filling", "ws-cold", "ws-utilities")
    )
    assert 0.85 <= workshops / load <= 0.95


def test_ground_truth_exports_as_csv_and_json() -> None:
    meter = ElectricityMeter(Constant(400), 0, at(2026, 3, 4), 1)
    rows = ground_truth.report({"m": meter}, at(2026, 3, 4, 9), at(2026, 3, 4, 10))
    table = list(csv.DictReader(io.StringIO(ground_truth.to_csv(rows))))
    assert table[0] == {
        "meter": "m",
        "quantity": "import_energy",
        "unit": "kWh",
        "from": "2026-03-04T01:00:00+00:00",
        "to": "2026-03-04T02:00:00+00:00",
        "value": "400.0",
    }
    assert orjson.loads(ground_truth.to_json(rows))[1]["quantity"] == "export_energy"


def test_nothing_is_delivered_before_the_origin_and_time_runs_forward() -> None:
    meter = ElectricityMeter(Constant(400), 0, at(2026, 3, 4), 1)
    assert ground_truth.delivered(meter, at(2026, 3, 3), at(2026, 3, 4))["import_energy"] == 0
    with pytest.raises(ValueError, match="before t0"):
        ground_truth.delivered(meter, at(2026, 3, 5), at(2026, 3, 4))
