-- Outgoing email over SMTP: written in the commit of the step that sent it, delivered
-- by a worker on any instance. A row is claimed with a lease (an instance that dies
-- stops holding it), deleted once the SMTP server took the message, and otherwise
-- tried again later. The message is sealed: it carries one-time codes and links.
CREATE TABLE mail_queue (
    id               BIGSERIAL PRIMARY KEY,
    to_addr          TEXT NOT NULL,
    sealed           BYTEA NOT NULL,
    created_at       BIGINT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_until      BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT
);
CREATE INDEX mail_queue_due ON mail_queue (next_attempt_at);
CREATE INDEX mail_queue_to_addr ON mail_queue (to_addr);
CREATE INDEX mail_queue_created_at ON mail_queue (created_at);
