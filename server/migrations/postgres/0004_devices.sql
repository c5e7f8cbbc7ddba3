-- Browsers that have signed an account in (by the digest of their device cookie), for
-- sign-on rules on known or new devices.
CREATE TABLE known_devices (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_hash  BYTEA NOT NULL,
    first_seen   BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_hash)
);
