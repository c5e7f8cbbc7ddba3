-- Authenticator apps (TOTP): the shared secret sealed with AES-256-GCM under the
-- master key, and the last time step a code was accepted for (codes work once).
CREATE TABLE totp (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret BYTEA NOT NULL,
    last_step     BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);
