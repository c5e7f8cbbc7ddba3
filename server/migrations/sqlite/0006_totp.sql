-- Authenticator apps (TOTP): the shared secret sealed with AES-256-GCM under the
-- master key, and the last time step a code was accepted for (codes work once).
CREATE TABLE totp (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret BLOB NOT NULL,
    last_step     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
