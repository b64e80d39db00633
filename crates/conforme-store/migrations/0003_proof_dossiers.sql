-- The proof dossier of a candidature and the files deposited against its checklist.
-- Same conventions as 0001: TEXT and BIGINT only, timestamps as RFC 3339 UTC text.

CREATE TABLE proof_dossiers (
    candidature_id TEXT PRIMARY KEY REFERENCES candidatures (id),
    state TEXT NOT NULL,                 -- JSON: conforme_domain::proofs::ProofDossier
    -- Denormalised from the state for the instruction queue:
    queue_key TEXT,                      -- place in the FIFO queue (null: not queued)
    assigned_to TEXT REFERENCES users (id),
    complete_at TEXT,
    waiting_editor BIGINT NOT NULL,      -- a question waits for the editor's answer
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL              -- optimistic lock
);

CREATE INDEX proof_dossiers_queue ON proof_dossiers (queue_key);

-- One row per deposited file. A replaced or withdrawn file keeps its row (history).
CREATE TABLE proof_files (
    id TEXT PRIMARY KEY,
    candidature_id TEXT NOT NULL REFERENCES candidatures (id),
    target TEXT NOT NULL,                -- a proof key (ID#preuve=…), piece:CODE or session-de-test
    attachment_id TEXT NOT NULL REFERENCES attachments (id),
    checks TEXT NOT NULL,                -- JSON: automatic checks, shown to the instructor
    deposited_at TEXT NOT NULL,
    deposited_by TEXT NOT NULL REFERENCES users (id),
    replaced_at TEXT,                    -- replaced by a newer file, or withdrawn
    replaced_by TEXT
);

CREATE INDEX proof_files_by_candidature ON proof_files (candidature_id, target);
