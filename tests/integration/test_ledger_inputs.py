"""Ledger inputs against the real database: evidence by SHA-256, late inputs after approval
as pending restatements, and the guard that keeps approved inputs as they were."""

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import yaml

from ledger import closing
from ledger.periods import Month
from ledger.statements import Status
from meterledger.config import load_config
from meterledger.errors import InputError
from meterledger.ledger_commands import Ledger, open_ledger
from meterledger.settings import Settings
from store.pool import open_pool
from store.readings import Reading, write_readings
from store.statements import pending

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"
BERLIN = ZoneInfo("Europe/Berlin")
MARCH = Month(2026, 3)
SITE = "test-site"
RECEIPT = b"%PDF-1.4 diesel delivery note 2026-03-12, 1200 L, density 0.84 kg/L\n"


def plant(tmp_path: Path) -> Path:
    """The small plant with a production line the dead sub-meter serves alone."""
    raw = yaml.safe_load(PLANT.read_text())
    raw["ledger"] = {"lines": {SITE: {"line-a": {"meters": ["dead-meter"]}}}}
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


async def fill(url: str) -> None:
    """March in hourly counter readings: grid 100 kWh/h, sub-meter 60 kWh/h, gas 10 Nm3/h."""
    start = datetime(2026, 3, 1, tzinfo=BERLIN).astimezone(UTC)
    with psycopg.connect(url) as conn:
        ids: dict[str, int] = dict(
            conn.execute(
                """SELECT m.key || '/' || p.key, p.id FROM point p
                   JOIN meter m ON m.id = p.meter_id WHERE p.kind = 'counter'"""
            ).fetchall()
        )
    rows = [
        Reading(ids[key], start + timedelta(hours=h), base + rate * h)
        for h in range(743 + 24)
        for key, base, rate in (
            ("grid-main/energy_import", 5000.0, 100.0),
            ("boiler-gas/volume", 800.0, 10.0),
            ("dead-meter/energy_import", 0.0, 60.0),
        )
    ]
    pool = await open_pool(url)
    await write_readings(pool, rows)
    await pool.close()


@pytest.fixture
async def ledger(database_url: str, tmp_path: Path) -> AsyncIterator[Ledger]:
    config = load_config(plant(tmp_path))
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    async with open_ledger(config, SITE, settings) as opened:
        await fill(database_url)
        yield opened


async def approve(ledger: Ledger, reason: str | None = None) -> None:
    await closing.close(
        ledger.book, MARCH, ledger.readings, ledger.statements, reason=reason, inputs=ledger.inputs
    )
    for target in (Status.REVIEWED, Status.APPROVED):
        await closing.move(ledger.statements, SITE, MARCH, target)


async def diesel(ledger: Ledger, evidence: tuple[str, ...] = ()) -> int:
    entry = await ledger.inputs.add_entry(
        SITE, MARCH, category="diesel", quantity=Decimal(1200), unit="L", entered_by="ops",
        description="standby generator", density=Decimal("0.84"), density_unit="kg/L",
        evidence=evidence,
    )  # fmt: skip
    return entry.id


async def test_entries_are_stored_with_the_sha256_of_their_evidence(
    ledger: Ledger, database_url: str
) -> None:
    ref = await ledger.inputs.store_evidence(RECEIPT, "note.pdf", "application/pdf", "ops")
    assert ref.sha256 == hashlib.sha256(RECEIPT).hexdigest()
    again = await ledger.inputs.store_evidence(RECEIPT, "copy.pdf", "application/pdf", "ops")
    assert again == ref  # the same bytes are one file
    await diesel(ledger, (ref.sha256,))
    given = await ledger.inputs.period_inputs(SITE, MARCH)
    assert [e.evidence for e in given.entries] == [(ref,)]
    stored = await ledger.inputs.evidence_file(ref.sha256)
    assert stored is not None
    assert stored[1] == RECEIPT
    with psycopg.connect(database_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                """INSERT INTO evidence_file (sha256, filename, media_type, size, content,
                   stored_by) VALUES (%s, 'x', 'text/plain', 3, 'abc', 'me')""",
                ("0" * 64,),
            )
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="not stored"):
            conn.execute("UPDATE manual_entry SET evidence = ARRAY[%s]", ("1" * 64,))
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="immutable"):
            conn.execute("UPDATE evidence_file SET filename = 'tidied.pdf'")


async def test_a_closed_month_states_the_entry_with_its_evidence(ledger: Ledger) -> None:
    ref = await ledger.inputs.store_evidence(RECEIPT, "note.pdf", "application/pdf", "ops")
    entry_id = await diesel(ledger, (ref.sha256,))
    stored = await closing.close(
        ledger.book, MARCH, ledger.readings, ledger.statements, inputs=ledger.inputs
    )
    content = stored.content.decode()
    assert f"scope1/fuel-combustion/diesel/entry-{entry_id}" in content
    assert ref.sha256 in content


