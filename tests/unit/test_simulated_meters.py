from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from simulators.config import MeterSimulation
from simulators.meters import Counter, ElectricityMeter, GasMeter
from simulators.profiles import DailyProfile
from simulators.totalizers import ProductionCounter, WaterMeter

SPEC = MeterSimulation(model="electricity", base=100, peak=400, seed=3, step=10)
BERLIN = ZoneInfo("Europe/Berlin")


def at(*args: int) -> float:
    return datetime(*args, tzinfo=BERLIN).timestamp()  # type: ignore[misc]


def test_rate_follows_shifts_and_weekends() -> None:
    profile = DailyProfile(SPEC.model_copy(update={"noise": 0}), "Europe/Berlin")
    assert profile.rate(at(2026, 3, 4, 3, 0)) == pytest.approx(100)  # Wednesday night
    assert profile.rate(at(2026, 3, 4, 12, 0)) == pytest.approx(400)  # Wednesday noon
    assert profile.rate(at(2026, 3, 7, 12, 0)) == pytest.approx(100 + 300 * 0.3)  # Saturday


def test_counter_does_not_depend_on_how_often_it_is_read() -> None:
    origin = at(2026, 3, 4, 7, 0)
    profile = DailyProfile(SPEC, "Europe/Berlin")
    often, once = Counter(profile, 0, origin, 10), Counter(profile, 0, origin, 10)
    for minute in range(0, 120, 7):
        often.value_at(origin + minute * 60)
    assert often.value_at(origin + 7200) == once.value_at(origin + 7200)


def test_counter_only_increases_and_matches_the_integral() -> None:
    origin = at(2026, 3, 4, 12, 0)
    profile = DailyProfile(SPEC.model_copy(update={"noise": 0}), "Europe/Berlin")
    counter = Counter(profile, 1000, origin, 10)
    values = [counter.value_at(origin + s) for s in range(0, 3600, 60)]
    assert values == sorted(values)
    assert counter.value_at(origin + 3600) == pytest.approx(1000 + 400, rel=1e-9)  # 1 h at 400 kW


def test_meter_exposes_consistent_electrical_values() -> None:
    meter = ElectricityMeter(DailyProfile(SPEC, "Europe/Berlin"), 0, at(2026, 3, 4, 12), 1)
    values = meter.values_at(at(2026, 3, 4, 12, 30))
    phases = sum(values[f"phase_{n}_power"] for n in (1, 2, 3))
    assert phases == pytest.approx(values["total_power"])
    assert values["import_energy"] > 0
    assert 225 < values["phase_1_voltage"] < 235


def test_gas_corrector_converts_line_volume_to_normal_volume() -> None:
    spec = MeterSimulation(model="gas", base=20, peak=80, seed=4, step=10)
    meter = GasMeter(DailyProfile(spec, "Europe/Berlin"), 1000, at(2026, 3, 4, 6), 10)
    start, end = meter.values_at(at(2026, 3, 4, 6)), meter.values_at(at(2026, 3, 4, 18))
    values = end
    # At ~4 bar absolute the line volume is about a quarter of the normal volume.
    assert 0.2 < values["actual_flow"] / values["flow"] < 0.35
    assert 380 < values["pressure"] < 420
    assert 0 < values["temperature"] < 20
    normal = end["volume"] - start["volume"]
    actual = end["actual_volume"] - start["actual_volume"]
    assert 0.2 < actual / normal < 0.35
    assert values["mass"] == pytest.approx(values["volume"] * 0.777)


class Constant:
    def __init__(self, kw: float) -> None:
        self.kw = kw

    def rate(self, t: float) -> float:
        return self.kw


def test_grid_meter_imports_the_net_load_and_exports_the_surplus() -> None:
    origin = at(2026, 3, 4, 12)
    meter = ElectricityMeter(Constant(100), 1000, origin, 1, generation=[Constant(30)])
    importing = meter.values_at(origin + 3600)
    assert importing["import_energy"] == 1070  # kWh: an hour of 70 kW net
    assert importing["total_power"] == pytest.approx(70_000)
    exporting = ElectricityMeter(Constant(20), 0, origin, 1, generation=[Constant(50)])
    values = exporting.values_at(origin + 1800)
    assert values["import_energy"] == 0
    assert values["export_energy"] == 15  # kWh: half an hour of 30 kW surplus
    assert values["total_power"] == pytest.approx(-30_000)  # W, negative when exporting


def test_pv_covering_the_load_lowers_the_grid_power_factor() -> None:
    origin = at(2026, 3, 4, 12)
    alone = ElectricityMeter(Constant(100), 0, origin, 1, power_factor=0.9)
    with_pv = ElectricityMeter(
        Constant(100), 0, origin, 1, power_factor=0.9, generation=[Constant(80)]
    )
    assert alone.values_at(origin)["total_power_factor"] == pytest.approx(0.9)
    assert with_pv.values_at(origin)["total_power_factor"] < 0.5  # the load's vars remain


def test_meter_behind_a_ct_shows_secondary_values() -> None:
    origin = at(2026, 3, 4, 12)
    primary = ElectricityMeter(Constant(200), 0, origin, 1).values_at(origin + 3600)
    secondary = ElectricityMeter(Constant(200), 0, origin, 1, ct_ratio=200).values_at(origin + 3600)
    assert secondary["import_energy"] == pytest.approx(primary["import_energy"] / 200)
    assert secondary["phase_1_current"] == pytest.approx(primary["phase_1_current"] / 200)
    assert secondary["phase_1_voltage"] == primary["phase_1_voltage"]


def test_meter_refreshing_on_ticks_shows_the_tick_state_until_the_next() -> None:
    origin = at(2026, 3, 4, 12)
    meter = ElectricityMeter(Constant(360), 0, origin, 60, refresh=900)
    assert meter.grid(origin + 899) == origin
    assert meter.values_at(origin + 899)["import_energy"] == 0
    assert meter.values_at(origin + 900)["import_energy"] == pytest.approx(90)
    assert meter.grid(origin - 5) == origin  # before the origin: the origin's state


def test_water_and_production_counters_follow_their_profiles() -> None:
    origin = at(2026, 3, 4, 12)
    water = WaterMeter(Constant(30), 500, origin, 10).values_at(origin + 7200)
    assert water == {"volume": pytest.approx(560), "flow": 30}
    line = ProductionCounter(Constant(2.5), 0, origin, 10).values_at(origin + 3600)
    assert line == {"output": pytest.approx(2.5), "output_rate": 2.5}
