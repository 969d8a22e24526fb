"""`meterledger run` as a user starts it: embedded defaults, URLs printed, clean stop."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PLANT = ROOT / "tests" / "plants" / "small.yaml"
COMMAND = [sys.executable, "-m", "meterledger"]


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that mention ``text`` (e.g. a data folder)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and int(pid) != os.getpid():
            found.append(f"{pid}: {cmdline}")
    return found


def start(env: dict[str, str], data_dir: Path) -> tuple[subprocess.Popen[str], str, str]:
    """Start `run`; return the process, the API's base URL and the dashboard link's token."""
    process = subprocess.Popen(
        [*COMMAND, "run", "--config", str(PLANT)],
        env={**env, "METERLEDGER_DATA_DIR": str(data_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    token = ""
    for line in process.stdout:
        if line.strip().startswith("dashboard:"):  # printed before the API line
            token = line.split("?token=")[1].strip()
        if line.strip().startswith("API:"):
            return process, line.split()[1].removesuffix("/api/v1/live"), token
        assert time.monotonic() < deadline
    raise AssertionError(f"no API line; stderr: {process.stderr.read() if process.stderr else ''}")


def stop(process: subprocess.Popen[str]) -> None:
    """Kill a process a failed test left running, and close its pipes."""
    if process.poll() is None:
        process.kill()
    process.wait()
    for pipe in (process.stdout, process.stderr):
        if pipe:
            pipe.close()


def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("METERLEDGER_")}


def wait_for_reading(api: str, token: str) -> None:
    for _ in range(100):
        headers = {"Authorization": f"Bearer {token}"}
        items = httpx.get(f"{api}/api/v1/live", headers=headers).json()["items"]
        if any(i["point"] == "energy_import" and i["value"] is not None for i in items):
            return
        time.sleep(0.2)
    raise AssertionError("no reading reached the API")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_run_on_embedded_defaults_stops_cleanly(stop_signal: int, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    process, api, token = start(base_env(), data_dir)
    try:
        wait_for_reading(api, token)
        assert processes_mentioning(str(data_dir)), "embedded PostgreSQL and Mosquitto run"
        started = time.monotonic()
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=15)
        assert process.returncode == 0, stderr
        assert time.monotonic() - started < 10
    finally:
        stop(process)
    assert f"embedded PostgreSQL in {data_dir / 'pgdata'}" in stderr
    time.sleep(0.5)
    assert processes_mentioning(str(data_dir)) == []


def test_run_uses_the_configured_database(database_url: str, mqtt_url: str, tmp_path: Path) -> None:
    env = base_env() | {"METERLEDGER_DATABASE_URL": database_url, "METERLEDGER_MQTT_URL": mqtt_url}
    process, api, token = start(env, tmp_path / "data")
    try:
        wait_for_reading(api, token)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
        assert process.returncode == 0, stderr
    finally:
        stop(process)
    assert not (tmp_path / "data" / "pgdata").exists()


def test_malformed_config_fails_at_start_naming_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "plant.yaml"
    bad.write_text(PLANT.read_text().replace("timezone: Europe/Berlin", "timezone: Mars/Olympus"))
    result = subprocess.run(
        [*COMMAND, "run", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env=base_env() | {"METERLEDGER_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 2
    assert f"{bad}: sites[0](id=test-site).timezone: " in result.stderr
    assert "Mars/Olympus" in result.stderr
    assert not (tmp_path / "pgdata").exists(), "nothing was started for a bad config"


def test_every_subcommand_has_help() -> None:
    for args in (
        ["--help"],
        ["run", "--help"],
        ["collect", "--help"],
        ["serve", "--help"],
        ["simulate", "--help"],
        ["db", "--help"],
        ["db", "migrate", "--help"],
        ["db", "status", "--help"],
    ):
        result = subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, args
        assert "usage: meterledger" in result.stdout
