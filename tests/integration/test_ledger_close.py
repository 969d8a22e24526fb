"""Closing, approving and restating a month against the real database."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from ledger import closing
from ledger.periods import Month, Period
from ledger.statements import Status, findings_of, verify_stored
from meterledger.config import load_config
from meterledger.errors import WorkflowError
from meterledger.ledger_commands import open_ledger
from meterledger.settings import Settings
from store.catalog import PointRef
from store.pool import open_pool
from store.readings import Reading, write_readings

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"
BERLIN = ZoneInfo("Europe/Berlin")
MARCH = Month(2026, 3)


async def fill(url: str, ids: dict[PointRef, int]) -> None:
    """A month of hourly counter readings: grid 100 kWh/h, its sub-meter 60 kWh/h, gas
    10 Nm3/h (743 h in March). Every counter has data: one without blocks the review."""
    start = datetime(2026, 3, 1, tzinfo=BERLIN).astimezone(UTC)
    grid = ids[PointRef("test-site", "grid-main", "energy_import")]
    gas = ids[PointRef("test-site", "boiler-gas", "volume")]
    sub = ids[PointRef("test-site", "dead-meter", "energy_import")]
    rows = [
        Reading(point, start + timedelta(hours=h), base + rate * h)
        for h in range(743 + 24)
        for point, base, rate in ((grid, 5000.0, 100.0), (gas, 800.0, 10.0), (sub, 0.0, 60.0))
    ]
    pool = await open_pool(url)
    await write_readings(pool, rows)
    await pool.close()


@pytest.fixture
async def ledger(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    config = load_config(PLANT)
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    async with open_ledger(config, "test-site", settings) as opened:
        with psycopg.connect(database_url) as conn:
            ids = {
                PointRef("test-site", m, p): i
                for m, p, i in conn.execute(
                    "SELECT m.key, p.key, p.id FROM point p JOIN meter m ON m.id = p.meter_id"
                ).fetchall()
            }
        await fill(database_url, ids)
        yield opened


async def test_close_review_approve_and_restate(ledger, database_url: str) -> None:  # type: ignore[no-untyped-def]
    first = await closing.close(ledger.book, MARCH, ledger.readings, ledger.statements)
    assert (first.version, first.status) == (1, Status.CLOSED)
    content = first.content.decode()
    assert '"activity":"74300"' in content  # 743 h x 100 kWh: the DST month has 743 hours
    await closing.move(ledger.statements, "test-site", MARCH, Status.REVIEWED)
    approved = await closing.move(ledger.statements, "test-site", MARCH, Status.APPROVED)
    assert approved.status is Status.APPROVED

    with pytest.raises(WorkflowError, match="a reason"):
        await closing.close(ledger.book, MARCH, ledger.readings, ledger.statements)
    second = await closing.close(
        ledger.book, MARCH, ledger.readings, ledger.statements, reason="late readings"
    )
    assert (second.version, second.previous_hash) == (2, approved.hash)
    chain = await ledger.statements.chain("test-site")
    assert verify_stored([(s.previous_hash, s.content, s.hash) for s in chain]) == []
    assert {f.code for f in findings_of(second.content)} >= {"MARKET_BASED_FALLBACK"}


async def test_database_refuses_edits_of_approved_statements(ledger, database_url: str) -> None:  # type: ignore[no-untyped-def]
    await closing.close(ledger.book, MARCH, ledger.readings, ledger.statements)
    for target in (Status.REVIEWED, Status.APPROVED):
        await closing.move(ledger.statements, "test-site", MARCH, target)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for sql in (
            "UPDATE statement SET reason = 'tidied'",
            "UPDATE statement SET status = 'closed'",
            "DELETE FROM statement",
        ):
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="locked"):
                conn.execute(sql)
        # Someone with the rights to disable the guard still cannot hide an edit.
        conn.execute("ALTER TABLE statement DISABLE TRIGGER statement_guard")
        conn.execute("UPDATE statement SET content = replace(content, '74300', '64300')")
        conn.execute("ALTER TABLE statement ENABLE TRIGGER statement_guard")
    chain = await ledger.statements.chain("test-site")
    found = verify_stored([(s.previous_hash, s.content, s.hash) for s in chain])
    assert [f.code for f in found] == ["CONTENT_CHANGED"]


async def test_draft_content_is_immutable_too(ledger, database_url: str) -> None:  # type: ignore[no-untyped-def]
    await closing.close(ledger.book, MARCH, ledger.readings, ledger.statements)
    with psycopg.connect(database_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="immutable"):
            conn.execute("UPDATE statement SET content = content || ' '")
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="cannot move"):
            conn.execute("UPDATE statement SET status = 'approved'")


async def test_late_meter_event_after_approval_is_a_pending_restatement(
    ledger, database_url: str
) -> None:  # type: ignore[no-untyped-def]
    await closing.close(ledger.book, MARCH, ledger.readings, ledger.statements)
    for target in (Status.REVIEWED, Status.APPROVED):
        await closing.move(ledger.statements, "test-site", MARCH, target)
    stores = ledger.statements
    assert await closing.pending_restatement(ledger.book, MARCH, ledger.readings, stores) == []

    # Recorded late: the grid meter was swapped on 15 March; the old one had run 50 kWh
    # further than the readings show before its final reading, the new one started at 0.
    swap = datetime(2026, 3, 15, 12, tzinfo=BERLIN).astimezone(UTC)
    with psycopg.connect(database_url) as conn:
        before = conn.execute(
            """SELECT r.value FROM reading r JOIN point p ON p.id = r.point_id
               JOIN meter m ON m.id = p.meter_id
               WHERE m.key = 'grid-main' AND p.key = 'energy_import' AND r.ts < %s
               ORDER BY r.ts DESC LIMIT 1""",
            (swap,),
        ).fetchone()
        conn.execute(
            """INSERT INTO meter_event (meter_id, ts, kind, old_value, new_value)
               SELECT id, %s, 'replacement', %s, %s FROM meter WHERE key = 'grid-main'""",
            (swap, before[0] + 150 if before else None, 0.0),
        )
    changes = await closing.pending_restatement(ledger.book, MARCH, ledger.readings, stores)
    grid = {c.key: c for c in changes}["scope2/electricity/location/grid-main"]
    assert "activity" in grid.fields
    assert grid.delta != 0

    restated = await closing.close(
        ledger.book, MARCH, ledger.readings, stores, reason="meter swap recorded late"
    )
    assert restated.version == 2
    assert await closing.pending_restatement(ledger.book, MARCH, ledger.readings, stores) == []


async def test_a_site_at_plus_05_30_closes_its_month(database_url: str, tmp_path: Path) -> None:
    """Kolkata's March runs from 18:30 to 18:30 UTC, off the hourly table's hours: 744 h."""
    text = PLANT.read_text().replace("timezone: Europe/Berlin", "timezone: Asia/Kolkata")
    plant = tmp_path / "kolkata.yaml"
    plant.write_text(text)
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    async with open_ledger(load_config(plant), "test-site", settings) as opened:
        with psycopg.connect(database_url) as conn:
            ids = {
                (m, p): i
                for m, p, i in conn.execute(
                    "SELECT m.key, p.key, p.id FROM point p JOIN meter m ON m.id = p.meter_id"
                ).fetchall()
            }
        start = datetime(2026, 2, 28, tzinfo=UTC)  # readings on whole UTC hours
        rows = [
            Reading(ids[key], start + timedelta(hours=h), base + rate * h)
            for h in range(31 * 24 + 48)
            for key, base, rate in (
                (("grid-main", "energy_import"), 5000.0, 100.0),
                (("boiler-gas", "volume"), 800.0, 10.0),
                (("dead-meter", "energy_import"), 0.0, 60.0),
            )
        ]
        pool = await open_pool(database_url)
        await write_readings(pool, rows)
        await pool.close()
        closed = await closing.close(opened.book, MARCH, opened.readings, opened.statements)
    [grid] = [
        a for a in json.loads(closed.content)["activities"] if a["key"] == "grid-main/energy_import"
    ]
    hours = Period("Asia/Kolkata", MARCH).interval.duration / timedelta(hours=1)
    assert hours == 744  # 18:30 to 18:30 UTC
    assert Decimal(grid["quantity"]) == int(hours) * 100  # each edge half an hour in
    # One reading an hour against a 1 s poll: each hour vouched for one second, as in Berlin.
    assert Decimal(grid["coverage"]) == Decimal(1) / Decimal(3600)
