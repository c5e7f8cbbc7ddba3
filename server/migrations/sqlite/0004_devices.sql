-- Browsers that have signed an account in (by the digest of their device cookie), for
-- sign-on rules on known or new devices.
CREATE TABLE known_devices (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_hash  BLOB NOT NULL,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_hash)
);
