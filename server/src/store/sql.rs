//! The SQL both backends run, written once. `$N` placeholders, `RETURNING` and the
//! column types used here mean the same on SQLite and PostgreSQL (SQLite numbers
//! `$N` parameters in order of first appearance, which is their order here).

pub const INSERT_FLOW: &str =
    "INSERT INTO flows (id, handle_hash, state, version, expires_at) VALUES ($1, $2, $3, $4, $5)";
pub const FLOW_BY_HANDLE: &str = "SELECT id, handle_hash, state, version, expires_at FROM flows WHERE handle_hash = $1";
pub const FLOW_BY_ID: &str = "SELECT id, handle_hash, state, version, expires_at FROM flows WHERE id = $1";
pub const FLOW_VERSION: &str = "SELECT version FROM flows WHERE id = $1";
/// Saves a flow only if nobody saved it since it was read.
pub const UPDATE_FLOW: &str =
    "UPDATE flows SET state = $1, version = version + 1, expires_at = $2 WHERE id = $3 AND version = $4";
pub const INSERT_USER: &str =
    "INSERT INTO users (id, email, profile, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)";
pub const UPDATE_PROFILE: &str = "UPDATE users SET profile = $1, updated_at = $2 WHERE id = $3";
/// A browser seen signing an account in: first time, or again.
pub const UPSERT_DEVICE: &str = "INSERT INTO known_devices (user_id, device_hash, first_seen, last_seen) VALUES ($1, $2, $3, $3) \
     ON CONFLICT (user_id, device_hash) DO UPDATE SET last_seen = excluded.last_seen";
/// A new password replaces the old one.
pub const UPSERT_PASSWORD: &str = "INSERT INTO passwords (user_id, hash, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at";
pub const PASSWORD: &str = "SELECT hash FROM passwords WHERE user_id = $1";
/// Reserves an attempt at a guessable answer before it is checked, so that no more
/// than `limit` answers in a row are ever checked, however many race: counts it unless
/// the address is locked, and the `limit`-th in a row locks it until `$4` (a right answer
/// then clears the row, lifting the lock). No row changed: locked, or no row yet.
pub const RESERVE_ATTEMPT: &str = "UPDATE lockouts SET \
     locked_until = CASE WHEN failures + 1 >= $1 THEN $2 ELSE NULL END, \
     failures = CASE WHEN failures + 1 >= $1 THEN 0 ELSE failures + 1 END, updated_at = $3 \
     WHERE subject_hash = $4 AND authenticator = $5 AND (locked_until IS NULL OR locked_until <= $3) \
     RETURNING locked_until";
/// Counts an attempt in the step's commit, if the address's row is still as read before
/// the answer was checked: `$6` failures, not locked. No row changed: another attempt
/// was counted meanwhile (or no row yet: then [`FIRST_ATTEMPT`]).
pub const COUNT_ATTEMPT: &str = "UPDATE lockouts SET \
     locked_until = CASE WHEN failures + 1 >= $1 THEN $2 ELSE NULL END, \
     failures = CASE WHEN failures + 1 >= $1 THEN 0 ELSE failures + 1 END, updated_at = $3 \
     WHERE subject_hash = $4 AND authenticator = $5 AND (locked_until IS NULL OR locked_until <= $3) \
     AND failures = $6";
/// The first attempt of an address; no row inserted: one exists (another request made it).
pub const FIRST_ATTEMPT: &str = "INSERT INTO lockouts (subject_hash, authenticator, failures, locked_until, updated_at) \
     VALUES ($1, $2, CASE WHEN 1 >= $3 THEN 0 ELSE 1 END, CASE WHEN 1 >= $3 THEN $4 ELSE NULL END, $5) \
     ON CONFLICT (subject_hash, authenticator) DO NOTHING RETURNING locked_until";
