"""Steam meters: IF97 enthalpy through pyXSteam, heat counted by the brief's formula."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from simulators.config import GasSimulation, SteamSimulation
from simulators.gas import BoilerFuel, GasMeter
from simulators.ground_truth import delivered
from simulators.profiles import DailyProfile
from simulators.steam import SteamConditions, SteamMeter
from simulators.steam_tables import enthalpy, heat_per_tonne, saturation_temperature

ORIGIN = datetime(2026, 3, 4, 6, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


def test_enthalpy_matches_the_if97_tables() -> None:
    assert enthalpy(1.0, 200.0) == pytest.approx(2828.27, abs=0.1)  # kJ/kg, superheated
    assert saturation_temperature(1.0) == pytest.approx(179.88, abs=0.01)  # °C
    assert enthalpy(0.101325, 20.0) == pytest.approx(83.9, abs=0.2)  # the feed-water reference


def test_heat_per_tonne_uses_feed_water_at_20_degrees() -> None:
    assert heat_per_tonne(1.0, 200.0) == pytest.approx((2828.27 - 83.74) * 1e-3, abs=1e-4)


def test_enthalpy_outside_the_tables_is_an_error_not_nan() -> None:
    with pytest.raises(ValueError, match="no IF97 enthalpy"):
        enthalpy(-1.0, 200.0)


def test_wet_steam_is_refused_at_load() -> None:
    with pytest.raises(ValidationError, match="not superheated"):
        SteamSimulation(model="steam", base=1, pressure=1.0, temperature=181)


def steam_meter(**spec: object) -> SteamMeter:
    fields: dict[str, object] = {"model": "steam", "base": 2, "noise": 0}
    s = SteamSimulation(**(fields | spec))  # type: ignore[arg-type]
    conditions = SteamConditions(
        s.seed, s.pressure, s.temperature, s.pressure_swing, s.temperature_swing
    )
    profile = DailyProfile(s, "Asia/Shanghai")
    return SteamMeter(profile, 100, ORIGIN, 10, conditions=conditions, initial_energy=500)


def test_energy_counter_is_mass_times_enthalpy_rise() -> None:
    meter = steam_meter(pressure_swing=0, temperature_swing=0)
    start, end = meter.values_at(ORIGIN), meter.values_at(ORIGIN + 3600)
    mass = end["mass"] - start["mass"]
    assert mass == pytest.approx(2.0)  # t in an hour at 2 t/h
    assert end["energy"] - start["energy"] == pytest.approx(mass * heat_per_tonne(1.0, 200.0))
    assert end["enthalpy"] == pytest.approx(2828.27, abs=0.1)
    assert end["heat_flow"] == pytest.approx(2 * heat_per_tonne(1.0, 200.0))  # GJ/h


def test_live_conditions_stay_near_their_set_points() -> None:
    meter = steam_meter(pressure=0.9, temperature=185)
    for minutes in range(0, 600, 37):
        values = meter.values_at(ORIGIN + minutes * 60)
        assert 0.88 <= values["pressure"] <= 0.92
        assert 183 <= values["temperature"] <= 187


def test_boiler_gas_is_the_steam_heat_over_efficiency_and_ncv() -> None:
    steam = steam_meter(pressure_swing=0, temperature_swing=0)
    fuel = BoilerFuel(steam, efficiency=0.9, ncv=38.931)
    spec = GasSimulation(model="gas", base=0, noise=0)
    gas = GasMeter(fuel, 1000, ORIGIN, 10, seed=spec.seed, zone=ZoneInfo("Asia/Shanghai"))
    hour = delivered(gas, ORIGIN, ORIGIN + 3600)["volume"]
    heat = delivered(steam, ORIGIN, ORIGIN + 3600)["energy"]
    assert hour == pytest.approx(heat / (0.9 * 38.931e-3))  # Nm³
    assert 140 < hour < 160  # about 75 Nm³ of gas per tonne of steam
