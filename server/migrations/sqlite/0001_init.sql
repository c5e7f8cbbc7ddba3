-- Passway schema, SQLite. Times are Unix milliseconds; secrets are stored as digests.
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    profile     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE flows (
    id           TEXT PRIMARY KEY,
    handle_hash  BLOB NOT NULL UNIQUE,
    state        TEXT NOT NULL,
    version      INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX flows_expires_at ON flows (expires_at);

CREATE TABLE authorization_codes (
    code_hash   BLOB PRIMARY KEY,
    grant_json  TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);

CREATE TABLE mail_outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    to_addr    TEXT NOT NULL,
    subject    TEXT NOT NULL,
    text_body  TEXT NOT NULL,
    html_body  TEXT NOT NULL,
    sent_at    INTEGER NOT NULL
);
CREATE INDEX mail_outbox_to_addr ON mail_outbox (to_addr, id);

CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid        TEXT NOT NULL UNIQUE,
    published   INTEGER NOT NULL,
    event_type  TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX events_published ON events (published);

CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    alg             TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    sealed_private  BLOB NOT NULL,
    public_jwk      TEXT NOT NULL
);
