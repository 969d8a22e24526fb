"""PV generation: solar elevation, the clear-sky curve, clouds and the plant's output."""

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from simulators.config import PvSimulation
from simulators.pv import PvGeneration, clear_sky_irradiance, solar_elevation

SHENYANG = (41.99, 123.40)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def day(year: int, month: int, d: int, step_minutes: int = 5) -> list[float]:
    """Unix times through one local day."""
    start = datetime(year, month, d, tzinfo=SHANGHAI)
    return [(start + timedelta(minutes=m)).timestamp() for m in range(0, 1440, step_minutes)]


@pytest.mark.parametrize(
    ("month", "d", "noon_elevation"),
    [(6, 21, 90 - 41.99 + 23.44), (12, 21, 90 - 41.99 - 23.44), (3, 20, 90 - 41.99)],
)
def test_noon_elevation_is_colatitude_plus_declination(
    month: int, d: int, noon_elevation: float
) -> None:
    highest = max(solar_elevation(t, *SHENYANG) for t in day(2026, month, d, 1))
    assert highest == pytest.approx(noon_elevation, abs=1.0)


def test_solar_noon_in_shenyang_comes_before_noon_on_the_clock() -> None:
    times = day(2026, 6, 21, 1)
    noon = max(times, key=lambda t: solar_elevation(t, *SHENYANG))
    local = datetime.fromtimestamp(noon, SHANGHAI)
    assert (local.hour, local.minute // 10) == (11, 4)  # 123.4° E is east of 120° E


def test_clear_sky_irradiance_is_haurwitz() -> None:
    assert clear_sky_irradiance(-5) == 0
    assert clear_sky_irradiance(90) == pytest.approx(1098 * math.exp(-0.057))
    assert 0 < clear_sky_irradiance(5) < clear_sky_irradiance(30) < clear_sky_irradiance(60)


def test_pv_makes_nothing_at_night_and_at_most_its_rating_at_noon() -> None:
    pv = PvGeneration(PvSimulation(model="pv", capacity=1000, cloudiness=0), *SHENYANG)
    powers = [pv.rate(t) for t in day(2026, 6, 21)]
    assert powers[0] == powers[-1] == 0  # midnight
    assert max(powers) == pytest.approx(1000 * 0.8 * 0.98, rel=0.03)  # kWp x PR x GHI/1000


def test_june_days_yield_several_times_december_days() -> None:
    pv = PvGeneration(PvSimulation(model="pv", capacity=1000, cloudiness=0), *SHENYANG)
    june = sum(pv.rate(t) for t in day(2026, 6, 21)) * 5 / 60  # kWh
    december = sum(pv.rate(t) for t in day(2026, 12, 21)) * 5 / 60
    assert 6000 < june < 8000
    assert 3.0 < june / december < 5.0  # horizontal panels at 42° N


def test_clouds_take_their_mean_share_over_a_year_reproducibly() -> None:
    clear = PvGeneration(PvSimulation(model="pv", capacity=100, cloudiness=0), *SHENYANG)
    cloudy = PvGeneration(PvSimulation(model="pv", capacity=100, cloudiness=0.3, seed=9), *SHENYANG)
    again = PvGeneration(PvSimulation(model="pv", capacity=100, cloudiness=0.3, seed=9), *SHENYANG)
    times = [t for d in range(0, 365, 3) for t in day(2026, 1, 1, 30) for t in [t + d * 86400]]
    ratio = sum(cloudy.rate(t) for t in times) / sum(clear.rate(t) for t in times)
    assert ratio == pytest.approx(0.7, abs=0.05)
    assert [cloudy.rate(t) for t in times[:100]] == [again.rate(t) for t in times[:100]]
