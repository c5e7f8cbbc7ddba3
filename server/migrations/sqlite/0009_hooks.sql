-- Event hooks. The outbox: one row per event per hook, written in the commit that wrote
-- the event. A batch of rows gets its webhook-id at its first attempt and keeps it
-- through every retry. Rows go once delivered (or with the events they point at).
CREATE TABLE hook_outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    hook        TEXT NOT NULL,
    event_uuid  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    batch       TEXT
);
CREATE INDEX hook_outbox_hook ON hook_outbox (hook, batch, id);
CREATE INDEX hook_outbox_batch ON hook_outbox (batch);
CREATE INDEX hook_outbox_created_at ON hook_outbox (created_at);

-- Per hook: its verification and health, the batch under way and when to try it next,
-- and which instance delivers (a lease that runs out if that instance dies).
CREATE TABLE hooks (
    name             TEXT PRIMARY KEY,
    url              TEXT NOT NULL,
    status           TEXT NOT NULL,
    reason           TEXT,
    verified_at      INTEGER,
    batch            TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL DEFAULT 0,
    failing_since    INTEGER,
    lease_owner      TEXT,
    lease_until      INTEGER NOT NULL DEFAULT 0
);

-- Every delivery attempt (and verification), for `passway hooks deliveries`; kept 7 days.
CREATE TABLE hook_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    hook        TEXT NOT NULL,
    webhook_id  TEXT NOT NULL,
    at          INTEGER NOT NULL,
    events      INTEGER NOT NULL,
    status      INTEGER,
    latency_ms  INTEGER NOT NULL,
    error       TEXT
);
CREATE INDEX hook_attempts_hook ON hook_attempts (hook, id);
CREATE INDEX hook_attempts_at ON hook_attempts (at);
