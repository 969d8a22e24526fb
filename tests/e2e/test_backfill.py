"""A backfill end to end: accelerated simulators -> Modbus/MQTT -> collector -> database.

Two simulated hours at 3600x, a reading every 300 simulated seconds: the stored counter
readings must carry simulated timestamps inside the window, match what the models show at
those instants, and their increase over the window must be the models' ground truth.
"""

import asyncio
import os
import re
import struct
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from meterledger.backfill import backfill, backfill_config
from meterledger.bootstrap import wiring
from meterledger.config import load_config
from meterledger.settings import Settings
from simulators.ground_truth import delivered
from simulators.meters import MeterModel
from simulators.plant import build_models

PLANT = Path(__file__).resolve().parents[1] / "plants" / "backfill.yaml"
START = datetime.fromisoformat("2026-06-22T10:00:00+02:00").timestamp()  # a Monday
END = START + 2 * 3600
INTERVAL = 300

# (meter, point) -> (value name in the model, scale from register to point, float32?)
COUNTERS = {
    ("grid", "energy_import"): ("import_energy", 1.0, True),
    ("grid", "energy_export"): ("export_energy", 1.0, True),
    ("pv", "energy_import"): ("import_energy", 1.0, True),
    ("workshop", "energy_import"): ("import_energy", 20.0, True),
    ("steam", "mass"): ("mass", 1.0, False),
    ("steam", "energy"): ("energy", 1.0, False),
    ("line", "output"): ("output", 1.0, False),
}


def float32(value: float) -> float:
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


Stored = dict[tuple[str, str], dict[float, float]]  # (meter, point) -> {ts: value}


@pytest.fixture
async def stored(database_url: str, mqtt_url: str, tmp_path: Path) -> Stored:
    config = backfill_config(PLANT, load_config(PLANT), START, END, INTERVAL)
    settings = Settings(database_url=database_url, mqtt_url=mqtt_url, data_dir=tmp_path)
    result = await asyncio.wait_for(
        backfill(config, settings, (START, END), 3600, INTERVAL, asyncio.Event()), 60
    )
    assert result.simulated == pytest.approx(END - START, abs=1e-2)
    assert result.coverage > 0.9, result
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """SELECT m.key, p.key, extract(epoch FROM r.ts)::float8, r.value, r.quality
               FROM reading r JOIN point p ON p.id = r.point_id JOIN meter m ON m.id = p.meter_id"""
        ).fetchall()
    assert all(quality == 0 for *_, quality in rows), "every reading is good"
    readings: Stored = {}
    for meter, point, ts, value, _ in rows:
        readings.setdefault((meter, point), {})[ts] = value
    return readings


def models() -> dict[str, MeterModel]:
    config = backfill_config(PLANT, load_config(PLANT), START, END, INTERVAL)
    return build_models(config.simulation, wiring(config), origin=START)


async def test_backfill_stores_simulated_history_matching_models_and_ground_truth(
    stored: Stored,
) -> None:
    expected = models()
    for (meter, point), (name, scale, is_float32) in COUNTERS.items():
        series = stored[(meter, point)]
        assert min(series) == START, f"{meter}.{point} starts at --from"
        assert max(series) == END, f"{meter}.{point} ends at --to"
        for ts, value in series.items():
            assert START <= ts <= END
            assert (ts - START) % INTERVAL == 0, "stamped on a tick of simulated time"
            shown = expected[meter].values_at(ts)[name]
            want = float32(shown) * scale if is_float32 else shown
            assert value == pytest.approx(want, rel=1e-12), (meter, point, ts)
    for ts, value in stored[("gas", "volume")].items():  # the 1758-FLO totals whole Nm³
        assert value == round(expected["gas"].values_at(ts)["volume"])
    assert min(stored[("grid", "power")].values()) < 0, "the grid meter shows export as -W"

    truth = {meter: delivered(model, START, END) for meter, model in expected.items()}
    for (meter, point), (name, _, is_float32) in COUNTERS.items():
        series = stored[(meter, point)]
        increase = series[END] - series[START]
        tolerance = 0.002 if is_float32 else 1e-9  # float32 near 5000 kWh: 0.0005 kWh steps
        assert increase == pytest.approx(truth[meter][name], abs=tolerance), (meter, point)
    grid, pv = truth["grid"], truth["pv"]
    assert grid["export_energy"] > 0, "noon PV outgrows the load: the grid meter exports"
    assert pv["import_energy"] + grid["import_energy"] - grid["export_energy"] == (
        pytest.approx(grid["load"], rel=1e-12)
    )


def test_simulate_command_backfills_and_reports_its_pace(
    database_url: str, mqtt_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERLEDGER_")} | {
        "METERLEDGER_DATABASE_URL": database_url,
        "METERLEDGER_MQTT_URL": mqtt_url,
        "METERLEDGER_DATA_DIR": str(tmp_path),
    }
    window = ["--from", "2026-06-22T10:00", "--to", "2026-06-22T11:00"]
    command = [sys.executable, "-m", "meterledger", "simulate", "--config", str(PLANT)]
    result = subprocess.run(
        [*command, *window, "--speed", "3600", "--interval", "300"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    summary = result.stdout.splitlines()[-1]
    assert summary.startswith("simulated 1.0 h in "), summary
    received, expected = map(int, re.findall(r"readings: (\d+) of (\d+) expected", summary)[0])
    assert expected == 13 * 10  # ticks at 10:00, 10:05, ... 11:00, of 10 points
    assert received >= 0.9 * expected
    with psycopg.connect(database_url) as conn:
        first, last = conn.execute("SELECT min(ts), max(ts) FROM reading").fetchone() or (0, 0)
    assert (first.timestamp(), last.timestamp()) == (START, START + 3600)
