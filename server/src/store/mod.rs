//! Persistence behind one interface, [`Store`], with two implementations: SQLite (an
//! embedded file, the default) and PostgreSQL (for many instances behind a load
//! balancer). Both run the same SQL (see `sql.rs`) and the same test suite.
//!
//! All flow state lives here, never in one process' memory, so any instance can serve
//! any step. A step's new state and its effects are written by [`Store::commit`] in one
//! transaction, guarded by the flow's version (optimistic concurrency): two requests
//! racing on one flow cannot both win.

mod directory;
mod migrations;
mod postgres;
mod sql;
mod sqlite;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

pub use directory::{
    Account, AccountChange, AccountQuery, AccountStatus, AccountWrite, FamilyRecord, GroupWrite, StoredGroup,
};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use crate::authenticators::AuthenticatorKind;
pub use crate::authenticators::lockout::{Lockout, Reservation};
use crate::crypto::Digest;
use crate::engine::{NewUser, Timestamp, User};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The flow changed since it was read (another request won the race).
    #[error("the flow was changed by another request")]
    Conflict,
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// An admin change named something the account (or the store) does not have.
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The schema is older than this binary's (its migrations have not all run).
    #[error("the database schema has {applied} of this version's {expected} migrations")]
    Behind { applied: i64, expected: usize },
    /// A conditional rate-limit hit of the commit was over its limit: nothing was written.
    #[error("rate limited: retry after {} s", retry_after.as_secs())]
    Limited { retry_after: std::time::Duration },
    /// The commit's counted attempt found the address's count changed since it was read
    /// (another attempt was counted first): nothing was written.
    #[error("another attempt at this answer was counted first")]
    AttemptRaced,
}

impl StoreError {
    /// The database could not be reached or is restarting (not a fault of the request):
    /// the same request may well work in a moment.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(e) => match e {
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => true,
                // SQLSTATE 08… (connection exception), 57P… (shutting down, starting up).
                sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
                _ => false,
            },
            StoreError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            _ => false,
        }
    }
}

/// A flow as stored: its state serialised, guarded by a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFlow {
    pub id: String,
    pub handle_hash: Digest,
    pub state: String,
    pub version: i64,
    pub expires_at: Timestamp,
}

/// Everything one step writes.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    /// (flow id, version read, new state, expiry); saved only if the version still matches.
    pub flow: Option<(String, i64, String, Timestamp)>,
    pub users: Vec<NewUser>,
    /// Browsers that signed an account in: (user id, device cookie digest, when).
    pub devices: Vec<(String, Digest, Timestamp)>,
    /// Profiles replaced whole: (user id, new profile, when).
    pub profiles: Vec<(String, BTreeMap<String, String>, Timestamp)>,
    /// New passwords: (user id, PHC string, when).
    pub passwords: Vec<(String, String, Timestamp)>,
    /// Right answers: the address's count for the authenticator starts again (and a
    /// lock its reservation set is lifted).
    pub cleared_lockouts: Vec<(Digest, AuthenticatorKind)>,
    /// The step's guessable answer, counted here (a cheap check: see [`CountedAttempt`]).
    pub attempt: Option<CountedAttempt>,
    /// Counted only if each stays within its limit; otherwise the whole commit fails
    /// with [`StoreError::Limited`] (e.g. emails to one address, however many flows race).
    pub rate_hits: Vec<RateHit>,
    pub totp: Vec<TotpWrite>,
    /// Enrolments skipped: (user id, authenticator), each counted once.
    pub skips: Vec<(String, AuthenticatorKind)>,
    /// Accounts whose sessions and refresh token families all end: (user id, when).
    /// Applied before this commit's new sessions.
    pub revocations: Vec<(String, Timestamp)>,
    pub codes: Vec<StoredCode>,
    /// Dev outbox emails.
    pub mails: Vec<Mail>,
    /// SMTP emails, for the mail worker to deliver.
    pub queued_mails: Vec<QueuedMail>,
    pub events: Vec<StoredEvent>,
    pub ceremonies: Vec<StoredCeremony>,
    /// Ceremonies the flow no longer waits on (replaced, or its step left).
    pub dropped_ceremonies: Vec<String>,
    /// New passkeys; a credential ID already registered fails the commit ([`StoreError::Duplicate`]).
    pub passkeys: Vec<StoredPasskey>,
    pub passkey_uses: Vec<PasskeyUse>,
    pub sessions: Vec<SessionWrite>,
    /// Remembered consents (replacing the account's previous one for the client).
    pub consents: Vec<StoredConsent>,
    pub families: Vec<StoredFamily>,
    pub refresh_tokens: Vec<StoredRefresh>,
    /// Admin changes to accounts, in order, each bumping the account's version.
    pub accounts: Vec<AccountWrite>,
    /// Applied before `accounts` (a new group can get members in the same commit).
    pub groups: Vec<GroupWrite>,
}

