"""Clock changes: a Berlin site's local day has 23 h in March and 25 h in October, its
shifts keep local hours, and ground truth over the day is the sum over its hours, while
a Shanghai site beside it keeps 24-hour days."""

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from meterledger.bootstrap import wiring
from meterledger.config import load_config
from simulators import ground_truth
from simulators.meters import MeterModel
from simulators.plant import build_models

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600.0
ZONES = {"berlin-grid": ZoneInfo("Europe/Berlin"), "shanghai-grid": ZoneInfo("Asia/Shanghai")}
SPRING, AUTUMN, ORDINARY = date(2026, 3, 29), date(2026, 10, 25), date(2026, 3, 28)
# 10 kW always, +100 kW on the 08-16 shift with half-hour cosine ramps either side
# (each ramp is worth a quarter hour at full load): 850 kWh of shift a day.
SHIFT_KWH = 100 * 8.5


def models_for(day: date) -> dict[str, MeterModel]:
    """The plant's models with counters starting the day before (nothing to integrate up to)."""
    config = load_config(ROOT / "tests/plants/dst.yaml")
    simulation = config.simulation.model_copy(update={"origin": None})
    origin = datetime(day.year, day.month, day.day, tzinfo=ZONES["shanghai-grid"]).timestamp()
    return build_models(simulation, wiring(config), origin=origin - 86400)


def local_day(meter: str, day: date) -> tuple[float, float]:
    """[local midnight, next local midnight) in Unix time: arithmetic in UTC, not local."""
    zone = ZONES[meter]
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start.timestamp(), end.timestamp()


def hours(meter: str, day: date) -> float:
    start, end = local_day(meter, day)
    return (end - start) / HOUR


def test_the_berlin_day_has_23_hours_in_march_and_25_in_october_shanghai_always_24() -> None:
    assert hours("berlin-grid", SPRING) == 23
    assert hours("berlin-grid", AUTUMN) == 25
    assert hours("berlin-grid", ORDINARY) == 24
    assert {hours("shanghai-grid", d) for d in (SPRING, AUTUMN, ORDINARY)} == {24}


@pytest.mark.parametrize("day", [ORDINARY, SPRING, AUTUMN])
def test_the_shift_keeps_local_hours_across_the_clock_change(day: date) -> None:
    models = models_for(day)
    for meter, zone in ZONES.items():
        model = models[meter]

        def power(hour: int, model: MeterModel = model, zone: ZoneInfo = zone) -> float:
            t = datetime(day.year, day.month, day.day, hour, tzinfo=zone).timestamp()
            return model.values_at(t)["total_power"] / 1000  # W -> kW

        assert power(7) == pytest.approx(10.0), (meter, day)
        assert power(9) == pytest.approx(110.0), (meter, day)
        assert power(15) == pytest.approx(110.0), (meter, day)
        assert power(17) == pytest.approx(10.0), (meter, day)


@pytest.mark.parametrize(("day", "berlin_hours"), [(ORDINARY, 24), (SPRING, 23), (AUTUMN, 25)])
def test_ground_truth_of_the_local_day_is_the_sum_of_its_hours(
    day: date, berlin_hours: int
) -> None:
    models = models_for(day)
    for meter, day_hours in (("berlin-grid", berlin_hours), ("shanghai-grid", 24)):
        start, end = local_day(meter, day)
        whole = ground_truth.delivered(models[meter], start, end)["import_energy"]
        by_hour = [
            ground_truth.delivered(models[meter], start + h * HOUR, start + (h + 1) * HOUR)
            for h in range(day_hours)
        ]
        assert start + day_hours * HOUR == end
        assert sum(h["import_energy"] for h in by_hour) == pytest.approx(whole, rel=1e-12)
        assert whole == pytest.approx(10 * day_hours + SHIFT_KWH, abs=0.01), (meter, day)
