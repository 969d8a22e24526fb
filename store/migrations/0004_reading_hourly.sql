-- Hourly statistics of accepted readings, kept by the writer in the same transaction as
-- the readings. The ledger's coverage and gauge integration and the API's coarse series
-- read these instead of scanning raw rows, so a month costs the same at 1 s or 15 min.
-- (TimescaleDB's Apache edition has no continuous aggregates: this is our own.)
-- "Accepted" means no rejecting flag (store/quality.py REJECTED: out_of_range, glitch,
-- spike, future_timestamp = 1 | 8 | 16 | 64 = 89).
CREATE TABLE reading_hourly (
    point_id integer NOT NULL REFERENCES point (id),
    hour     timestamptz NOT NULL,
    n        integer NOT NULL,
    sum      double precision NOT NULL,
    min      double precision NOT NULL,
    max      double precision NOT NULL,
    first_ts timestamptz NOT NULL,
    last_ts  timestamptz NOT NULL,
    PRIMARY KEY (point_id, hour)
);

INSERT INTO reading_hourly
SELECT point_id, date_trunc('hour', ts), count(*), sum(value), min(value), max(value),
       min(ts), max(ts)
FROM reading WHERE quality & 89 = 0 AND value <> 'NaN'
GROUP BY 1, 2;

-- Breaks (wraps, resets) are few: a partial index finds a month's without a scan.
CREATE INDEX reading_breaks ON reading (point_id, ts) WHERE quality & 6 <> 0;
