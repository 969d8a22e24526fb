-- Catalog (site -> meter -> point), narrow readings and meter events.
-- Keys are the identifiers of the plant file; ids are ours and stable.

CREATE TABLE site (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key         text NOT NULL UNIQUE CHECK (key ~ '^[a-z0-9][a-z0-9_-]*$'),
    name        text NOT NULL,
    timezone    text NOT NULL,
    grid_region text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE meter (
    id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id      integer NOT NULL REFERENCES site (id),
    key          text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9_-]*$'),
    name         text NOT NULL,
    carrier      text NOT NULL CHECK (carrier IN (
                     'electricity', 'natural_gas', 'steam', 'heat', 'water',
                     'diesel', 'lpg', 'other')),
    role         text NOT NULL CHECK (role IN ('main', 'sub', 'generation', 'export')),
    parent_id    integer REFERENCES meter (id),
    serial       text,
    model        text,
    ct_ratio     numeric NOT NULL DEFAULT 1 CHECK (ct_ratio > 0),
    pt_ratio     numeric NOT NULL DEFAULT 1 CHECK (pt_ratio > 0),
    installed_at timestamptz,
    removed_at   timestamptz,
    UNIQUE (site_id, key),
    CHECK (removed_at IS NULL OR installed_at IS NULL OR removed_at > installed_at)
);

CREATE TABLE point (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    meter_id   integer NOT NULL REFERENCES meter (id),
    key        text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9_]*$'),
    quantity   text NOT NULL,
    unit       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('counter', 'gauge')),
    wrap_value double precision CHECK (wrap_value IS NULL OR wrap_value > 0),
    UNIQUE (meter_id, key),
    CHECK (kind = 'counter' OR wrap_value IS NULL)
);

-- One row per point and instant: a re-delivered reading hits the primary key and is a no-op.
-- quality is a bit set (store/quality.py); 0 means good.
CREATE TABLE reading (
    point_id integer NOT NULL REFERENCES point (id),
    ts       timestamptz NOT NULL,
    value    double precision NOT NULL,
    quality  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (point_id, ts)
);

CREATE TABLE meter_event (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    meter_id    integer NOT NULL REFERENCES meter (id),
    point_id    integer REFERENCES point (id),
    ts          timestamptz NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('replacement', 'reset', 'ratio_change', 'manual_reading')),
    old_value   double precision,
    new_value   double precision,
    detail      jsonb NOT NULL DEFAULT '{}',
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by text
);
CREATE INDEX meter_event_meter_ts ON meter_event (meter_id, ts);
