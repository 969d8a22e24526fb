"""The time-series store: migrations, connection pool, catalog and readings.

PostgreSQL with the TimescaleDB extension where it can be created (``reading`` becomes a
hypertable in 7-day chunks), plain PostgreSQL otherwise; the same queries serve both.
Other parts read and write through the functions here, never through raw SQL of their own.
"""
