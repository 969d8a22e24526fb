-- Each hour's first and last accepted reading, value and flags, beside their instants.
-- A series at an hour or coarser reads the counter around every bucket boundary from
-- these rows (api series, store/series.py) instead of two index probes per boundary into
-- the raw readings: a month of hourly buckets is one range read of 744 rows. Kept by the
-- writer with the rest of the hour's statistics. Nullable: rows written before this
-- migration are filled below; a row that cannot be (its readings deleted) stays NULL, and
-- a series over it falls back to the probes.
ALTER TABLE reading_hourly
    ADD COLUMN first_value   double precision,
    ADD COLUMN first_quality integer,
    ADD COLUMN last_value    double precision,
    ADD COLUMN last_quality  integer;

UPDATE reading_hourly h SET first_value = r.value, first_quality = r.quality
FROM reading r WHERE r.point_id = h.point_id AND r.ts = h.first_ts;

UPDATE reading_hourly h SET last_value = r.value, last_quality = r.quality
FROM reading r WHERE r.point_id = h.point_id AND r.ts = h.last_ts;