impl Commit {
    pub fn is_empty(&self) -> bool {
        self.flow.is_none()
            && self.users.is_empty()
            && self.profiles.is_empty()
            && self.passwords.is_empty()
            && self.cleared_lockouts.is_empty()
            && self.attempt.is_none()
            && self.rate_hits.is_empty()
            && self.totp.is_empty()
            && self.skips.is_empty()
            && self.revocations.is_empty()
            && self.devices.is_empty()
            && self.codes.is_empty()
            && self.mails.is_empty()
            && self.queued_mails.is_empty()
            && self.events.is_empty()
            && self.ceremonies.is_empty()
            && self.dropped_ceremonies.is_empty()
            && self.passkeys.is_empty()
            && self.passkey_uses.is_empty()
            && self.sessions.is_empty()
            && self.consents.is_empty()
            && self.families.is_empty()
            && self.refresh_tokens.is_empty()
            && self.accounts.is_empty()
            && self.groups.is_empty()
    }
}

/// A change to an account's authenticator app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TotpWrite {
    /// A new app: its secret, sealed; the step of the code that confirmed it.
    Set { user_id: String, sealed_secret: Vec<u8>, last_step: i64, at: Timestamp },
    /// A code of `step` was accepted; the commit fails with [`StoreError::Conflict`]
    /// unless `step` is later than the one stored.
    Used { user_id: String, step: i64 },
}

/// An account's authenticator app as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTotp {
    pub sealed_secret: Vec<u8>,
    pub last_step: i64,
}

/// An attempt at a guessable answer, to count before it is checked (see
/// `authenticators::lockout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptReservation {
    pub subject: Digest,
    pub authenticator: AuthenticatorKind,
    /// Attempts in a row before a lock.
    pub limit: u32,
    /// When a lock this attempt sets would end.
    pub lock_until: Timestamp,
    pub now: Timestamp,
}

/// An attempt counted in the step's own commit (see `authenticators::lockout`): only if
/// the address's count is still `seen_failures` and unlocked, else the commit fails with
/// [`StoreError::AttemptRaced`]. Counted before the commit's cleared lockouts, so a right
/// answer's count is counted and cleared at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedAttempt {
    pub attempt: AttemptReservation,
    /// The failures read before the answer was checked (0 when there was no row).
    pub seen_failures: u32,
}

/// One more event for a rate-limit key (see [`crate::limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateHit {
    pub key: Digest,
    pub limit: crate::limits::Limit,
    pub now: Timestamp,
}

/// How long each kind of row is kept past its use (see `sql::PURGES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub now: Timestamp,
    /// Used authorization codes, past their expiry (to recognise a replay).
    pub used_codes: std::time::Duration,
    /// Lockout counts untouched this long.
    pub lockout_counts: std::time::Duration,
    /// System log events.
    pub events: std::time::Duration,
    /// Token families: longer than any token they issued lives.
    pub families: std::time::Duration,
    /// Dev outbox emails.
    pub mails: std::time::Duration,
    /// SMTP mail still undelivered (given up on).
    pub mail_queue: std::time::Duration,
    /// Browsers known to an account, since last seen.
    pub known_devices: std::time::Duration,
    /// Event hook delivery attempts.
    pub hook_attempts: std::time::Duration,
}

impl Retention {
    fn cutoff(&self, c: sql::Cutoff) -> Timestamp {
        let before = |d: std::time::Duration| Timestamp(self.now.0 - d.as_millis() as i64);
        match c {
            sql::Cutoff::Now => self.now,
            sql::Cutoff::UsedCodes => before(self.used_codes),
            sql::Cutoff::LockoutCounts => before(self.lockout_counts),
            sql::Cutoff::Events => before(self.events),
            sql::Cutoff::Families => before(self.families),
            sql::Cutoff::Mails => before(self.mails),
            sql::Cutoff::MailQueue => before(self.mail_queue),
            sql::Cutoff::KnownDevices => before(self.known_devices),
            sql::Cutoff::HookAttempts => before(self.hook_attempts),
        }
    }
}

