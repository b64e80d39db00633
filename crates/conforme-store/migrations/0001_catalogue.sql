-- Programmes, REM versions, requirements and their proof lines, and the journal.
-- Written once for SQLite and PostgreSQL: TEXT and BIGINT only, timestamps as RFC 3339 UTC text.

CREATE TABLE programmes (
    code TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    definition TEXT NOT NULL,
    definition_sha256 TEXT NOT NULL,
    loaded_at TEXT NOT NULL
);

CREATE TABLE rem_versions (
    id TEXT PRIMARY KEY,
    programme_code TEXT NOT NULL REFERENCES programmes (code),
    label TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    source_name TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    requirement_count BIGINT NOT NULL,
    proof_line_count BIGINT NOT NULL,
    warnings TEXT NOT NULL,
    UNIQUE (programme_code, label)
);

CREATE TABLE requirements (
    rem_version_id TEXT NOT NULL REFERENCES rem_versions (id),
    requirement_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    perimetre TEXT NOT NULL,
    chapitre TEXT NOT NULL,
    fonction TEXT NOT NULL,
    exigence TEXT NOT NULL,
    commentaire TEXT,
    profil TEXT NOT NULL,
    profil_historique TEXT,
    criticite TEXT,
    kind TEXT NOT NULL,
    scenario_count BIGINT NOT NULL,
    proof_count BIGINT NOT NULL,
    search_text TEXT NOT NULL,
    PRIMARY KEY (rem_version_id, requirement_id)
);

CREATE INDEX requirements_by_position ON requirements (rem_version_id, position);

CREATE TABLE rem_lines (
    rem_version_id TEXT NOT NULL,
    requirement_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    scenario_number TEXT,
    scenario_text TEXT,
    proof_number TEXT,
    proof_text TEXT,
    ordre BIGINT,
    PRIMARY KEY (rem_version_id, requirement_id, position),
    FOREIGN KEY (rem_version_id, requirement_id) REFERENCES requirements (rem_version_id, requirement_id)
);

-- Append-only, hash-chained: hash = SHA-256 of the previous hash and this entry's fields.
CREATE TABLE journal (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    before_state TEXT,
    after_state TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
