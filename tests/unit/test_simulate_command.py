"""`meterledger simulate`: --list, --ground-truth, and how a backfill reshapes the plant."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from meterledger.backfill import backfill_config, default_interval, step_for
from meterledger.cli import main
from meterledger.config import load_config
from meterledger.errors import ConfigError
from meterledger.simulate import describe, parse_instant

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "plant.yaml"
BACKFILL = ROOT / "tests" / "plants" / "backfill.yaml"


def test_bare_dates_are_local_midnight_and_offsets_are_kept() -> None:
    midnight = datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    assert parse_instant("2026-01-01", "Asia/Shanghai") == midnight
    assert parse_instant("2026-01-01T00:00+08:00", "Europe/Berlin") == midnight
    # 03:00 on the day Berlin springs forward is two hours after midnight, not three
    night = parse_instant("2026-03-29", "Europe/Berlin")
    assert parse_instant("2026-03-29T03:00", "Europe/Berlin") - night == 2 * 3600
    with pytest.raises(ValueError, match="not an ISO date"):
        parse_instant("1 Jan", "UTC")


def test_default_interval_leaves_each_tick_a_quarter_second_of_real_time() -> None:
    assert default_interval(1) == 1
    assert default_interval(60) == 15
    assert default_interval(3600) == 900
    assert default_interval(1e6) == 3600


def test_integration_step_divides_the_interval_and_stays_at_most_a_minute() -> None:
    assert [step_for(i) for i in (1, 15, 60, 90, 300, 900, 7)] == [1, 15, 60, 45, 60, 60, 7]


def test_backfill_puts_every_simulated_source_on_one_interval() -> None:
    config = load_config(EXAMPLE)
    start = parse_instant("2026-01-01", "Asia/Shanghai")
    plant = backfill_config(EXAMPLE, config, start, start + 86400, 900)
    intervals = {d.interval for s in plant.sources.modbus for d in s.devices}
    assert intervals == {900.0}
    assert {m.publish_interval for m in plant.sources.mqtt} == {900.0}
    assert plant.simulation.origin is not None
    assert plant.simulation.origin.timestamp() == start
    assert (plant.simulation.step, plant.simulation.refresh) == (60, 900.0)
    assert plant.collector.max_age > datetime.now().timestamp() - start  # not stale


def test_backfill_refuses_an_origin_after_its_start() -> None:
    config = load_config(BACKFILL)
    later = config.simulation.model_copy(update={"origin": datetime(2030, 1, 1).astimezone()})
    with pytest.raises(ConfigError, match="after --from"):
        backfill_config(BACKFILL, config.model_copy(update={"simulation": later}), 0, 1, 60)


def test_list_names_every_meter_with_its_endpoint_and_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["simulate", "--config", str(EXAMPLE), "--list"]) == 0
    out = capsys.readouterr().out
    rows = describe(load_config(EXAMPLE))
    assert len(rows) == len(load_config(EXAMPLE).simulation.meters) == 13
    assert "127.0.0.1:15020 unit 11 (chint_dtsu666)" in out
    assert "meterledger/shenyang-dairy/production/line-cups" in out
    assert "pv 1480 kWp" in out


def test_ground_truth_prints_csv_per_meter_and_quantity(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "--config", str(BACKFILL), "--ground-truth"]
    assert main([*args, "--from", "2026-06-22T11:00", "--to", "2026-06-22T12:00"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "meter,quantity,unit,from,to,value"
    assert lines[1].startswith("grid,import_energy,kWh,2026-06-22T09:00:00+00:00,")
    assert any(line.startswith("steam,energy,GJ,") for line in lines)


def test_ground_truth_needs_a_window(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["simulate", "--config", str(BACKFILL), "--ground-truth", "--from", "2026-01-01"]) == 2
    )
    assert "--from: needed, with --to for ground truth" in capsys.readouterr().err