/// Rows each purge statement deletes at most per call.
pub const PURGE_BATCH: u32 = 5000;

/// An SSO session: who signed in, with which authenticators, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// Public id (the ID token's `sid`).
    pub id: String,
    /// SHA-256 of the cookie value.
    pub secret_hash: Digest,
    pub user_id: String,
    /// The serialised proofs (authenticator and time).
    pub proofs: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// The browser it started in (described, e.g. "Chrome on Linux") and the address.
    pub browser: String,
    pub ip: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionWrite {
    Create(StoredSession),
    /// A session ends (replaced by a stronger one).
    Revoke {
        id: String,
        at: Timestamp,
    },
    /// A session was used again: new proofs, seen now.
    Touch {
        id: String,
        proofs: String,
        last_seen_at: Timestamp,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConsent {
    pub user_id: String,
    pub client_id: String,
    /// Space-separated scopes allowed.
    pub scope: String,
    pub granted_at: Timestamp,
}

/// What one authorization code, or one chain of refresh tokens, issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFamily {
    pub id: String,
    pub client_id: String,
    pub user_id: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefresh {
    pub token_hash: Digest,
    pub family_id: String,
    /// The serialised [`crate::engine::Grant`] it continues.
    pub grant: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A refresh token presented, and its successor.
#[derive(Debug, Clone, Copy)]
pub struct Rotation<'a> {
    pub token_hash: &'a Digest,
    pub client_id: &'a str,
    pub now: Timestamp,
    pub next_hash: &'a Digest,
    pub next_expires: Timestamp,
}

/// Result of presenting a refresh token for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    /// Valid: it is now used, and its successor is stored. (grant, family)
    Rotated(String, String),
    /// Used before: a replay, so its whole family was revoked. (family)
    Reused(String),
    /// Expired, revoked or unknown.
    Invalid,
}

/// A WebAuthn ceremony in progress: the server-side state (single use) and the options
/// sent to the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCeremony {
    pub id: String,
    pub state: String,
    pub options: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    /// Credential ID, base64url.
    pub cred_id: String,
    pub user_id: String,
    pub name: String,
    /// The serialised webauthn-rs `Passkey`.
    pub passkey: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A passkey was used: when, and its new state if the counter or flags changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyUse {
    pub cred_id: String,
    pub passkey: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub code_hash: Digest,
    /// The serialised [`crate::engine::Grant`].
    pub grant: String,
    pub expires_at: Timestamp,
}

/// Result of presenting an authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeUse {
    /// First use, before expiry: here is the grant.
    Fresh(String),
    /// Presented before: a replay. The family its first use issued tokens in (to revoke).
    Replayed {
        family: Option<String>,
    },
    Expired,
    Unknown,
}

/// An email for SMTP, sealed (it carries codes and links), as queued or as claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    /// Zero until stored.
    pub id: i64,
    /// In clear, so that erasing an account takes its mail too.
    pub to: String,
    pub sealed: Vec<u8>,
    pub created_at: Timestamp,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// What became of a claimed email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailOutcome {
    /// The SMTP server took it, or it can never be sent: the row goes.
    Done,
    /// Try again at this time.
    Retry { at: Timestamp, error: String },
    /// Not tried (the instance is stopping): anyone may claim it at once.
    Released,
}

/// The SMTP queue's length and its oldest email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDepth {
    pub count: u64,
    pub oldest: Option<Timestamp>,
}

/// An email in the dev outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Mail {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub sent_at: Timestamp,
}

fn rfc3339<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.rfc3339())
}

/// A system log event, its body already in Okta's LogEvent shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub uuid: String,
    pub published: Timestamp,
    pub event_type: String,
    pub body: String,
    /// The event hooks it is to be delivered to (an outbox row each, in the same commit).
    pub hooks: Vec<String>,
}

/// Which events to read (see `events::query`): after the cursor in sequence order (or
/// before it, descending), published in `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRange {
    pub after: Option<i64>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub descending: bool,
    pub limit: u32,
}

/// An event hook's delivery state (see `hooks::worker`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HookState {
    pub name: String,
    pub url: String,
    /// `unverified`, `active` or `failing`.
    pub status: String,
    pub reason: Option<String>,
    pub verified_at: Option<Timestamp>,
    /// The webhook-id of the batch under way.
    pub batch: Option<String>,
    /// Failed attempts at that batch.
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    /// When the current run of failures began.
    pub failing_since: Option<Timestamp>,
    pub lease_owner: Option<String>,
    pub lease_until: Timestamp,
    /// Deliveries waiting (events not yet delivered); counted by [`Store::hooks`] only
    /// (a lease, taken every few seconds, does not count them).
    pub pending: u64,
    /// When the oldest waiting delivery was queued; read like `pending`.
    pub oldest: Option<Timestamp>,
}

