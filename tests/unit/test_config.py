from pathlib import Path

import pytest
import yaml

from meterledger.config import load_config
from meterledger.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
PLANT_FILES = sorted((ROOT / "examples").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "plants").glob("*.yaml")
)


@pytest.mark.parametrize("path", PLANT_FILES, ids=lambda p: p.name)
def test_every_shipped_plant_file_loads(path: Path) -> None:
    config = load_config(path)
    assert config.sites
    assert config.sources.modbus


def broken(tmp_path: Path, change: object) -> Path:
    """The small test plant with one change applied by ``change(raw)``."""
    raw = yaml.safe_load((ROOT / "tests" / "plants" / "small.yaml").read_text())
    change(raw)  # type: ignore[operator]
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def error_for(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.source == str(path)
    return caught.value


def test_unknown_time_zone_names_the_site(tmp_path: Path) -> None:
    def change(raw: dict) -> None:  # type: ignore[type-arg]
        raw["sites"][0]["timezone"] = "Europe/Nowhere"

    error = error_for(broken(tmp_path, change))
    assert error.field == "sites[0](id=test-site).timezone"
    assert "Europe/Nowhere" in error.reason


def test_missing_field_is_named(tmp_path: Path) -> None:
    def change(raw: dict) -> None:  # type: ignore[type-arg]
        del raw["sites"][0]["meters"][0]["carrier"]

    error = error_for(broken(tmp_path, change))
    assert error.field == "sites[0](id=test-site).meters[0](id=grid-main).carrier"
    assert error.reason.startswith("Field required")


def test_device_for_unknown_meter_is_refused(tmp_path: Path) -> None:
    def change(raw: dict) -> None:  # type: ignore[type-arg]
        raw["sources"]["modbus"][0]["devices"][0]["meter"] = "nope"

    error = error_for(broken(tmp_path, change))
    assert error.field == "sources.modbus[0](id=gateway).devices[0].meter"
    assert error.reason == "no meter 'nope'"


def test_unknown_register_is_refused(tmp_path: Path) -> None:
    def change(raw: dict) -> None:  # type: ignore[type-arg]
        raw["sources"]["modbus"][0]["devices"][0]["points"]["power"] = "total_powr"

    error = error_for(broken(tmp_path, change))
    assert error.field == "sources.modbus[0](id=gateway).devices[0].points.power"
    assert "has no register 'total_powr'" in error.reason


def test_unit_mismatch_without_multiplier_is_refused(tmp_path: Path) -> None:
    def change(raw: dict) -> None:  # type: ignore[type-arg]
        raw["sites"][0]["meters"][0]["points"][1]["unit"] = "kW"

    error = error_for(broken(tmp_path, change))
    assert "'W' but the point is in 'kW'" in error.reason


def test_negative_interval_reports_the_value(tmp_path: Path) -> None:
    def change(raw: dict) -> None:  # type: ignore[type-arg]
        raw["sources"]["modbus"][0]["devices"][0]["interval"] = -5

    error = error_for(broken(tmp_path, change))
    assert error.field == "sources.modbus[0](id=gateway).devices[0].interval"
    assert "got -5" in error.reason


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "plant.yaml"
    path.write_text("sites: [\n")
    error = error_for(path)
    assert error.field == "(file)"
    assert "not valid YAML" in error.reason


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    error = error_for(tmp_path / "absent.yaml")
    assert "No such file" in error.reason


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"format": "number"}, "format 'number' needs a {point} level"),
        ({"topic": "t/{meter}/{point}"}, "only fits format 'number'"),
        ({"format": "json-fields"}, "'fields' goes with format 'json-fields'"),
        ({"topic": "t/x{meter}"}, "{meter} must be a whole topic level"),
        ({"shared_group": "a/b"}, "String should match pattern"),
    ],
)
def test_mqtt_source_format_must_fit_its_topic(
    tmp_path: Path, change: dict[str, str], reason: str
) -> None:
    def apply(raw: dict) -> None:  # type: ignore[type-arg]
        raw["sources"]["mqtt"][0].update(change)

    error = error_for(broken(tmp_path, apply))
    assert error.field.startswith("sources.mqtt[0](id=gas)")
    assert reason in error.reason


def test_field_mapping_names_existing_points(tmp_path: Path) -> None:
    def apply(raw: dict) -> None:  # type: ignore[type-arg]
        raw["sources"]["mqtt"][0].update(
            {"format": "json-fields", "fields": {"values": {"energy": "data.E"}}}
        )

    error = error_for(broken(tmp_path, apply))
    assert error.field == "sources.mqtt[0](id=gas).fields.values.energy"
    assert error.reason == "meter 'boiler-gas' has no point 'energy'"
