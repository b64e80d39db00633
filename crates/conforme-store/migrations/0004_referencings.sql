-- The référencement of a candidature (convention, signature, committee decisions, standing)
-- and the weekly committee sessions. Same conventions as 0001: TEXT and BIGINT only,
-- timestamps as RFC 3339 UTC text, dates as YYYY-MM-DD.

CREATE TABLE referencings (
    candidature_id TEXT PRIMARY KEY REFERENCES candidatures (id),
    programme_code TEXT NOT NULL,
    state TEXT NOT NULL,                 -- JSON: conforme_domain::referencing::Referencing
    -- Denormalised from the state for the registry and verification:
    number TEXT UNIQUE,                  -- the référencement number, once attributed
    standing TEXT,                       -- valid | suspended | withdrawn (null: not referenced)
    referenced_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL              -- optimistic lock
);

CREATE INDEX referencings_by_programme ON referencings (programme_code, standing);

CREATE TABLE committee_sessions (
    id TEXT PRIMARY KEY,
    programme_code TEXT NOT NULL,
    held_on TEXT NOT NULL,
    created_by TEXT NOT NULL,            -- the actor, as in the journal
    created_at TEXT NOT NULL,
    closed_at TEXT,
    UNIQUE (programme_code, held_on)
);
