-- An approved month whose figures would change if computed now (late readings, a meter
-- event recorded late, a new factor). It is shown, not applied: a person restates the
-- month with a reason, which appends a new version and clears this row.
CREATE TABLE pending_restatement (
    site_id          integer NOT NULL REFERENCES site (id),
    period           text NOT NULL,
    based_on_version integer NOT NULL,
    detected_at      timestamptz NOT NULL DEFAULT now(),
    changes          jsonb NOT NULL,
    PRIMARY KEY (site_id, period)
);
