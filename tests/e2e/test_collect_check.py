"""`meterledger collect --check`: one reading of every point, as an installer sees it."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import yaml

from meterledger.embedded import free_port

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"


def test_check_prints_each_point_with_its_unit_and_names_the_dead_device(
    mqtt_url: str, tmp_path: Path
) -> None:
    raw = yaml.safe_load(PLANT.read_text())
    raw["sources"]["modbus"][0]["port"] = free_port()
    raw["sources"]["mqtt"][0]["topic"] = f"check-{uuid.uuid4().hex[:8]}/{{meter}}/reading"
    plant = tmp_path / "plant.yaml"
    plant.write_text(yaml.safe_dump(raw))
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERLEDGER_")}
    env |= {"METERLEDGER_MQTT_URL": mqtt_url, "METERLEDGER_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "meterledger"]
    simulators = subprocess.Popen(
        [*command, "simulate", "--config", str(plant)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)
        result = subprocess.run(
            [*command, "collect", "--check", "--wait", "3", "--config", str(plant)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        simulators.terminate()
        simulators.wait(10)
    out = result.stdout
    assert result.returncode == 1, out  # the dead meter never answers
    assert "unit   1 grid-main: 3 value(s)" in out
    assert "energy_import" in out
    assert " kWh" in out
    assert "unit   7 dead-meter: FAILED" in out
    assert "boiler-gas/volume" in out
    assert " Nm3" in out
    assert "1 failed" in out
