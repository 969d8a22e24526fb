-- Factor sets imported by an admin (CSV in the shipped format, docs/factors.md), kept as
-- the exact text that was checked and hashed: a set is found again by name and version,
-- and its SHA-256 is the same as when it was imported. A version is never replaced; a
-- corrected set is a new version.
CREATE TABLE factor_set (
    name        text NOT NULL,
    version     text NOT NULL,
    title       text NOT NULL,
    digest      text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
    csv         text NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    imported_by text NOT NULL,
    PRIMARY KEY (name, version)
);