pub const LOCKOUT_CLEARED: &str = "DELETE FROM lockouts WHERE subject_hash = $1 AND authenticator = $2";
pub const LOCKOUT: &str = "SELECT failures, locked_until FROM lockouts WHERE subject_hash = $1 AND authenticator = $2";
/// A new authenticator app replaces the old one.
pub const UPSERT_TOTP: &str = "INSERT INTO totp (user_id, sealed_secret, last_step, created_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, last_step = excluded.last_step, \
     created_at = excluded.created_at";
/// Spends a step: only a later one than stored (no row changed: the code was spent
/// meanwhile, on this or another instance).
pub const TOTP_USED: &str = "UPDATE totp SET last_step = $1 WHERE user_id = $2 AND last_step < $1";
pub const TOTP: &str = "SELECT sealed_secret, last_step FROM totp WHERE user_id = $1";
pub const COUNT_SKIP: &str = "INSERT INTO enrollment_skips (user_id, authenticator, skips) VALUES ($1, $2, 1) \
     ON CONFLICT (user_id, authenticator) DO UPDATE SET skips = enrollment_skips.skips + 1";
pub const SKIPS: &str = "SELECT authenticator, skips FROM enrollment_skips WHERE user_id = $1";
pub const DEVICE_KNOWN: &str = "SELECT 1 FROM known_devices WHERE user_id = $1 AND device_hash = $2";
pub const USER_BY_EMAIL: &str = "SELECT id, email, profile FROM users WHERE email = $1";
pub const USER_BY_ID: &str = "SELECT id, email, profile FROM users WHERE id = $1";
/// An account's standing, as operators see it.
pub const ACCOUNT: &str = "SELECT id, email, profile, status, version, created_at, updated_at FROM users WHERE id = $1";
/// Accounts by email prefix (`$1`, compared as text so that no `%` or `_` is a pattern),
/// status (`$2`), store group (`$3`) after the cursor (`$4`), in email order.
pub const ACCOUNTS: &str = "SELECT id, email, profile, status, version, created_at, updated_at FROM users \
     WHERE substr(email, 1, length($1)) = $1 AND ($2 IS NULL OR status = $2) \
     AND ($3 IS NULL OR id IN (SELECT user_id FROM group_members WHERE group_name = $3)) \
     AND email > $4 ORDER BY email LIMIT $5";
pub const ACCOUNT_STATUS: &str = "SELECT status FROM users WHERE id = $1";
/// An admin change: the account's version moves on, if it is still the one the admin saw.
pub const BUMP_ACCOUNT: &str =
    "UPDATE users SET version = version + 1, updated_at = $1 WHERE id = $2 AND ($3 IS NULL OR version = $3)";
pub const SET_STATUS: &str = "UPDATE users SET status = $1 WHERE id = $2";
pub const RENAME_PASSKEY: &str = "UPDATE passkeys SET name = $1 WHERE cred_id = $2 AND user_id = $3";
pub const REMOVE_PASSKEY: &str = "DELETE FROM passkeys WHERE cred_id = $1 AND user_id = $2";
pub const REMOVE_PASSKEYS_BUT: &str = "DELETE FROM passkeys WHERE user_id = $1 AND cred_id <> $2";
pub const REMOVE_TOTP: &str = "DELETE FROM totp WHERE user_id = $1";
pub const REMOVE_PASSWORD: &str = "DELETE FROM passwords WHERE user_id = $1";
pub const REVOKE_SESSION_OF: &str =
    "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL";
/// Every live session of an account but one (`$3`; none: `''`).
pub const REVOKE_OTHER_SESSIONS: &str =
    "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL";
pub const REVOKE_FAMILY_OF: &str =
    "UPDATE token_families SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL";
pub const SESSIONS_OF: &str = "SELECT id, secret_hash, user_id, proofs, created_at, last_seen_at, expires_at, revoked_at, browser, ip \
     FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at, id";
pub const FAMILIES_OF: &str = "SELECT id, client_id, created_at FROM token_families \
     WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, id";
/// Erasure: refresh tokens go, families stay revoked (so their access tokens fail) but
/// no longer name the account, dev outbox mail to the address goes, the log forgets the
/// address (`$1` in, `$2` the replacement, `$3` a LIKE pattern for it), then the
/// account, whose rows cascade.
pub const ERASE_REFRESH: &str =
    "DELETE FROM refresh_tokens WHERE family_id IN (SELECT id FROM token_families WHERE user_id = $1)";
