-- SSO sessions, token families (what one authorization code or one refresh chain
-- issued, revoked together), rotating refresh tokens, revoked access tokens, consents,
-- and key rotation.
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,          -- public (the ID token's sid)
    secret_hash   BLOB NOT NULL UNIQUE,      -- SHA-256 of the cookie value
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    proofs        TEXT NOT NULL,             -- authenticators proven, and when
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE token_families (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    user_id     TEXT,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX token_families_user_id ON token_families (user_id);

CREATE TABLE refresh_tokens (
    token_hash  BLOB PRIMARY KEY,
    family_id   TEXT NOT NULL REFERENCES token_families (id) ON DELETE CASCADE,
    grant_json  TEXT NOT NULL,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);

CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE consents (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL,
    scope       TEXT NOT NULL,
    granted_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

ALTER TABLE authorization_codes ADD COLUMN family_id TEXT;
ALTER TABLE signing_keys ADD COLUMN activates_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE signing_keys ADD COLUMN retires_at INTEGER;
