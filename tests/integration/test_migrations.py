import threading
from datetime import timedelta

import psycopg
import pytest

from meterledger.errors import MigrationError
from store import migrate as migrations
from store.migrate import migrate, shipped_migrations, status


def test_migrate_applies_everything_once_and_records_it(database_url: str) -> None:
    assert migrate(database_url) == [m.version for m in shipped_migrations()]
    assert migrate(database_url) == []
    report = status(database_url)
    assert [m.version for m in report.applied] == [m.version for m in shipped_migrations()]
    assert report.pending == []
    assert report.server_version


def test_concurrent_migrations_are_serialised(database_url: str) -> None:
    results: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda: results.append(migrate(database_url))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    applied = [versions for versions in results if versions]
    assert len(applied) == 1, results


def test_edited_migration_is_refused(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    migrate(database_url)
    shipped = shipped_migrations()
    edited = [migrations.Migration(m.version, m.name, m.sql + "\n-- edited") for m in shipped]
    monkeypatch.setattr(migrations, "shipped_migrations", lambda: edited)
    with pytest.raises(MigrationError) as caught:
        migrate(database_url)
    assert caught.value.version == shipped[0].version
    assert "changed" in caught.value.reason


def test_reading_is_a_hypertable_exactly_when_timescaledb_is_there(
    database_url: str, expect_timescaledb: bool
) -> None:
    migrate(database_url)
    report = status(database_url)
    if expect_timescaledb:
        assert report.timescaledb_version is not None
    assert report.reading_is_hypertable == (report.timescaledb_version is not None)
    if report.reading_is_hypertable:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT time_interval FROM timescaledb_information.dimensions"
                " WHERE hypertable_name = 'reading' AND column_name = 'ts'"
            ).fetchone()
        assert row == (timedelta(days=7),)


def test_reading_primary_key_is_point_and_instant(database_url: str) -> None:
    migrate(database_url)
    with psycopg.connect(database_url) as conn:
        columns = conn.execute(
            """SELECT a.attname FROM pg_index i
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
               WHERE i.indrelid = 'reading'::regclass AND i.indisprimary"""
        ).fetchall()
    assert sorted(c[0] for c in columns) == ["point_id", "ts"]
