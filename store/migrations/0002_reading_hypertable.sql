-- Make reading a TimescaleDB hypertable in 7-day chunks where the extension can be created.
-- On plain PostgreSQL (or without the rights to create it) the table stays as it is and the
-- notice says why; `meterledger db status` reports which mode the database is in.
DO $$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'timescaledb not available (%): reading stays a plain table', SQLERRM;
        RETURN;
    END;
    PERFORM create_hypertable('reading', by_range('ts', INTERVAL '7 days'),
                              if_not_exists => true, migrate_data => true);
END
$$;
