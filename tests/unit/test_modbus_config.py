"""Modbus source configuration: transports, line settings, bindings, and the read plans."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from collector.config import ModbusDeviceConfig, ModbusSourceConfig, RegisterBinding
from meterledger.config import load_config
from meterledger.errors import ConfigError
from meterledger.modbus_wiring import device_plan
from store.catalog import MeterConfig

ROOT = Path(__file__).resolve().parents[2]
DEVICE = {"meter": "m", "unit_id": 1, "register_map": "eastron_sdm630", "points": {"p": "r"}}


def source(**fields: Any) -> ModbusSourceConfig:
    return ModbusSourceConfig.model_validate({"id": "gw", "devices": [DEVICE], **fields})


def refusal(**fields: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        source(**fields)
    return str(caught.value.errors()[0]["msg"])


def test_tcp_is_the_default_transport() -> None:
    gateway = source(host="10.0.0.5")
    assert (gateway.transport, gateway.port) == ("tcp", 502)
    assert gateway.describe() == "tcp 10.0.0.5:502"


def test_rtu_over_tcp_takes_host_and_port() -> None:
    gateway = source(transport="rtu-over-tcp", host="10.0.0.6", port=8899)
    assert gateway.describe() == "rtu-over-tcp 10.0.0.6:8899"


def test_rtu_takes_a_device_path_and_line_settings() -> None:
    gateway = source(transport="rtu", port="/dev/ttyUSB0", baudrate=19200, parity="E")
    assert gateway.describe() == "rtu /dev/ttyUSB0 19200 8E1"


def test_rtu_needs_a_device_path() -> None:
    assert "needs 'port': a serial device path" in refusal(transport="rtu")
    assert "needs 'port': a serial device path" in refusal(transport="rtu", port=502)


def test_rtu_refuses_a_host() -> None:
    reason = refusal(transport="rtu", host="10.0.0.5", port="/dev/ttyUSB0")
    assert "'host' applies to the tcp transports only" in reason


@pytest.mark.parametrize("transport", ["tcp", "rtu-over-tcp"])
def test_line_settings_belong_to_rtu_only(transport: str) -> None:
    reason = refusal(transport=transport, baudrate=9600, parity="E")
    assert "'baudrate', 'parity' belong to transport 'rtu'" in reason


def test_a_device_path_needs_transport_rtu() -> None:
    assert "a device path needs transport 'rtu'" in refusal(port="/dev/ttyUSB0")


@pytest.mark.parametrize("transport", ["rtu", "rtu-over-tcp"])
def test_rtu_lines_refuse_the_broadcast_unit(transport: str) -> None:
    port = "/dev/ttyUSB0" if transport == "rtu" else 502
    with pytest.raises(ValidationError, match=r"unit id\(s\) \[0\] cannot be polled"):
        ModbusSourceConfig.model_validate(
            {"id": "gw", "transport": transport, "port": port, "devices": [DEVICE | {"unit_id": 0}]}
        )


def test_simulated_rtu_line_refuses_what_a_pty_cannot_carry() -> None:
    reason = refusal(transport="rtu", port="/tmp/tty", simulated=True, parity="E")
    assert "use parity N and bytesize 8 while simulated" in reason
    assert source(transport="rtu", port="/tmp/tty", simulated=True, baudrate=19200, stopbits=2)


def test_unknown_parity_is_refused() -> None:
    with pytest.raises(ValidationError, match="parity"):
        source(transport="rtu", port="/dev/ttyUSB0", parity="even")


def test_transport_error_names_the_source_in_the_plant_file(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "tests" / "plants" / "small.yaml").read_text())
    raw["sources"]["modbus"][0] |= {"transport": "rtu", "baudrate": 9600}
    del raw["sources"]["modbus"][0]["port"]
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.field == "sources.modbus[0](id=gateway)"
    assert "transport 'rtu' needs 'port'" in caught.value.reason


@pytest.mark.parametrize(
    ("ratio", "factor"), [("none", 0.001), ("ct", 0.04), ("pt", 0.1), ("ct_pt", 4.0)]
)
def test_binding_factor_applies_the_meters_transformer_ratios(ratio: str, factor: float) -> None:
    binding = RegisterBinding.model_validate({"register": "r", "multiplier": 0.001, "ratio": ratio})
    assert binding.factor(ct_ratio=40, pt_ratio=100) == pytest.approx(factor)


def meter(ct: float = 1, pt: float = 1) -> MeterConfig:
    points = [
        {"id": p, "quantity": p, "unit": "x", "kind": "gauge"} for p in ("energy", "power", "i1")
    ]
    return MeterConfig.model_validate(
        {"id": "m", "carrier": "electricity", "ct_ratio": ct, "pt_ratio": pt, "points": points}
    )


def test_device_plan_groups_points_by_interval_and_applies_ratios() -> None:
    device = ModbusDeviceConfig.model_validate(
        {
            "meter": "m",
            "unit_id": 1,
            "register_map": "eastron_sdm630",
            "interval": 1,
            "points": {
                "energy": {"register": "import_energy", "interval": 60, "ratio": "ct_pt"},
                "power": {"register": "total_power", "ratio": "ct_pt", "multiplier": 0.001},
                "i1": {"register": "phase_1_current", "ratio": "ct"},
            },
        }
    )
    ids = {("m", "energy"): 1, ("m", "power"): 2, ("m", "i1"): 3}
    plan = device_plan(device, ids, meter(ct=40, pt=100))
    assert [g.interval for g in plan.groups] == [1.0, 60.0]
    assert {s.point for b in plan.groups[1].blocks for s in b.slots} == {"energy"}
    assert plan.multipliers == {"energy": 4000, "power": pytest.approx(4.0), "i1": 40}


def test_device_max_registers_overrides_the_maps_limit() -> None:
    points = {"v1": "phase_1_voltage", "v2": "phase_2_voltage", "v3": "phase_3_voltage"}
    fields = {"meter": "m", "unit_id": 1, "register_map": "eastron_sdm630", "points": points}
    ids = {("m", p): i for i, p in enumerate(points)}
    wide = device_plan(ModbusDeviceConfig.model_validate(fields), ids, meter())
    narrow = device_plan(
        ModbusDeviceConfig.model_validate(fields | {"max_registers": 2}), ids, meter()
    )
    assert [b.count for b in wide.groups[0].blocks] == [6]
    assert [b.count for b in narrow.groups[0].blocks] == [2, 2, 2]


def test_device_max_registers_cannot_exceed_the_protocol() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 125"):
        ModbusDeviceConfig.model_validate(DEVICE | {"max_registers": 126})


def test_register_longer_than_the_device_limit_is_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "tests" / "plants" / "small.yaml").read_text())
    raw["sources"]["modbus"][0]["devices"][0]["max_registers"] = 1  # float32 needs 2
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.field.startswith("sources.modbus[0](id=gateway).devices[0].points.")
    assert "spans 2 registers, more than one request may read here (1)" in caught.value.reason