pub const ERASE_FAMILIES: &str =
    "UPDATE token_families SET revoked_at = COALESCE(revoked_at, $1), user_id = NULL WHERE user_id = $2";
pub const ERASE_MAIL: &str = "DELETE FROM mail_outbox WHERE to_addr = $1";
pub const ERASE_QUEUED_MAIL: &str = "DELETE FROM mail_queue WHERE to_addr = $1";
pub const ERASE_FROM_LOG: &str = "UPDATE events SET body = REPLACE(body, $1, $2) WHERE body LIKE $3";
pub const ERASE_USER: &str = "DELETE FROM users WHERE id = $1";
pub const GROUP_EXISTS: &str = "SELECT 1 FROM directory_groups WHERE name = $1";
pub const INSERT_GROUP: &str = "INSERT INTO directory_groups (name, description, created_at) VALUES ($1, $2, $3)";
pub const DELETE_GROUP: &str = "DELETE FROM directory_groups WHERE name = $1";
pub const JOIN_GROUP: &str = "INSERT INTO group_members (group_name, user_id, added_at) VALUES ($1, $2, $3) \
     ON CONFLICT (group_name, user_id) DO NOTHING";
pub const LEAVE_GROUP: &str = "DELETE FROM group_members WHERE group_name = $1 AND user_id = $2";
pub const GROUPS: &str = "SELECT g.name, g.description, g.created_at, \
     (SELECT COUNT(*) FROM group_members m WHERE m.group_name = g.name) FROM directory_groups g ORDER BY g.name";
pub const GROUPS_OF: &str = "SELECT group_name FROM group_members WHERE user_id = $1 ORDER BY group_name";
pub const INSERT_CODE: &str = "INSERT INTO authorization_codes (code_hash, grant_json, expires_at) VALUES ($1, $2, $3)";
/// Only the first presentation before expiry sets `used_at`.
pub const USE_CODE: &str = "UPDATE authorization_codes SET used_at = $1, family_id = $2 WHERE code_hash = $3 AND used_at IS NULL AND expires_at > $1 RETURNING grant_json";
/// The grant of a code that can still be used (read, not spent).
pub const LIVE_CODE: &str =
    "SELECT grant_json FROM authorization_codes WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2";
pub const CODE_STATE: &str = "SELECT family_id, used_at FROM authorization_codes WHERE code_hash = $1";
pub const INSERT_MAIL: &str =
    "INSERT INTO mail_outbox (to_addr, subject, text_body, html_body, sent_at) VALUES ($1, $2, $3, $4, $5)";
pub const MAILS_TO: &str = "SELECT id, to_addr, subject, text_body, html_body, sent_at FROM mail_outbox WHERE to_addr = $1 ORDER BY id DESC LIMIT $2";
pub const MAILS: &str =
    "SELECT id, to_addr, subject, text_body, html_body, sent_at FROM mail_outbox ORDER BY id DESC LIMIT $1";
/// Outgoing SMTP mail (see `mail::worker`): queued in a step's commit, due at once.
pub const QUEUE_MAIL: &str =
    "INSERT INTO mail_queue (to_addr, sealed, created_at, next_attempt_at) VALUES ($1, $2, $3, $3)";
/// Claims up to `$4` due messages nobody holds, for `$1` until `$2`. Two instances
/// racing: the second's update re-checks the lease on the rows the first took, and
/// skips them (PostgreSQL re-reads a locked row; SQLite has one writer).
pub const CLAIM_MAIL: &str = "UPDATE mail_queue SET lease_owner = $1, lease_until = $2 WHERE id IN \
     (SELECT id FROM mail_queue WHERE next_attempt_at <= $3 AND lease_until <= $3 ORDER BY next_attempt_at, id LIMIT $4) \
     AND lease_until <= $3 RETURNING id, to_addr, sealed, created_at, attempts";
