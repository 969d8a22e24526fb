from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from simulators.config import MeterSimulation
from simulators.meters import Counter, ElectricityMeter, GasMeter
from simulators.profiles import DailyProfile

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
