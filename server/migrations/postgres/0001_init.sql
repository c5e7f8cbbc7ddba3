-- Passway schema, PostgreSQL. Times are Unix milliseconds; secrets are stored as digests.
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    profile     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE flows (
    id           TEXT PRIMARY KEY,
    handle_hash  BYTEA NOT NULL UNIQUE,
    state        TEXT NOT NULL,
    version      BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX flows_expires_at ON flows (expires_at);

CREATE TABLE authorization_codes (
    code_hash   BYTEA PRIMARY KEY,
    grant_json  TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);

CREATE TABLE mail_outbox (
    id         BIGSERIAL PRIMARY KEY,
    to_addr    TEXT NOT NULL,
    subject    TEXT NOT NULL,
    text_body  TEXT NOT NULL,
    html_body  TEXT NOT NULL,
    sent_at    BIGINT NOT NULL
);
CREATE INDEX mail_outbox_to_addr ON mail_outbox (to_addr, id);

CREATE TABLE events (
    seq         BIGSERIAL PRIMARY KEY,
    uuid        TEXT NOT NULL UNIQUE,
    published   BIGINT NOT NULL,
    event_type  TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX events_published ON events (published);

CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    alg             TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    sealed_private  BYTEA NOT NULL,
    public_jwk      TEXT NOT NULL
);