/// Delivered (or given up on): the row goes, if this instance still holds it.
pub const MAIL_DONE: &str = "DELETE FROM mail_queue WHERE id = $1 AND lease_owner = $2";
pub const MAIL_RETRY: &str = "UPDATE mail_queue SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, \
     lease_owner = NULL, lease_until = 0 WHERE id = $3 AND lease_owner = $4";
/// A stopping instance hands back what it claimed and did not try.
pub const MAIL_RELEASE: &str =
    "UPDATE mail_queue SET lease_owner = NULL, lease_until = 0 WHERE id = $1 AND lease_owner = $2";
pub const MAIL_QUEUE_DEPTH: &str = "SELECT COUNT(*), MIN(created_at) FROM mail_queue";
pub const INSERT_EVENT: &str = "INSERT INTO events (uuid, published, event_type, body) VALUES ($1, $2, $3, $4)";
pub const EVENTS_AFTER: &str =
    "SELECT seq, uuid, published, event_type, body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2";
/// The log in sequence order, within a time range: up (after a cursor) or down (before one).
pub const EVENTS_UP: &str = "SELECT seq, uuid, published, event_type, body FROM events \
     WHERE seq > $1 AND published >= $2 AND published < $3 ORDER BY seq LIMIT $4";
pub const EVENTS_DOWN: &str = "SELECT seq, uuid, published, event_type, body FROM events \
     WHERE seq < $1 AND published >= $2 AND published < $3 ORDER BY seq DESC LIMIT $4";
/// Where a time range starts and ends in sequence numbers (by the `published` index).
pub const FIRST_EVENT_SINCE: &str = "SELECT MIN(seq) FROM events WHERE published >= $1";
pub const LAST_EVENT_BEFORE: &str = "SELECT MAX(seq) FROM events WHERE published < $1";
pub const INSERT_HOOK_OUTBOX: &str = "INSERT INTO hook_outbox (hook, event_uuid, created_at) VALUES ($1, $2, $3)";
/// A hook as configured; a new URL must be verified again.
pub const HOOK_SYNC: &str = "INSERT INTO hooks (name, url, status) VALUES ($1, $2, 'unverified') \
     ON CONFLICT (name) DO UPDATE SET url = excluded.url, \
     status = CASE WHEN hooks.url = excluded.url THEN hooks.status ELSE 'unverified' END, \
     verified_at = CASE WHEN hooks.url = excluded.url THEN hooks.verified_at ELSE NULL END";
/// Takes (or keeps) the right to deliver a hook's events: one instance at a time.
pub const HOOK_LEASE: &str = "UPDATE hooks SET lease_owner = $1, lease_until = $2 \
     WHERE name = $3 AND (lease_owner = $1 OR lease_until <= $4) \
     RETURNING name, url, status, reason, verified_at, batch, attempts, next_attempt_at, failing_since, lease_owner, lease_until";
pub const HOOKS: &str = "SELECT name, url, status, reason, verified_at, batch, attempts, next_attempt_at, failing_since, lease_owner, lease_until, \
     (SELECT COUNT(*) FROM hook_outbox o WHERE o.hook = hooks.name), \
     (SELECT MIN(created_at) FROM hook_outbox o WHERE o.hook = hooks.name) FROM hooks ORDER BY name";
pub const LIVE_FLOWS: &str = "SELECT COUNT(*) FROM flows WHERE expires_at >= $1";
pub const HOOK_CURRENT_BATCH: &str = "SELECT batch FROM hooks WHERE name = $1";
/// PostgreSQL: the same, with the hook's row locked for the batch assignment.
pub const HOOK_CURRENT_BATCH_LOCKED: &str = "SELECT batch FROM hooks WHERE name = $1 FOR UPDATE";
pub const HOOK_BATCH_ASSIGN: &str = "UPDATE hook_outbox SET batch = $1 WHERE id IN \
     (SELECT id FROM hook_outbox WHERE hook = $2 AND batch IS NULL ORDER BY id LIMIT $3)";
