from pathlib import Path

import pytest

from collector.register_map import (
    DataType,
    Function,
    Order,
    available_maps,
    load_register_map,
)
from meterledger.errors import ConfigError


@pytest.mark.parametrize("name", available_maps())
def test_every_shipped_map_loads(name: str) -> None:
    assert load_register_map(name).registers


def test_sdm630_map_has_the_datasheet_addresses() -> None:
    sdm = load_register_map("eastron_sdm630")
    # Eastron SDM630 Modbus protocol, input registers (30001-based numbers minus 30001).
    expected = {
        "phase_1_voltage": 0x0000,
        "phase_1_current": 0x0006,
        "total_power": 0x0034,
        "frequency": 0x0046,
        "import_energy": 0x0048,
        "export_energy": 0x004A,
        "total_energy": 0x0156,
    }
    for name, address in expected.items():
        register = sdm[name]
        assert register.address == address, name
        assert register.function is Function.INPUT
        assert register.type is DataType.FLOAT32
        assert register.order is Order.ABCD
    assert sdm["import_energy"].kind == "counter"
    assert sdm.max_registers_per_read == 80


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "meter.yaml"
    path.write_text(text)
    return path


def test_overlapping_registers_are_rejected_by_name(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "model: M\nmaker: X\ndocument: d\nregisters:\n"
        "  - {name: a, address: 0x10}\n  - {name: b, address: 0x11}\n",
    )
    with pytest.raises(ConfigError, match=r"'b' overlaps 'a' at address 0x0011"):
        load_register_map(str(path))


def test_string_without_length_names_the_register(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "model: M\nmaker: X\ndocument: d\nregisters:\n"
        "  - {name: serial, address: 0, type: string}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_register_map(str(path))
    assert caught.value.field == "registers[0](id=serial)"
    assert "needs 'length'" in caught.value.reason


def test_unknown_map_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match="eastron_sdm630"):
        load_register_map("no_such_meter")
