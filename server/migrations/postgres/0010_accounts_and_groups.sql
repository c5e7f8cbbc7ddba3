-- Operators manage accounts: a status (an active account signs in, a deactivated one
-- cannot), and a version that every admin change bumps (a write that names an older
-- version is refused: two operators cannot overwrite each other unknowingly).
ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
CREATE INDEX users_status ON users (status, email);

-- Groups kept in the store (beside the config file's groups by email or domain).
CREATE TABLE directory_groups (
    name         TEXT PRIMARY KEY,
    description  TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_name  TEXT NOT NULL REFERENCES directory_groups (name) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (group_name, user_id)
);
CREATE INDEX group_members_user_id ON group_members (user_id);
