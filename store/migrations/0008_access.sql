-- Bearer tokens of the HTTP API and the audit log of every write.
--
-- A token is a 256-bit random secret; only its SHA-256 is stored. A slow password hash
-- (bcrypt, argon2) protects low-entropy human passwords against guessing; a random secret
-- of this size cannot be guessed either way, and a fast hash lets each request find its
-- token by an indexed equality look-up instead of spending ~0.1 s of CPU on it.
CREATE TABLE api_token (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    role         text NOT NULL CHECK (role IN ('viewer', 'operator', 'manager', 'auditor', 'admin')),
    site_id      integer REFERENCES site (id),
    secret_hash  text NOT NULL UNIQUE CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL,
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- Who did what, when, to what, with the state before and after. Rows are only ever added:
-- the trigger refuses UPDATE, DELETE and TRUNCATE whoever connects.
CREATE TABLE audit_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    token_id bigint REFERENCES api_token (id),
    actor    text NOT NULL,
    action   text NOT NULL,
    subject  text NOT NULL,
    site_id  integer REFERENCES site (id),
    before   jsonb,
    after    jsonb
);
CREATE INDEX audit_log_site ON audit_log (site_id, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
