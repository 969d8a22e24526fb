-- What the ledger is given rather than metered: manual activity entries (diesel,
-- refrigerant top-ups, road freight), contractual instruments, entered production, and
-- the evidence files behind them. Numbers are text holding an exact decimal, as typed;
-- the ledger reads them as Decimal with their unit. Nothing here is ever rewritten once a
-- period it counts in is approved: a correction voids the row and enters a new one.

-- Evidence files live in the database, named by the SHA-256 of their bytes: one backup
-- and one transaction hold the entry and its proof together, every service (collector,
-- scheduler, API, on any host) sees the same files, and the database checks the hash.
-- Invoices, delivery notes and certificates are small; 25 MiB is the ceiling.
CREATE TABLE evidence_file (
    sha256     text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    filename   text NOT NULL CHECK (filename <> ''),
    media_type text NOT NULL CHECK (media_type <> ''),
    size       bigint NOT NULL CHECK (size BETWEEN 0 AND 26214400),
    content    bytea NOT NULL,
    stored_by  text NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (size = octet_length(content)),
    CHECK (sha256 = encode(sha256(content), 'hex'))
);

CREATE FUNCTION evidence_file_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'evidence % is immutable', OLD.sha256
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TRIGGER evidence_file_guard BEFORE UPDATE OR DELETE ON evidence_file
    FOR EACH ROW EXECUTE FUNCTION evidence_file_guard();

CREATE TABLE manual_entry (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id      integer NOT NULL REFERENCES site (id),
    period       text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    category     text NOT NULL CHECK (category ~ '^[a-z][a-z_]*$'),
    quantity     text NOT NULL CHECK (quantity ~ '^[0-9]+(\.[0-9]+)?$'),
    unit         text NOT NULL CHECK (unit <> ''),
    description  text NOT NULL DEFAULT '',
    factor       text,            -- a chosen factor record, "set/id"; NULL: the category's
    gas          text,            -- refrigerant entries: the gas or blend
    density      text CHECK (density ~ '^[0-9]+(\.[0-9]+)?$'),
    density_unit text,
    evidence     text[] NOT NULL DEFAULT '{}',  -- evidence_file.sha256, in order
    entered_by   text NOT NULL CHECK (entered_by <> ''),
    entered_at   timestamptz NOT NULL DEFAULT now(),
    voided_at    timestamptz,
    voided_by    text,
    void_reason  text,
    CHECK ((density IS NULL) = (density_unit IS NULL)),
    CHECK ((voided_at IS NULL) = (voided_by IS NULL)
       AND (voided_at IS NULL) = (void_reason IS NULL))
);
CREATE INDEX manual_entry_period ON manual_entry (site_id, period);

CREATE TABLE contract_instrument (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id      integer NOT NULL REFERENCES site (id),
    kind         text NOT NULL CHECK (kind <> ''),   -- GEC, I-REC, green-power PPA …
    mwh          text NOT NULL CHECK (mwh ~ '^[0-9]+(\.[0-9]+)?$'),
    period_start date NOT NULL,
    period_end   date NOT NULL,                      -- exclusive
    factor       text NOT NULL CHECK (factor ~ '^[0-9]+(\.[0-9]+)?$'),  -- tCO2/MWh
    certificates text[] NOT NULL DEFAULT '{}',
    evidence     text[] NOT NULL DEFAULT '{}',
    entered_by   text NOT NULL CHECK (entered_by <> ''),
    entered_at   timestamptz NOT NULL DEFAULT now(),
    voided_at    timestamptz,
    voided_by    text,
    void_reason  text,
    CHECK (period_end > period_start),
    CHECK ((voided_at IS NULL) = (voided_by IS NULL)
       AND (voided_at IS NULL) = (void_reason IS NULL))
);
CREATE INDEX contract_instrument_site ON contract_instrument (site_id, period_start);

CREATE TABLE production_entry (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id     integer NOT NULL REFERENCES site (id),
    period      text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    line        text NOT NULL CHECK (line ~ '^[a-z0-9][a-z0-9_-]*$'),
    tonnes      text NOT NULL CHECK (tonnes ~ '^[0-9]+(\.[0-9]+)?$'),
    source      text NOT NULL CHECK (source <> ''),  -- where the figure comes from
    entered_by  text NOT NULL CHECK (entered_by <> ''),
    entered_at  timestamptz NOT NULL DEFAULT now(),
    voided_at   timestamptz,
    voided_by   text,
    void_reason text,
    CHECK ((voided_at IS NULL) = (voided_by IS NULL)
       AND (voided_at IS NULL) = (void_reason IS NULL))
);
-- One live figure per line and month: a correction voids the old one first.
CREATE UNIQUE INDEX production_entry_live ON production_entry (site_id, line, period)
    WHERE voided_at IS NULL;

-- Evidence named by an entry or instrument must be stored (an array has no foreign key).
CREATE FUNCTION ledger_input_evidence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    SELECT e INTO missing FROM unnest(NEW.evidence) AS e
        WHERE NOT EXISTS (SELECT 1 FROM evidence_file f WHERE f.sha256 = e) LIMIT 1;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'evidence % is not stored', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER manual_entry_evidence BEFORE INSERT OR UPDATE ON manual_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_input_evidence();
CREATE TRIGGER contract_instrument_evidence BEFORE INSERT OR UPDATE ON contract_instrument
    FOR EACH ROW EXECUTE FUNCTION ledger_input_evidence();

-- The guard of statement_guard, extended to inputs: once a month an input counts in has
-- been approved (any version), the row can be neither edited nor deleted; the one change
-- allowed is voiding it (voided_at, voided_by, void_reason set once, nothing else), which
-- the next recomputation shows as a pending restatement.
CREATE FUNCTION ledger_input_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    first_month text;
    last_month  text;
    void_columns text[] := ARRAY['voided_at', 'voided_by', 'void_reason'];
BEGIN
    IF TG_TABLE_NAME = 'contract_instrument' THEN
        first_month := to_char(OLD.period_start, 'YYYY-MM');
        last_month := to_char(OLD.period_end - 1, 'YYYY-MM');
    ELSE
        first_month := OLD.period;
        last_month := OLD.period;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM statement s
        WHERE s.site_id = OLD.site_id AND s.status = 'approved'
          AND s.period BETWEEN first_month AND last_month
    ) THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.voided_at IS NULL AND NEW.voided_at IS NOT NULL
       AND to_jsonb(NEW) - void_columns = to_jsonb(OLD) - void_columns THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% % counts in an approved period (% to %) and is locked: void it and enter a correction',
        TG_TABLE_NAME, OLD.id, first_month, last_month
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TRIGGER manual_entry_guard BEFORE UPDATE OR DELETE ON manual_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_input_guard();
CREATE TRIGGER contract_instrument_guard BEFORE UPDATE OR DELETE ON contract_instrument
    FOR EACH ROW EXECUTE FUNCTION ledger_input_guard();
CREATE TRIGGER production_entry_guard BEFORE UPDATE OR DELETE ON production_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_input_guard();