pub const HOOK_BATCH_SET: &str = "UPDATE hooks SET batch = $1, attempts = 0, failing_since = NULL WHERE name = $2";
pub const HOOK_BATCH_EVENTS: &str =
    "SELECT e.body FROM hook_outbox o JOIN events e ON e.uuid = o.event_uuid WHERE o.batch = $1 ORDER BY o.id";
pub const HOOK_BATCH_DELIVERED: &str = "DELETE FROM hook_outbox WHERE batch = $1";
pub const HOOK_DELIVERED: &str = "UPDATE hooks SET batch = NULL, attempts = 0, next_attempt_at = 0, failing_since = NULL, \
     status = 'active', reason = NULL WHERE name = $1";
pub const HOOK_FAILED: &str = "UPDATE hooks SET attempts = attempts + 1, next_attempt_at = $1, \
     failing_since = COALESCE(failing_since, $2), status = $3, reason = $4 WHERE name = $5";
pub const HOOK_VERIFIED: &str = "UPDATE hooks SET verified_at = $1, status = 'active', reason = NULL WHERE name = $2";
pub const HOOK_UNVERIFIED: &str =
    "UPDATE hooks SET status = 'unverified', reason = $1, next_attempt_at = $2 WHERE name = $3";
pub const HOOK_RETRY_NOW: &str = "UPDATE hooks SET next_attempt_at = 0 WHERE name = $1 OR batch = $1";
pub const INSERT_HOOK_ATTEMPT: &str = "INSERT INTO hook_attempts (hook, webhook_id, at, events, status, latency_ms, error) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub const HOOK_ATTEMPTS: &str = "SELECT hook, webhook_id, at, events, status, latency_ms, error FROM hook_attempts \
     WHERE hook = $1 ORDER BY id DESC LIMIT $2";
pub const SIGNING_KEYS: &str = "SELECT kid, alg, created_at, sealed_private, public_jwk, activates_at, retires_at FROM signing_keys \
     ORDER BY activates_at, created_at, kid";
pub const INSERT_SIGNING_KEY: &str = "INSERT INTO signing_keys (kid, alg, created_at, sealed_private, public_jwk, activates_at, retires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
/// A scheduled key: inserted only if its algorithm still has the `$8` keys the plan saw
/// (instances starting at once on an empty store make one first key, not one each).
pub const INSERT_PLANNED_SIGNING_KEY: &str = "INSERT INTO signing_keys (kid, alg, created_at, sealed_private, public_jwk, activates_at, retires_at) \
     SELECT $1, $2, $3, $4, $5, $6, $7 WHERE (SELECT COUNT(*) FROM signing_keys WHERE alg = $2) = $8";
pub const RETIRE_SIGNING_KEY: &str = "UPDATE signing_keys SET retires_at = $1 WHERE kid = $2";
pub const INSERT_CEREMONY: &str =
    "INSERT INTO webauthn_ceremonies (id, state, options, expires_at) VALUES ($1, $2, $3, $4)";
/// A ceremony its flow no longer waits on.
pub const DELETE_CEREMONY: &str = "DELETE FROM webauthn_ceremonies WHERE id = $1";
pub const CEREMONY_OPTIONS: &str = "SELECT options FROM webauthn_ceremonies WHERE id = $1 AND expires_at > $2";
/// Single use: whoever deletes the row gets the state.
pub const TAKE_CEREMONY: &str = "DELETE FROM webauthn_ceremonies WHERE id = $1 AND expires_at > $2 RETURNING state";
pub const INSERT_PASSKEY: &str = "INSERT INTO passkeys (cred_id, user_id, name, passkey, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, NULL)";
pub const PASSKEYS_OF: &str = "SELECT cred_id, user_id, name, passkey, created_at, last_used_at FROM passkeys WHERE user_id = $1 ORDER BY created_at, cred_id";
pub const PASSKEY: &str =
    "SELECT cred_id, user_id, name, passkey, created_at, last_used_at FROM passkeys WHERE cred_id = $1";