async def test_a_late_entry_after_approval_becomes_a_pending_restatement(ledger: Ledger) -> None:
    await approve(ledger)
    entry_id = await diesel(ledger)
    changes = await closing.recheck(
        ledger.book, MARCH, ledger.readings, ledger.statements, ledger.inputs, ledger.inputs
    )
    key = f"scope1/fuel-combustion/diesel/entry-{entry_id}"
    assert key in {c.key for c in changes}
    recorded = await pending(ledger.pool, SITE, str(MARCH))
    assert key in {row["key"] for row in recorded}
    latest = await ledger.statements.latest(SITE, str(MARCH))
    assert latest is not None
    assert (latest.version, latest.status) == (1, Status.APPROVED)  # unchanged

    restated = await closing.close(
        ledger.book, MARCH, ledger.readings, ledger.statements,
        reason="diesel delivery entered late", inputs=ledger.inputs,
    )  # fmt: skip
    assert restated.version == 2
    assert key in restated.content.decode()
    assert await pending(ledger.pool, SITE, str(MARCH)) == []


async def test_an_entered_output_after_approval_moves_only_kpis_and_is_still_pending(
    ledger: Ledger,
) -> None:
    await ledger.inputs.add_production(
        SITE, MARCH, "line-a", Decimal(400), source="MES", entered_by="ops"
    )
    await approve(ledger)
    await ledger.inputs.add_production(
        SITE, MARCH, "line-a", Decimal(410), source="stock count", entered_by="ops", replace=True
    )
    changes = await closing.recheck(
        ledger.book, MARCH, ledger.readings, ledger.statements, ledger.inputs, ledger.inputs
    )
    moved = {c.key: c for c in changes}
    kwh = moved["kpi/line-a: electricity per output"]
    assert (kwh.before, kwh.after) == (Decimal(44580) / 400, Decimal(44580) / 410)


async def test_the_guard_refuses_edits_of_approved_inputs_but_allows_voiding(
    ledger: Ledger, database_url: str
) -> None:
    entry_id = await diesel(ledger)
    instrument = await ledger.inputs.add_instrument(
        SITE, kind="GEC", mwh=Decimal(12), period_start=date(2026, 1, 1),
        period_end=date(2027, 1, 1), factor=Decimal(0), entered_by="ops",
    )  # fmt: skip
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE manual_entry SET description = 'draft months may be edited'")
    await approve(ledger)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for sql in (
            "UPDATE manual_entry SET quantity = '1000'",
            "DELETE FROM manual_entry",
            "UPDATE contract_instrument SET mwh = '24'",  # its year includes approved March
            "UPDATE manual_entry SET voided_at = now(), voided_by = 'x', void_reason = 'y', "
            "quantity = '1'",  # voiding may not smuggle in an edit
        ):
            with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="locked"):
                conn.execute(sql)
    assert await ledger.inputs.void(SITE, "manual_entry", entry_id, "ops", "typed twice") == (
        "2026-03",
        "2026-03",
    )
    with (
        psycopg.connect(database_url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="locked"),
    ):
        conn.execute("UPDATE manual_entry SET voided_at = NULL")  # no un-voiding
    with pytest.raises(InputError, match="say why"):
        await ledger.inputs.void(SITE, "contract_instrument", instrument.id, "ops", " ")
    assert await ledger.inputs.void(
        SITE, "contract_instrument", instrument.id, "ops", "certificates cancelled"
    ) == ("2026-01", "2026-12")
    with pytest.raises(InputError, match="no live row"):
        await ledger.inputs.void(SITE, "manual_entry", entry_id, "ops", "again")
    listed = await ledger.inputs.entries(SITE, MARCH, voided=True)
    assert [(e.record.id, e.voided and e.voided.reason) for e in listed] == [
        (entry_id, "typed twice")
    ]


async def test_a_second_figure_for_a_line_and_month_is_refused_without_replace(
    ledger: Ledger,
) -> None:
    await ledger.inputs.add_production(SITE, MARCH, "line-a", Decimal(400), source="MES",
                                       entered_by="ops")  # fmt: skip
    with pytest.raises(InputError, match="already has a figure"):
        await ledger.inputs.add_production(SITE, MARCH, "line-a", Decimal(401), source="MES",
                                           entered_by="ops")  # fmt: skip
    with pytest.raises(InputError, match="no such site"):
        await ledger.inputs.add_production("elsewhere", MARCH, "line-a", Decimal(1),
                                           source="MES", entered_by="ops")  # fmt: skip
