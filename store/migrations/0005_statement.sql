-- Period statements: immutable versions, hash-chained per site. A period's status is its
-- latest version's; "open" means no statement yet. content is the canonical JSON the
-- hash covers, byte for byte: sha256(previous_hash || content) = content_hash.
CREATE TABLE statement (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id       integer NOT NULL REFERENCES site (id),
    period        text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    version       integer NOT NULL CHECK (version >= 1),
    status        text NOT NULL CHECK (status IN ('closed', 'reviewed', 'approved')),
    content       text NOT NULL,
    content_hash  text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    previous_hash text NOT NULL CHECK (previous_hash ~ '^[0-9a-f]{64}$'),
    reason        text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    reviewed_at   timestamptz,
    approved_at   timestamptz,
    UNIQUE (site_id, period, version),
    UNIQUE (site_id, content_hash)
);

-- The database itself refuses to rewrite history: content is immutable, status only moves
-- forward one step, and an approved statement can be neither changed nor deleted.
CREATE FUNCTION statement_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status = 'approved' THEN
            RAISE EXCEPTION 'statement % (% v%) is approved and locked', OLD.id, OLD.period, OLD.version
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'approved' THEN
        RAISE EXCEPTION 'statement % (% v%) is approved and locked', OLD.id, OLD.period, OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (NEW.site_id, NEW.period, NEW.version, NEW.content, NEW.content_hash, NEW.previous_hash,
        NEW.reason, NEW.created_at)
       IS DISTINCT FROM
       (OLD.site_id, OLD.period, OLD.version, OLD.content, OLD.content_hash, OLD.previous_hash,
        OLD.reason, OLD.created_at) THEN
        RAISE EXCEPTION 'statement % is immutable: only its status may move', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NOT ((OLD.status = 'closed' AND NEW.status IN ('closed', 'reviewed'))
         OR (OLD.status = 'reviewed' AND NEW.status IN ('reviewed', 'approved'))) THEN
        RAISE EXCEPTION 'statement % cannot move from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER statement_guard BEFORE UPDATE OR DELETE ON statement
    FOR EACH ROW EXECUTE FUNCTION statement_guard();
