"""The README's Modbus examples load, so the configuration reference cannot go stale."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector.config import ModbusSourceConfig
from collector.register_map import load_register_map

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def yaml_blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)


def section(title: str) -> str:
    start = README.index(f"\n### {title}\n")
    end = README.find("\n##", start + 1)
    return README[start:end]


def check(raw: dict[str, Any]) -> ModbusSourceConfig:
    source = ModbusSourceConfig.model_validate(raw)
    for device in source.devices:
        register_map = load_register_map(device.register_map)
        for binding in device.bindings().values():
            register_map[binding.register_name]  # KeyError names a register the map lacks
    return source


TRANSPORT_EXAMPLES = [yaml.safe_load(b)[0] for b in yaml_blocks(section("Modbus transports"))]


@pytest.mark.parametrize("raw", TRANSPORT_EXAMPLES, ids=lambda raw: raw["id"])
def test_each_transport_example_loads(raw: dict[str, Any]) -> None:
    check(raw)


def test_there_is_one_example_per_transport() -> None:
    assert sorted(check(raw).transport for raw in TRANSPORT_EXAMPLES) == [
        "rtu",
        "rtu-over-tcp",
        "tcp",
    ]


def test_annotated_modbus_source_loads() -> None:
    (annotated,) = [b for b in yaml_blocks(README) if b.startswith("sites:")]
    for raw in yaml.safe_load(annotated)["sources"]["modbus"]:
        check(raw)
