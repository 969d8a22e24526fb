"""A collector killed with SIGKILL and restarted loses no reading and duplicates none.

Simulators and collector run as separate `meterledger` processes, as in production. The
gas gateway publishes one reading per second throughout; the collector's persistent MQTT
session makes the broker keep what arrives while it is dead, and its spool keeps what it
had decoded but not yet written.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import psycopg
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from meterledger.embedded import free_port
from store.reading_rows import unpack_rows

ROOT = Path(__file__).resolve().parents[2]
PLANT = ROOT / "tests" / "plants" / "small.yaml"


def plant_file(tmp_path: Path) -> Path:
    """The small plant on fixed ports; the collector writes only at start and stop, so a
    kill always lands with readings in the spool."""
    raw = yaml.safe_load(PLANT.read_text())
    raw["sources"]["modbus"][0]["port"] = free_port()
    raw["sources"]["modbus"][0]["devices"] = raw["sources"]["modbus"][0]["devices"][:1]
    run = uuid.uuid4().hex[:8]  # the broker may be shared: no session or topic of another run
    raw["sources"]["mqtt"][0]["topic"] = f"crash-{run}/{{meter}}/reading"
    raw["collector"] = {"flush_interval": 60, "batch_size": 100_000, "client_id": f"crash-{run}"}
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def spawn(command: str, plant: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "meterledger", command, "--config", str(plant)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def spooled(spool: Path) -> set[tuple[int, datetime]]:
    """The (point, instant) of every reading in a spool file, read without opening a Spool."""
    with sqlite3.connect(spool) as db:
        batches = db.execute("SELECT data FROM spooled_batch").fetchall()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    rows = [row for (data,) in batches for row in unpack_rows(data)]
    return {(p, epoch + timedelta(microseconds=us)) for p, us, _, _ in rows}


def wait_for_collecting(log: Path, limit: float = 60.0) -> None:
    """Wait until the collector says it is subscribed (it starts slowly on a busy machine:
    migrations, catalog, connections); the spool itself is locked while it runs."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if "collector.mqtt: MQTT connected" in log.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"the collector did not connect in {limit} s: {log.read_text()[-2000:]}")


def forget_session(url: str, client_id: str) -> None:
    """Drop the persistent session this test left on the broker."""
    parts = urlsplit(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.disconnect()


def stored(database_url: str, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql).fetchall()


def test_sigkill_and_restart_lose_and_duplicate_nothing(
    database_url: str, mqtt_url: str, tmp_path: Path
) -> None:
    plant = plant_file(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERLEDGER_")} | {
        "METERLEDGER_DATABASE_URL": database_url,
        "METERLEDGER_MQTT_URL": mqtt_url,
        "METERLEDGER_DATA_DIR": str(tmp_path / "data"),
    }
    log = tmp_path / "meterledger.log"
    simulators = spawn("simulate", plant, env, log)
    collector = spawn("collect", plant, env, log)
    try:
        wait_for_collecting(log)
        time.sleep(5)  # seconds of readings in the spool before the kill
        collector.send_signal(signal.SIGKILL)
        killed_at = datetime.now(UTC)
        collector.wait(5)
        pending = spooled(tmp_path / "data" / "spool.sqlite3")
        assert pending, "the kill landed while readings were waiting in the spool"
        time.sleep(4)  # the gas gateway keeps publishing into the dead collector's session
        collector = spawn("collect", plant, env, log)
        restarted_at = datetime.now(UTC)
        time.sleep(8)
    finally:
        for process in (collector, simulators):
            process.send_signal(signal.SIGTERM)
            process.wait(15)
        forget_session(mqtt_url, yaml.safe_load(plant.read_text())["collector"]["client_id"])

    rows = stored(database_url, "SELECT point_id, ts FROM reading")
    assert len(rows) == len(set(rows))
    assert pending <= set(rows), "every reading spooled before the kill reached the table"
    gas = stored(
        database_url,
        """SELECT r.ts FROM reading r JOIN point p ON p.id = r.point_id
           JOIN meter m ON m.id = p.meter_id WHERE m.key = 'boiler-gas' AND p.key = 'volume'
           ORDER BY r.ts""",
    )
    ticks = [ts for (ts,) in gas]
    assert ticks[0] < killed_at - timedelta(seconds=2), log.read_text()[-2000:]
    assert ticks[-1] > restarted_at + timedelta(seconds=2), log.read_text()[-2000:]
    gaps = [(a, b) for a, b in pairwise(ticks) if b - a != timedelta(seconds=1)]
    assert gaps == [], f"published seconds missing from the table: {gaps}"
