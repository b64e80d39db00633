-- Accounts, sessions and codes; editor organisations; charters; candidatures and their review;
-- attachments; the durable job queue; notifications; API tokens.
-- Same conventions as 0001: TEXT and BIGINT only, timestamps as RFC 3339 UTC text, booleans 0/1.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    siret TEXT NOT NULL UNIQUE,
    identity TEXT NOT NULL,              -- JSON: EditorIdentity
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL              -- optimistic lock: stale forms are refused
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id TEXT REFERENCES organisations (id),
    legal_representative BIGINT NOT NULL,
    password_hash TEXT,
    email_verified_at TEXT,
    totp_secret TEXT,
    failed_logins BIGINT NOT NULL,
    locked_until TEXT,
    oidc_issuer TEXT,
    oidc_subject TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (oidc_issuer, oidc_subject)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    second_factor_at TEXT,               -- null until the second factor is passed
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- Emailed one-time codes (second factor, fresh confirmations).
CREATE TABLE one_time_codes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    used_at TEXT
);

-- Links sent by email: address verification, password reset, invitation.
CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    email TEXT NOT NULL,
    user_id TEXT REFERENCES users (id),
    organisation_id TEXT REFERENCES organisations (id),
    created_by TEXT,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

CREATE TABLE solidarity_members (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    company_name TEXT NOT NULL,
    siret TEXT NOT NULL,
    mandate_attachment_id TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE distributors (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    company_name TEXT NOT NULL,
    siret TEXT NOT NULL,
    mandate_start TEXT NOT NULL,
    mandate_end TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE charter_acceptances (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    programme_code TEXT NOT NULL REFERENCES programmes (code),
    user_id TEXT NOT NULL REFERENCES users (id),
    accepted_at TEXT NOT NULL,
    charter_title TEXT NOT NULL,
    charter_sha256 TEXT NOT NULL,
    PRIMARY KEY (organisation_id, programme_code)
);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    candidature_id TEXT,
    storage_key TEXT NOT NULL UNIQUE,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at TEXT NOT NULL
);

CREATE TABLE candidatures (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,      -- human reference, e.g. HOP-DPI-Va2-2026-0001
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    programme_code TEXT NOT NULL REFERENCES programmes (code),
    state TEXT NOT NULL,
    dossier TEXT NOT NULL,               -- JSON: AdministrativeDossier
    editor_snapshot TEXT,                -- JSON: EditorIdentity as submitted
    deposited_at TEXT,                   -- first submission
    last_submitted_at TEXT,
    complement_due_at TEXT,
    decided_at TEXT,
    decision_reason TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);

CREATE INDEX candidatures_by_organisation ON candidatures (organisation_id);
CREATE INDEX candidatures_by_state ON candidatures (state, last_submitted_at);

-- The thread between the editor and the agency.
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    candidature_id TEXT NOT NULL REFERENCES candidatures (id),
    author_id TEXT REFERENCES users (id),  -- null: the platform
    kind TEXT NOT NULL,                    -- message, complement-request, complement-answer, decision
    body TEXT NOT NULL,
    attachment_ids TEXT NOT NULL,          -- JSON array
    created_at TEXT NOT NULL
);

CREATE INDEX messages_by_candidature ON messages (candidature_id, created_at);

-- Durable jobs and timers: fired by the worker once, surviving restarts.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    due_at TEXT NOT NULL,
    state TEXT NOT NULL,                   -- pending, running, done, cancelled, failed
    attempts BIGINT NOT NULL,
    last_error TEXT,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);

CREATE INDEX jobs_due ON jobs (state, due_at);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT,
    created_at TEXT NOT NULL,
    read_at TEXT
);

CREATE INDEX notifications_by_user ON notifications (user_id, created_at);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,                  -- space-separated
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
