"""A plant file chooses an imported factor set by name@version; statements cite and use it."""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

from ledger import closing
from ledger.periods import Month, Period
from meterledger.config import load_config
from meterledger.errors import ConfigError
from meterledger.ledger_commands import open_ledger
from meterledger.settings import Settings
from store.factor_sets import save_set
from store.migrate import migrate
from store.pool import open_pool
from store.readings import Reading, write_readings

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"
ACME_2022 = Decimal("0.5000")  # tCO2/MWh: the re-issued set's value for 2022 onwards
KWH_AN_HOUR = 100


def grid_csv() -> str:
    """The shipped MEE grid set as an admin would re-issue it: own name, version, a value."""
    text = (Path(__file__).resolve().parents[2] / "ledger/factorsets/cn-mee-grid.csv").read_text()
    text = text.replace("# set: cn-mee-grid", "# set: acme-grid")
    text = text.replace("# version: 1", "# version: 2026.1")
    return text.replace("CO2,0.5703,", f"CO2,{ACME_2022},")


def plant_choosing(tmp_path: Path, choice: str) -> Path:
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT.read_text() + f'ledger:\n  electricity_factors: "{choice}"\n')
    return plant


async def import_grid_set(url: str) -> None:
    migrate(url)
    text = grid_csv()
    pool = await open_pool(url)
    try:
        digest = hashlib.sha256(text.encode()).hexdigest()
        await save_set(pool, "acme-grid", "2026.1", "ACME grid", digest, text, "test")
    finally:
        await pool.close()


async def test_a_month_closes_with_the_imported_set_and_cites_it(
    database_url: str, tmp_path: Path
) -> None:
    await import_grid_set(database_url)
    config = load_config(plant_choosing(tmp_path, "acme-grid@2026.1"))
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    async with open_ledger(config, "test-site", settings) as opened:
        with psycopg.connect(database_url) as conn:
            [(grid,)] = conn.execute(
                "SELECT p.id FROM point p JOIN meter m ON m.id = p.meter_id"
                " WHERE m.key = 'grid-main' AND p.key = 'energy_import'"
            ).fetchall()
        start = datetime(2026, 2, 28, 20, tzinfo=UTC)
        rows = [
            Reading(grid, start + timedelta(hours=h), float(KWH_AN_HOUR * h))
            for h in range(31 * 24 + 6)
        ]
        pool = await open_pool(database_url)
        await write_readings(pool, rows)
        await pool.close()
        closed = await closing.close(
            opened.book, Month(2026, 3), opened.readings, opened.statements
        )
    content = json.loads(closed.content)
    [line] = [x for x in content["lines"] if x["key"] == "scope2/electricity/location/grid-main"]
    assert (line["factor_id"], line["factor_version"]) == (
        "acme-grid@2026.1/cn-grid-2022",
        "2026.1",
    )
    hours = Period("Europe/Berlin", Month(2026, 3)).interval.duration / timedelta(hours=1)
    assert hours == 743  # the DST month
    assert Decimal(line["tco2e"]) == Decimal(int(hours) * KWH_AN_HOUR) / 1000 * ACME_2022


async def test_a_set_never_imported_is_named_at_start(database_url: str, tmp_path: Path) -> None:
    migrate(database_url)
    config = load_config(plant_choosing(tmp_path, "acme-grid@9"))
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    with pytest.raises(ConfigError) as caught:
        async with open_ledger(config, "test-site", settings):
            pass
    assert caught.value.field == "ledger.electricity_factors"
    assert "acme-grid@9" in str(caught.value)


def test_a_half_named_imported_set_is_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises((ConfigError, ValidationError), match="name@version"):
        load_config(plant_choosing(tmp_path, "acme-grid@"))
