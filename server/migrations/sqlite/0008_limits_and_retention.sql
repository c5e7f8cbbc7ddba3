-- Rate-limit counts: one row per counted thing (a MAC of what is counted, so the table
-- lists no addresses), the hits of the current fixed window and of the one before it
-- (a sliding window is estimated from the two). Rows go once both windows are over.
CREATE TABLE rate_counts (
    key           BLOB PRIMARY KEY,
    window_start  INTEGER NOT NULL,
    hits          INTEGER NOT NULL,
    previous      INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX rate_counts_expires_at ON rate_counts (expires_at);
CREATE INDEX lockouts_updated_at ON lockouts (updated_at);
-- Purges find what is past its time by these.
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
CREATE INDEX token_families_created_at ON token_families (created_at);
CREATE INDEX mail_outbox_sent_at ON mail_outbox (sent_at);
