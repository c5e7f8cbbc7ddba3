-- Account passwords (argon2id PHC strings).
CREATE TABLE passwords (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash          TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- Wrong answers to guessable authenticators, per email address (a MAC of it, so the
-- table lists no addresses) and authenticator, whether or not the address has an
-- account: counted here so that a lockout holds across instances.
CREATE TABLE lockouts (
    subject_hash  BYTEA NOT NULL,
    authenticator TEXT NOT NULL,
    failures      INTEGER NOT NULL,
    locked_until  BIGINT,
    -- The last wrong answer: a count is forgotten a day after it (purge).
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (subject_hash, authenticator)
);
