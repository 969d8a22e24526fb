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


def test_hours_stored_before_0010_get_their_first_and_last_reading(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = shipped_migrations()
    earlier = [m for m in shipped if m.version < "0010"]
    monkeypatch.setattr(migrations, "shipped_migrations", lambda: earlier)
    migrate(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO site (key, name, timezone) VALUES ('s', 's', 'UTC')")
        conn.execute(
            "INSERT INTO meter (site_id, key, name, carrier, role)"
            " SELECT id, 'm', 'm', 'electricity', 'main' FROM site"
        )
        conn.execute(
            "INSERT INTO point (meter_id, key, quantity, unit, kind)"
            " SELECT id, 'e', 'energy', 'kWh', 'counter' FROM meter"
        )
        conn.execute(
            "INSERT INTO reading SELECT p.id, t, extract(epoch FROM t), q FROM point p,"
            " (VALUES ('2026-03-01 00:10Z'::timestamptz, 2), ('2026-03-01 00:20Z', 0),"
            " ('2026-03-01 00:50Z', 4), ('2026-03-01 00:55Z', 8), ('2026-03-01 01:05Z', 0)) r(t, q)"
        )
        conn.execute(
            "INSERT INTO reading_hourly SELECT point_id, date_trunc('hour', ts, 'UTC'),"
            " count(*), sum(value), min(value), max(value), min(ts), max(ts) FROM reading"
            " WHERE quality & 89 = 0 GROUP BY 1, 2"
        )  # as the writer kept them before 0010
    monkeypatch.setattr(migrations, "shipped_migrations", lambda: shipped)
    assert migrate(database_url) == [m.version for m in shipped if m.version >= "0010"]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT extract(minute FROM first_ts), first_quality, extract(minute FROM last_ts),"
            " last_quality, first_value = extract(epoch FROM first_ts),"
            " last_value = extract(epoch FROM last_ts) FROM reading_hourly ORDER BY hour"
        ).fetchall()
    # 00:55 is a spike (8 is rejected): the hour's last accepted reading is 00:50.
    assert rows == [(10, 2, 50, 4, True, True), (5, 0, 5, 0, True, True)]
