"""Load profiles: shifts, weekends, public holidays, seasons and batch cycles."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from simulators.config import Cycle, MeterSimulation, ProcessLoad, Shift
from simulators.holidays import Calendar
from simulators.profiles import DailyProfile, season

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
THREE_SHIFTS = (Shift(start=6, end=14), Shift(start=14, end=22), Shift(start=22, end=6, load=0.3))


def at(zone: ZoneInfo, *args: int) -> float:
    return datetime(*args, tzinfo=zone).timestamp()  # type: ignore[misc]


def profile(
    zone: str = "Asia/Shanghai", country: str | None = "CN", **spec: object
) -> DailyProfile:
    fields: dict[str, object] = {"model": "electricity", "base": 100, "peak": 300, "noise": 0}
    return DailyProfile(MeterSimulation(**(fields | spec)), zone, Calendar.of(country))  # type: ignore[arg-type]


def test_night_shift_runs_at_its_share_and_belongs_to_the_day_it_starts() -> None:
    p = profile(shifts=THREE_SHIFTS, weekend_factor=0.5)
    assert p.rate(at(SHANGHAI, 2026, 3, 4, 2, 0)) == pytest.approx(100 + 200 * 0.3)  # Wed night
    assert p.rate(at(SHANGHAI, 2026, 3, 4, 14, 0)) == pytest.approx(300)  # shift handover
    # Saturday 02:00 is still Friday's night shift: a working day's level
    assert p.rate(at(SHANGHAI, 2026, 3, 7, 2, 0)) == pytest.approx(100 + 200 * 0.3)
    # Sunday 02:00 is Saturday's night shift, at the weekend factor
    assert p.rate(at(SHANGHAI, 2026, 3, 8, 2, 0)) == pytest.approx(100 + 200 * 0.3 * 0.5)


def test_lines_ramp_in_over_half_an_hour_before_the_shift() -> None:
    p = profile(shifts=(Shift(start=8, end=20),))
    assert p.rate(at(SHANGHAI, 2026, 3, 4, 7, 29)) < 110
    assert p.rate(at(SHANGHAI, 2026, 3, 4, 7, 45)) == pytest.approx(200)  # half way up
    assert p.rate(at(SHANGHAI, 2026, 3, 4, 8, 0)) == pytest.approx(300)


def test_spring_festival_runs_at_the_holiday_factor() -> None:
    p = profile(weekend_factor=0.5, holiday_factor=0.1)
    assert p.rate(at(SHANGHAI, 2026, 2, 18, 12)) == pytest.approx(100 + 200 * 0.1)  # 初二, Wed
    assert p.rate(at(SHANGHAI, 2026, 2, 11, 12)) == pytest.approx(300)  # the Wednesday before


def test_a_moved_working_saturday_runs_full_shifts() -> None:
    p = profile(weekend_factor=0.5)
    assert p.rate(at(SHANGHAI, 2026, 2, 14, 12)) == pytest.approx(300)  # 调休: work Sat 14 Feb
    assert p.rate(at(SHANGHAI, 2026, 2, 7, 12)) == pytest.approx(200)  # an ordinary Saturday


def test_holiday_factor_defaults_to_the_weekend_factor() -> None:
    p = profile("Europe/Berlin", "DE", weekend_factor=0.4)
    assert p.rate(at(BERLIN, 2026, 4, 3, 12)) == pytest.approx(100 + 200 * 0.4)  # Karfreitag


def test_heating_peaks_in_winter_and_cooling_in_summer() -> None:
    p = profile(peak=None, heating=80, cooling=50)
    january, july = at(SHANGHAI, 2026, 1, 15, 3), at(SHANGHAI, 2026, 7, 16, 3)
    assert p.rate(january) == pytest.approx(180, abs=0.1)
    assert p.rate(july) == pytest.approx(150, abs=0.1)
    assert p.rate(at(SHANGHAI, 2026, 4, 16, 3)) == pytest.approx(100, abs=1)  # spring: neither


def test_seasons_are_reversed_in_the_southern_hemisphere() -> None:
    july = at(SHANGHAI, 2026, 7, 16)
    assert season(july, latitude=42) == pytest.approx(-1, abs=1e-3)
    assert season(july, latitude=-33) == pytest.approx(1, abs=1e-3)


def test_a_cycling_process_runs_its_duty_around_the_clock() -> None:
    cip = ProcessLoad(load=60, shifts=(), cycle=Cycle(period=4, duty=0.25, offset=1))
    p = profile(peak=None, processes=(cip,))
    on = [p.rate(at(SHANGHAI, 2026, 3, 8, h, 30)) for h in range(24)]  # a Sunday
    assert on.count(160) == 6  # 1 h in every 4, 01:00-02:00, 05:00-06:00, ...
    assert (on[0], on[1]) == (100, 160)


def test_noise_is_reproducible_from_the_seed() -> None:
    a, b, c = profile(noise=0.05, seed=1), profile(noise=0.05, seed=1), profile(noise=0.05, seed=2)
    t = at(SHANGHAI, 2026, 3, 4, 12, 0)
    assert a.rate(t) == b.rate(t) != c.rate(t)
    assert 285 <= a.rate(t) <= 315
