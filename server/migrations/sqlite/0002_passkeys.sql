-- Passkeys (WebAuthn credentials) and the state of WebAuthn ceremonies in progress.
CREATE TABLE passkeys (
    cred_id       TEXT PRIMARY KEY,  -- base64url; unique across all accounts
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    passkey       TEXT NOT NULL,     -- webauthn-rs Passkey (public key, counter, flags)
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX passkeys_user_id ON passkeys (user_id);

-- Single use: taken (deleted) when the ceremony finishes.
CREATE TABLE webauthn_ceremonies (
    id          TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    options     TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires_at ON webauthn_ceremonies (expires_at);