/// Records a use; the stored credential is replaced only when it changed (counter, flags).
pub const USE_PASSKEY: &str =
    "UPDATE passkeys SET last_used_at = $1, passkey = COALESCE($2, passkey) WHERE cred_id = $3";
pub const SESSION: &str = "SELECT id, secret_hash, user_id, proofs, created_at, last_seen_at, expires_at, revoked_at, browser, ip FROM sessions \
     WHERE secret_hash = $1 AND revoked_at IS NULL AND expires_at > $2";
pub const INSERT_SESSION: &str = "INSERT INTO sessions (id, secret_hash, user_id, proofs, created_at, last_seen_at, expires_at, browser, ip) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub const TOUCH_SESSION: &str = "UPDATE sessions SET proofs = $1, last_seen_at = $2 WHERE id = $3";
pub const REVOKE_SESSION: &str = "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
pub const REVOKE_USER_SESSIONS: &str = "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL";
pub const CONSENT: &str = "SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2";
pub const UPSERT_CONSENT: &str = "INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at";
pub const INSERT_FAMILY: &str =
    "INSERT INTO token_families (id, client_id, user_id, created_at) VALUES ($1, $2, $3, $4)";
pub const REVOKE_FAMILY: &str = "UPDATE token_families SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
pub const REVOKE_USER_FAMILIES: &str =
    "UPDATE token_families SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL";
pub const FAMILY_REVOKED: &str = "SELECT revoked_at FROM token_families WHERE id = $1";
pub const INSERT_REFRESH: &str =
    "INSERT INTO refresh_tokens (token_hash, family_id, grant_json, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
/// Only the first presentation of a live token, by its own client, in a live family
/// marks it used. The family is looked up by its key: an `IN (SELECT …)` over the
/// client's families scanned them all, and families grow with every sign-in.
pub const USE_REFRESH: &str = "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
     AND EXISTS (SELECT 1 FROM token_families f WHERE f.id = refresh_tokens.family_id AND f.revoked_at IS NULL AND f.client_id = $3) \
     RETURNING grant_json, family_id";
pub const REFRESH_STATE: &str = "SELECT family_id, used_at FROM refresh_tokens WHERE token_hash = $1";
pub const LIVE_REFRESH: &str = "SELECT r.grant_json, r.family_id FROM refresh_tokens r JOIN token_families f ON f.id = r.family_id \
     WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND f.revoked_at IS NULL";
pub const REVOKE_ACCESS_TOKEN: &str =
    "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING";
pub const ACCESS_TOKEN_REVOKED: &str = "SELECT 1 FROM revoked_tokens WHERE jti = $1";
/// One more hit for a rate-limit key: counted in the current window, the previous
/// window's count kept when it is the one just before (else it is too old to matter).
pub const RATE_HIT: &str = "INSERT INTO rate_counts (key, window_start, hits, previous, expires_at) VALUES ($1, $2, 1, 0, $3) \
     ON CONFLICT (key) DO UPDATE SET \
     previous = CASE WHEN rate_counts.window_start = excluded.window_start THEN rate_counts.previous \
     WHEN rate_counts.window_start = $4 THEN rate_counts.hits ELSE 0 END, \
     hits = CASE WHEN rate_counts.window_start = excluded.window_start THEN rate_counts.hits + 1 ELSE 1 END, \
     window_start = excluded.window_start, expires_at = excluded.expires_at \
     RETURNING window_start, hits, previous";

/// What a purge statement compares with (see `store::Retention`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cutoff {
    /// Now: the row has expired.
    Now,
    UsedCodes,
    LockoutCounts,
    Events,
    Families,
    Mails,
    /// SMTP mail not delivered by then is given up on.
    MailQueue,
    /// A browser not seen signing in by then is forgotten.
    KnownDevices,
    HookAttempts,
}

