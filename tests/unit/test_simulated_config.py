"""The simulation section: models validate alone, and references between them resolve."""

from typing import Any

import pytest
from pydantic import ValidationError

from simulators.config import ElectricitySimulation, Shift, SimulationConfig


def simulation(**meters: dict[str, Any]) -> SimulationConfig:
    return SimulationConfig.model_validate(
        {"latitude": 42.0, "longitude": 123.4, "country": "CN", "meters": meters}
    )


def test_each_model_kind_loads_by_its_discriminator() -> None:
    config = simulation(
        grid={"model": "electricity", "base": 10, "includes": ["sub"], "generation": ["pv"]},
        sub={"model": "electricity", "base": 5},
        pv={"model": "pv", "capacity": 50},
        gas={"model": "gas", "base": 0, "boilers": [{"steam": "steam"}]},
        steam={"model": "steam", "base": 1},
        water={"model": "water", "base": 3},
        line={"model": "production", "base": 0, "peak": 2},
    )
    assert isinstance(config.meters["grid"], ElectricitySimulation)
    assert config.meters["grid"].shifts == (Shift(start=8, end=20),)
    assert {m.model for m in config.meters.values()} == {
        "electricity", "pv", "gas", "steam", "water", "production"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("meters", "message"),
    [
        ({"grid": {"model": "electricity", "base": 1, "includes": ["nope"]}},
         "'nope' is not a meter of model 'electricity'"),
        ({"grid": {"model": "electricity", "base": 1, "generation": ["grid"]}},
         "'grid' is not a meter of model 'pv'"),
        ({"gas": {"model": "gas", "base": 0, "boilers": [{"steam": "gas"}]}},
         "'gas' is not a meter of model 'steam'"),
        ({"a": {"model": "electricity", "base": 1, "includes": ["b"]},
          "b": {"model": "electricity", "base": 1, "includes": ["a"]}},
         "includes itself"),
        ({"a": {"model": "electricity", "base": 1, "includes": ["c"]},
          "b": {"model": "electricity", "base": 1, "includes": ["c"]},
          "c": {"model": "electricity", "base": 1}},
         "'c' is included by 'a'"),
        ({"grid": {"model": "electricity", "base": 10, "peak": 5}}, "peak \\(5.0\\) is below base"),
        ({"grid": {"model": "electricity", "base": 1, "shifts": [{"start": 6, "end": 6}]}},
         "end != start"),
        ({"grid": {"model": "heat", "base": 1}}, "does not match any of the expected tags"),
    ],
)  # fmt: skip
def test_broken_models_and_references_are_refused(meters: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        simulation(**meters)


def test_pv_needs_a_location_and_holidays_a_known_country() -> None:
    with pytest.raises(ValidationError, match="needs latitude and longitude"):
        SimulationConfig.model_validate({"meters": {"pv": {"model": "pv", "capacity": 5}}})
    with pytest.raises(ValidationError, match="no holiday table for country 'FR'"):
        SimulationConfig.model_validate({"country": "FR"})
