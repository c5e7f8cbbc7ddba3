-- How many times each account skipped enrolling an authenticator (apps may allow
-- only so many skips before the authenticator is required).
CREATE TABLE enrollment_skips (
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    authenticator TEXT NOT NULL,
    skips         INTEGER NOT NULL,
    PRIMARY KEY (user_id, authenticator)
);
