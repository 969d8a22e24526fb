"""``meterledger ledger entry|instrument|production`` as an energy manager types them."""

import hashlib
from pathlib import Path

import pytest
import yaml

from meterledger.cli import main

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"


@pytest.fixture
def plant(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("METERLEDGER_DATABASE_URL", database_url)
    raw = yaml.safe_load(PLANT.read_text())
    raw["ledger"] = {"lines": {"test-site": {"line-a": {"meters": ["dead-meter"]}}}}
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def ledger(plant: str, *args: str) -> int:
    return main(["ledger", *args, "--config", plant])


def test_entry_add_stores_the_evidence_and_prints_the_formula(
    plant: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    note = tmp_path / "delivery-note.pdf"
    note.write_bytes(b"%PDF-1.4 1200 L diesel")
    code = ledger(
        plant, "entry", "add", "test-site", "2026-03", "--category", "diesel",
        "--quantity", "1200 L", "--density", "0.84 kg/L", "--evidence", str(note),
        "--by", "energy.manager",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert hashlib.sha256(note.read_bytes()).hexdigest() in out
    assert "A = V × density = 1200 L × 0.84 kg/L = 1.008 t" in out
    assert ledger(plant, "entry", "list", "test-site", "2026-03") == 0
    listed = capsys.readouterr().out
    assert "diesel 1200 L" in listed
    assert "delivery-note.pdf" in listed
    assert "by energy.manager" in listed


def test_freight_in_km_is_refused_naming_the_field_and_value(
    plant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = ledger(plant, "entry", "add", "test-site", "2026-03", "--category", "road_freight",
                  "--quantity", "561 km")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "quantity '561 km'" in err
    assert "t·km" in err
    assert ledger(plant, "entry", "list", "test-site") == 0
    assert "no entry records" in capsys.readouterr().out


def test_bad_values_are_refused_with_their_field(
    plant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ledger(plant, "production", "add", "test-site", "2026-03", "line-z", "10",
                  "--source", "MES") == 2  # fmt: skip
    assert "line 'line-z': not a production line of test-site (line-a)" in capsys.readouterr().err
    assert ledger(plant, "production", "add", "test-site", "2026-03", "line-a", "-3",
                  "--source", "MES") == 2  # fmt: skip
    assert "tonnes '-3'" in capsys.readouterr().err
    assert ledger(plant, "entry", "add", "test-site", "2026-03", "--category", "diesel",
                  "--quantity", "lots") == 2  # fmt: skip
    assert "quantity 'lots'" in capsys.readouterr().err
    assert ledger(plant, "instrument", "add", "test-site", "--kind", "GEC", "--mwh", "10",
                  "--from", "2026-04-01", "--to", "2026-03-01", "--factor", "0") == 2  # fmt: skip
    assert "--to '2026-03-01'" in capsys.readouterr().err


def test_instrument_and_production_show_in_the_closed_month(
    plant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ledger(plant, "instrument", "add", "test-site", "--kind", "GEC", "--mwh", "5",
                  "--from", "2026-03-01", "--to", "2026-04-01", "--factor", "0",
                  "--certificate", "GEC-77") == 0  # fmt: skip
    assert ledger(plant, "production", "add", "test-site", "2026-03", "line-a", "406",
                  "--source", "MES month report") == 0  # fmt: skip
    assert ledger(plant, "close", "test-site", "2026-03") == 0
    out = capsys.readouterr().out
    assert "instrument instrument/1" in out
    assert "output line-a" in out
    assert "406" in out
    assert ledger(plant, "production", "void", "test-site", "1", "--reason", "wrong month") == 0
    assert "close it again with --reason" in capsys.readouterr().out