/// One HTTP call to a hook: a delivery (or its verification).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HookAttempt {
    pub hook: String,
    pub webhook_id: String,
    pub at: Timestamp,
    pub events: u32,
    /// The answer's status code; none when no answer came.
    pub status: Option<u16>,
    pub latency_ms: u32,
    pub error: Option<String>,
}

/// What an attempt did to the hook's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookUpdate {
    Verified {
        at: Timestamp,
    },
    /// Not verified: retried from `retry_at`.
    Unverified {
        reason: String,
        retry_at: Timestamp,
    },
    /// The batch arrived: its outbox rows go, the hook is active.
    Delivered {
        batch: String,
    },
    /// The batch did not arrive: tried again at `next_attempt_at`.
    Failed {
        now: Timestamp,
        next_attempt_at: Timestamp,
        status: &'static str,
        reason: String,
    },
}

/// A signing key, its private half sealed under the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub created_at: Timestamp,
    pub sealed_private: Vec<u8>,
    pub public_jwk: String,
    /// Published from creation; signs from this instant.
    pub activates_at: Timestamp,
    /// Stops signing from this instant.
    pub retires_at: Option<Timestamp>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Calls `on_change` with the id of every flow any instance's commit changes, as it
    /// commits (PostgreSQL: `LISTEN`/`NOTIFY`), and with "" when changes may have been
    /// missed (the listener came back after losing its connection). SQLite has one
    /// process: nothing to do.
    fn watch_flows(&self, on_change: Box<dyn Fn(&str) + Send + Sync>) {
        let _ = on_change;
    }

    async fn insert_flow(&self, flow: &StoredFlow) -> Result<(), StoreError>;
    async fn flow_by_handle(&self, handle_hash: &Digest) -> Result<Option<StoredFlow>, StoreError>;
    async fn flow_by_id(&self, id: &str) -> Result<Option<StoredFlow>, StoreError>;
    /// The current version of a flow (cheap; for change notification across instances).
    async fn flow_version(&self, id: &str) -> Result<Option<i64>, StoreError>;
    /// Writes a step atomically; [`StoreError::Conflict`] if the flow moved meanwhile.
    async fn commit(&self, commit: Commit) -> Result<(), StoreError>;

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    async fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError>;

    /// The grant of an authorization code that can still be used, without spending it
    /// (so a request that fails its checks leaves the code to its rightful owner).
    async fn live_code(&self, code_hash: &Digest, now: Timestamp) -> Result<Option<String>, StoreError>;
    /// Marks an authorization code used by token family `family` and returns its grant
    /// (single use).
    async fn use_code(&self, code_hash: &Digest, now: Timestamp, family: &str) -> Result<CodeUse, StoreError>;

    /// The live session with this cookie digest.
    async fn session(&self, secret_hash: &Digest, now: Timestamp) -> Result<Option<StoredSession>, StoreError>;
    async fn revoke_session(&self, id: &str, now: Timestamp) -> Result<(), StoreError>;
    /// The scopes the account allowed the client, if it was asked.
    async fn consent(&self, user_id: &str, client_id: &str) -> Result<Option<String>, StoreError>;
    /// The account's password hash (PHC string).
    async fn password(&self, user_id: &str) -> Result<Option<String>, StoreError>;
    /// How many times the account skipped enrolling each authenticator.
    async fn skips(&self, user_id: &str) -> Result<Vec<(AuthenticatorKind, u32)>, StoreError>;
    /// The account's authenticator app.
    async fn totp(&self, user_id: &str) -> Result<Option<StoredTotp>, StoreError>;
    /// The address's lockout for an authenticator (no row: no failures).
    async fn lockout(&self, subject: &Digest, authenticator: AuthenticatorKind) -> Result<Lockout, StoreError>;
    /// Counts an attempt at a guessable answer before it is checked, unless the address
    /// is locked; atomic across instances.
    async fn reserve_attempt(&self, attempt: &AttemptReservation) -> Result<Reservation, StoreError>;
    /// Counts a rate-limit hit and returns the key's counts (see [`crate::limits::judge`]).
    async fn hit(&self, hit: &RateHit) -> Result<crate::limits::Counts, StoreError>;
    /// Whether the browser with this device cookie digest has signed the account in before.
    async fn device_known(&self, user_id: &str, device: &Digest) -> Result<bool, StoreError>;

    /// Uses refresh token `token_hash` of client `client_id` and stores its successor
    /// `next_hash` (same grant, same family, until `next_expires`); a replayed token
    /// revokes its family.
    async fn rotate_refresh(&self, rotation: Rotation<'_>) -> Result<RefreshUse, StoreError>;
    /// The grant and family of a live refresh token (introspection).
    async fn refresh_token(&self, token_hash: &Digest, now: Timestamp) -> Result<Option<(String, String)>, StoreError>;
    async fn revoke_family(&self, id: &str, now: Timestamp) -> Result<(), StoreError>;
    async fn family_revoked(&self, id: &str) -> Result<bool, StoreError>;
    /// Revokes an access token by id until it would have expired anyway.
    async fn revoke_access_token(&self, jti: &str, expires_at: Timestamp) -> Result<(), StoreError>;
    async fn access_token_revoked(&self, jti: &str) -> Result<bool, StoreError>;
    /// Revokes every session and token family of an account.
    async fn revoke_user(&self, user_id: &str, now: Timestamp) -> Result<(), StoreError>;

    /// Outbox emails, newest first, optionally only those to `to`.
    async fn mails(&self, to: Option<&str>, limit: u32) -> Result<Vec<Mail>, StoreError>;

    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    async fn insert_signing_key(&self, key: &StoredKey) -> Result<(), StoreError>;
    /// Inserts a key the rotation plan made from `known` keys of its algorithm, unless
    /// another instance inserted one since (then false, nothing written).
    async fn insert_planned_signing_key(&self, key: &StoredKey, known: u64) -> Result<bool, StoreError>;
    /// Stops a key signing from `at` (it stays published until its tokens expire).
    async fn retire_signing_key(&self, kid: &str, at: Timestamp) -> Result<(), StoreError>;

    /// System log events, oldest first, after sequence number `after`.
    async fn events(&self, after: i64, limit: u32) -> Result<Vec<(i64, StoredEvent)>, StoreError>;
    /// System log events in a range (see [`EventRange`]).
    async fn event_range(&self, range: &EventRange) -> Result<Vec<(i64, StoredEvent)>, StoreError>;

    /// Claims up to `max` SMTP emails that are due and nobody holds, until `until`.
    async fn mail_claim(
        &self,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
        max: u32,
    ) -> Result<Vec<QueuedMail>, StoreError>;
    /// Settles a claimed email (nothing happens if `owner` no longer holds it).
    async fn mail_settle(&self, id: i64, owner: &str, outcome: MailOutcome) -> Result<(), StoreError>;
    async fn mail_queue(&self) -> Result<QueueDepth, StoreError>;
    /// Flows not expired at `now` (for `/metrics`).
    async fn live_flows(&self, now: Timestamp) -> Result<u64, StoreError>;
    /// The store answers and its schema is this binary's (for `/readyz`).
    async fn ready(&self) -> Result<(), StoreError>;
    /// Records a configured hook (a new URL must be verified again).
    async fn hook_sync(&self, name: &str, url: &str) -> Result<(), StoreError>;
    /// Takes or renews the right to deliver a hook until `until`, unless another
    /// instance holds it; returns the hook's state when taken.
    async fn hook_lease(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Option<HookState>, StoreError>;
    /// The hook's batch under way, or a new one of at most `max` waiting deliveries
    /// named `new_id`: (its webhook-id, its events' LogEvent JSON). No events: nothing waits.
    async fn hook_batch(&self, name: &str, new_id: &str, max: u32) -> Result<(String, Vec<String>), StoreError>;
    /// Records an attempt (if any) and what it did to the hook.
    async fn hook_record(
        &self,
        name: &str,
        attempt: Option<&HookAttempt>,
        update: &HookUpdate,
    ) -> Result<(), StoreError>;
    /// Every hook's state, with its waiting deliveries.
    async fn hooks(&self) -> Result<Vec<HookState>, StoreError>;
    /// A hook's latest attempts, newest first.
    async fn hook_attempts(&self, name: &str, limit: u32) -> Result<Vec<HookAttempt>, StoreError>;
    /// Tries a hook's batch (by hook name or webhook-id) now; false if there is none.
    async fn hook_retry_now(&self, name_or_batch: &str) -> Result<bool, StoreError>;

    /// The passkeys of a user, oldest first.
    async fn passkeys_of(&self, user_id: &str) -> Result<Vec<StoredPasskey>, StoreError>;
    async fn passkey(&self, cred_id: &str) -> Result<Option<StoredPasskey>, StoreError>;
    /// The browser options of a live ceremony (not consumed).
    async fn ceremony_options(&self, id: &str, now: Timestamp) -> Result<Option<String>, StoreError>;
    /// Takes a live ceremony's state: it can be taken once.
    async fn take_ceremony(&self, id: &str, now: Timestamp) -> Result<Option<String>, StoreError>;

    /// An account with its status and version.
    async fn account(&self, user_id: &str) -> Result<Option<Account>, StoreError>;
    /// A page of accounts (see [`AccountQuery`]).
    async fn accounts(&self, query: &AccountQuery<'_>) -> Result<Vec<Account>, StoreError>;
    /// Whether the account may sign in, and the store groups it is in (the journey
    /// loads both with the account).
    async fn standing(&self, user_id: &str) -> Result<(AccountStatus, Vec<String>), StoreError>;
    /// The account's live sessions, oldest first.
    async fn sessions_of(&self, user_id: &str, now: Timestamp) -> Result<Vec<StoredSession>, StoreError>;
    /// The account's token families not revoked, oldest first.
    async fn families_of(&self, user_id: &str) -> Result<Vec<FamilyRecord>, StoreError>;
    /// Every group in the store, with its member count.
    async fn groups(&self) -> Result<Vec<StoredGroup>, StoreError>;

    /// Deletes what is past its time (at most [`PURGE_BATCH`] rows of each kind; call
    /// again while rows went); returns how many rows went.
    async fn purge(&self, retention: &Retention) -> Result<u64, StoreError>;
}

/// Opens the store named by `url` (`sqlite://…` or `postgres://…`) and migrates it.
/// PostgreSQL's connection pool (`[store]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// Kept open even when idle.
    pub min_connections: u32,
    /// How long a query waits for a free connection before it fails (a 503).
    pub acquire_timeout: std::time::Duration,
    /// An idle connection past `min_connections` closes after this.
    pub idle_timeout: std::time::Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 16,
            min_connections: 0,
            acquire_timeout: std::time::Duration::from_secs(5),
            idle_timeout: std::time::Duration::from_secs(600),
        }
    }
}

pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_with(url, &PoolSettings::default()).await
}

/// [`open`], with PostgreSQL's pool as configured.
pub async fn open_with(url: &str, pool: &PoolSettings) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open_with(url, pool).await?))
    } else {
        Ok(Arc::new(SqliteStore::open(url).await?))
    }
}

fn profile_json(profile: &BTreeMap<String, String>) -> String {
    serde_json::to_string(profile).expect("a map of strings serialises")
}

fn parse_profile(text: &str) -> Result<BTreeMap<String, String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("user profile: {e}")))
}

/// The rate-limit windows of a hit: (current start, previous start, expiry of the row).
fn windows(hit: &RateHit) -> (Timestamp, Timestamp, Timestamp) {
    let start = crate::limits::window_start(hit.limit, hit.now);
    let width = hit.limit.window.as_millis() as i64;
    (start, Timestamp(start.0 - width), Timestamp(start.0 + 2 * width))
}

/// What an erasure replaces in the system log: the address (as it appears in JSON),
/// with what, and a LIKE pattern for the events that hold it.
/// Ready when every migration this binary knows has run (a newer binary may have run
/// more: they only ever add).
fn migrations_match(applied: i64, expected: usize) -> Result<(), StoreError> {
    if applied < expected as i64 { Err(StoreError::Behind { applied, expected }) } else { Ok(()) }
}

fn erased_from_log(email: &str) -> (String, &'static str, String) {
    let quoted = serde_json::to_string(email).expect("a string serialises");
    let inner = quoted[1..quoted.len() - 1].to_owned();
    let pattern = format!("%{inner}%");
    (inner, ERASED, pattern)
}

/// Where an erased account's address was in the system log.
pub use crate::engine::account::ERASED;

fn digest(bytes: Vec<u8>) -> Result<Digest, StoreError> {
    bytes.try_into().map(Digest).map_err(|_| StoreError::Corrupt("digest is not 32 bytes".into()))
}

#[cfg(test)]
pub(crate) mod tests;