/// Everything kept is purged once past its time, by these statements: each deletes at
/// most `$2` rows older than `$1` (the caller repeats while rows went), so that a
/// backlog never holds the writer for long.
pub const PURGES: &[(Cutoff, &str)] = &[
    (Cutoff::Now, "DELETE FROM flows WHERE id IN (SELECT id FROM flows WHERE expires_at < $1 LIMIT $2)"),
    // Used codes are kept a day after expiry so that a replay is recognised.
    (
        Cutoff::UsedCodes,
        "DELETE FROM authorization_codes WHERE code_hash IN \
         (SELECT code_hash FROM authorization_codes WHERE expires_at < $1 LIMIT $2)",
    ),
    (
        Cutoff::Now,
        "DELETE FROM webauthn_ceremonies WHERE id IN (SELECT id FROM webauthn_ceremonies WHERE expires_at < $1 LIMIT $2)",
    ),
    (Cutoff::Now, "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < $1 LIMIT $2)"),
    (
        Cutoff::Now,
        "DELETE FROM refresh_tokens WHERE token_hash IN (SELECT token_hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)",
    ),
    (
        Cutoff::Now,
        "DELETE FROM revoked_tokens WHERE jti IN (SELECT jti FROM revoked_tokens WHERE expires_at < $1 LIMIT $2)",
    ),
    (Cutoff::Now, "DELETE FROM rate_counts WHERE key IN (SELECT key FROM rate_counts WHERE expires_at < $1 LIMIT $2)"),
    // A count untouched for a day is forgotten; no lock lasts longer than a day, so it
    // is not locking any more.
    (
        Cutoff::LockoutCounts,
        "DELETE FROM lockouts WHERE (subject_hash, authenticator) IN \
         (SELECT subject_hash, authenticator FROM lockouts WHERE updated_at < $1 LIMIT $2)",
    ),
    (Cutoff::Events, "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE published < $1 LIMIT $2)"),
    // A delivery nobody took before its event went (a hook failing for the whole
    // retention) goes with it.
    (Cutoff::Events, "DELETE FROM hook_outbox WHERE id IN (SELECT id FROM hook_outbox WHERE created_at < $1 LIMIT $2)"),
    (
        Cutoff::HookAttempts,
        "DELETE FROM hook_attempts WHERE id IN (SELECT id FROM hook_attempts WHERE at < $1 LIMIT $2)",
    ),
    // A family outlives every token it issued; then its refresh tokens go with it.
    (
        Cutoff::Families,
        "DELETE FROM token_families WHERE id IN (SELECT id FROM token_families WHERE created_at < $1 LIMIT $2)",
    ),
    (Cutoff::Mails, "DELETE FROM mail_outbox WHERE id IN (SELECT id FROM mail_outbox WHERE sent_at < $1 LIMIT $2)"),
    (
        Cutoff::KnownDevices,
        "DELETE FROM known_devices WHERE (user_id, device_hash) IN \
         (SELECT user_id, device_hash FROM known_devices WHERE last_seen < $1 LIMIT $2)",
    ),
    (
        Cutoff::MailQueue,
        "DELETE FROM mail_queue WHERE id IN (SELECT id FROM mail_queue WHERE created_at < $1 LIMIT $2)",
    ),
];

#[cfg(test)]
mod tests {
    /// SQLite binds `$N` by order of first appearance, PostgreSQL by number: every
    /// statement here must number its parameters in the order they first appear.
    #[test]
    fn parameters_are_numbered_in_order_of_appearance() {
        let source = include_str!("sql.rs");
        let code = &source[..source.find("#[cfg(test)]").expect("test module")];
        let mut checked = 0;
        for literal in code.split('"').skip(1).step_by(2) {
            let mut seen: Vec<u32> = vec![];
            let mut rest = literal;
            while let Some(i) = rest.find('$') {
                let digits: String = rest[i + 1..].chars().take_while(char::is_ascii_digit).collect();
                rest = &rest[i + 1..];
                if let Ok(n) = digits.parse::<u32>()
                    && !seen.contains(&n)
                {
                    seen.push(n);
                }
            }
            let expected: Vec<u32> = (1..=seen.len() as u32).collect();
            assert_eq!(seen, expected, "parameters out of order in: {literal}");
            checked += 1;
        }
        assert!(checked > 30, "found the statements ({checked})");
    }
}
