//! PostgreSQL: for several instances sharing one database.

use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};

use super::{
    Account, AccountChange, AccountQuery, AccountStatus, AccountWrite, AttemptReservation, CodeUse, Commit,
    CountedAttempt, EventRange, FamilyRecord, GroupWrite, HookAttempt, HookState, HookUpdate, Lockout, Mail,
    MailOutcome, PURGE_BATCH, QueueDepth, QueuedMail, RateHit, RefreshUse, Reservation, Retention, Rotation,
    SessionWrite, Store, StoreError, StoredEvent, StoredFlow, StoredGroup, StoredKey, StoredPasskey, StoredRefresh,
    StoredSession, StoredTotp, TotpWrite, digest, parse_profile, profile_json, sql, windows,
};
use crate::authenticators::AuthenticatorKind;
use crate::crypto::Digest;
use crate::engine::{Timestamp, User};
use crate::limits::{self, Counts};

static MIGRATOR: LazyLock<sqlx::migrate::Migrator> = LazyLock::new(super::migrations::postgres);
/// The advisory lock under which scheduled signing keys are made.
const KEYS_LOCK: i64 = 0x7061_7373_6b65_7973; // "passkeys"
/// The `NOTIFY` channel a step's commit names its flow on (see [`Store::watch_flows`]).
const FLOWS_CHANNEL: &str = "passway_flows";

pub struct PostgresStore {
    pub(super) pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` and migrates. A schema other than `public` can be chosen in
    /// the URL: `postgres://…/db?options[search_path]=passway`.
    pub async fn open(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::open_with(url, &super::PoolSettings::default()).await
    }

    /// [`PostgresStore::open`] with the pool as configured. TLS is the URL's:
    /// `?sslmode=verify-full&sslrootcert=/path/ca.pem` (rustls). Instances starting at
    /// once migrate one at a time (sqlx holds an advisory lock while it migrates). A lost
    /// connection is replaced: each is tested before use, so a database restart fails
    /// only the queries under way.
    pub async fn open_with(url: &str, settings: &super::PoolSettings) -> Result<PostgresStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .min_connections(settings.min_connections)
            .acquire_timeout(settings.acquire_timeout)
            .idle_timeout(settings.idle_timeout)
            .test_before_acquire(true)
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PostgresStore { pool })
    }
}

fn stored_event(r: &PgRow) -> Result<(i64, StoredEvent), StoreError> {
    let event = StoredEvent {
        uuid: r.try_get(1)?,
        published: Timestamp(r.try_get(2)?),
        event_type: r.try_get(3)?,
        body: r.try_get(4)?,
        hooks: vec![],
    };
    Ok((r.try_get(0)?, event))
}

fn hook_state(r: &PgRow) -> Result<HookState, StoreError> {
    Ok(HookState {
        name: r.try_get(0)?,
        url: r.try_get(1)?,
        status: r.try_get(2)?,
        reason: r.try_get(3)?,
        verified_at: r.try_get::<Option<i64>, _>(4)?.map(Timestamp),
        batch: r.try_get(5)?,
        attempts: r.try_get::<i32, _>(6)?.max(0) as u32,
        next_attempt_at: Timestamp(r.try_get(7)?),
        failing_since: r.try_get::<Option<i64>, _>(8)?.map(Timestamp),
        lease_owner: r.try_get(9)?,
        lease_until: Timestamp(r.try_get(10)?),
        pending: 0,
        oldest: None,
    })
}

fn flow(r: &PgRow) -> Result<StoredFlow, StoreError> {
    Ok(StoredFlow {
        id: r.try_get(0)?,
        handle_hash: digest(r.try_get(1)?)?,
        state: r.try_get(2)?,
        version: r.try_get(3)?,
        expires_at: Timestamp(r.try_get(4)?),
    })
}

fn user(r: &PgRow) -> Result<User, StoreError> {
    let profile: String = r.try_get(2)?;
    Ok(User { id: r.try_get(0)?, email: r.try_get(1)?, profile: parse_profile(&profile)? })
}

fn session(r: &PgRow) -> Result<StoredSession, StoreError> {
    Ok(StoredSession {
        id: r.try_get(0)?,
        secret_hash: digest(r.try_get(1)?)?,
        user_id: r.try_get(2)?,
        proofs: r.try_get(3)?,
        created_at: Timestamp(r.try_get(4)?),
        last_seen_at: Timestamp(r.try_get(5)?),
        expires_at: Timestamp(r.try_get(6)?),
        revoked_at: r.try_get::<Option<i64>, _>(7)?.map(Timestamp),
        browser: r.try_get(8)?,
        ip: r.try_get(9)?,
    })
}

fn account(r: &PgRow) -> Result<Account, StoreError> {
    let status: String = r.try_get(3)?;
    Ok(Account {
        user: user(r)?,
        status: AccountStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("account status {status:?}")))?,
        version: r.try_get(4)?,
        created_at: Timestamp(r.try_get(5)?),
        updated_at: Timestamp(r.try_get(6)?),
    })
}

fn passkey(r: &PgRow) -> Result<StoredPasskey, StoreError> {
    Ok(StoredPasskey {
        cred_id: r.try_get(0)?,
        user_id: r.try_get(1)?,
        name: r.try_get(2)?,
        passkey: r.try_get(3)?,
        created_at: Timestamp(r.try_get(4)?),
        last_used_at: r.try_get::<Option<i64>, _>(5)?.map(Timestamp),
    })
}

fn duplicate(e: sqlx::Error, what: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate(what),
        _ => StoreError::Database(e),
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn insert_flow(&self, f: &StoredFlow) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT_FLOW)
            .bind(&f.id)
            .bind(&f.handle_hash.0[..])
            .bind(&f.state)
            .bind(f.version)
            .bind(f.expires_at.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn flow_by_handle(&self, handle_hash: &Digest) -> Result<Option<StoredFlow>, StoreError> {
        let row = sqlx::query(sql::FLOW_BY_HANDLE).bind(&handle_hash.0[..]).fetch_optional(&self.pool).await?;
        row.as_ref().map(flow).transpose()
    }

    async fn flow_by_id(&self, id: &str) -> Result<Option<StoredFlow>, StoreError> {
        let row = sqlx::query(sql::FLOW_BY_ID).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(flow).transpose()
    }

    async fn flow_version(&self, id: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(sql::FLOW_VERSION).bind(id).fetch_optional(&self.pool).await?)
    }

    async fn commit(&self, c: Commit) -> Result<(), StoreError> {
        if c.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        if let Some((id, version, state, expires_at)) = &c.flow {
            let done = sqlx::query(sql::UPDATE_FLOW)
                .bind(state)
                .bind(expires_at.0)
                .bind(id)
                .bind(version)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict);
            }
            // Delivered to every instance's listener when (and only if) this commits.
            sqlx::query("SELECT pg_notify($1, $2)").bind(FLOWS_CHANNEL).bind(id).execute(&mut *tx).await?;
        }
        for u in &c.users {
            sqlx::query(sql::INSERT_USER)
                .bind(&u.id)
                .bind(&u.email)
                .bind(profile_json(&u.profile))
                .bind(u.created_at.0)
                .execute(&mut *tx)
                .await
                .map_err(|e| duplicate(e, "an account with this email"))?;
        }
        for (user_id, device, at) in &c.devices {
            sqlx::query(sql::UPSERT_DEVICE).bind(user_id).bind(&device.0[..]).bind(at.0).execute(&mut *tx).await?;
        }
        for (id, profile, at) in &c.profiles {
            sqlx::query(sql::UPDATE_PROFILE).bind(profile_json(profile)).bind(at.0).bind(id).execute(&mut *tx).await?;
        }
        for (user_id, hash, at) in &c.passwords {
            sqlx::query(sql::UPSERT_PASSWORD).bind(user_id).bind(hash).bind(at.0).execute(&mut *tx).await?;
        }
        for (user_id, kind) in &c.skips {
            sqlx::query(sql::COUNT_SKIP).bind(user_id).bind(kind.key()).execute(&mut *tx).await?;
        }
        for w in &c.totp {
            match w {
                TotpWrite::Set { user_id, sealed_secret, last_step, at } => {
                    sqlx::query(sql::UPSERT_TOTP)
                        .bind(user_id)
                        .bind(sealed_secret)
                        .bind(last_step)
                        .bind(at.0)
                        .execute(&mut *tx)
                        .await?;
                }
                TotpWrite::Used { user_id, step } => {
                    let done = sqlx::query(sql::TOTP_USED).bind(step).bind(user_id).execute(&mut *tx).await?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::Conflict);
                    }
                }
            }
        }
        if let Some(counted) = &c.attempt {
            count_attempt(&mut tx, counted).await?;
        }
        for (subject, authenticator) in &c.cleared_lockouts {
            sqlx::query(sql::LOCKOUT_CLEARED).bind(&subject.0[..]).bind(authenticator.key()).execute(&mut *tx).await?;
        }
        for hit in &c.rate_hits {
            let counts = count_hit(&mut tx, hit).await?;
            if let limits::Verdict::Limited { retry_after, .. } = limits::judge(hit.limit, counts, hit.now) {
                return Err(StoreError::Limited { retry_after });
            }
        }
        for id in &c.dropped_ceremonies {
            sqlx::query(sql::DELETE_CEREMONY).bind(id).execute(&mut *tx).await?;
        }
        // Before the sessions below: a reset revokes the old ones, then signs in anew.
        for (user_id, at) in &c.revocations {
            sqlx::query(sql::REVOKE_USER_SESSIONS).bind(at.0).bind(user_id).execute(&mut *tx).await?;
            sqlx::query(sql::REVOKE_USER_FAMILIES).bind(at.0).bind(user_id).execute(&mut *tx).await?;
        }
        for code in &c.codes {
            sqlx::query(sql::INSERT_CODE)
                .bind(&code.code_hash.0[..])
                .bind(&code.grant)
                .bind(code.expires_at.0)
                .execute(&mut *tx)
                .await?;
        }
        for m in &c.mails {
            sqlx::query(sql::INSERT_MAIL)
                .bind(&m.to)
                .bind(&m.subject)
                .bind(&m.text)
                .bind(&m.html)
                .bind(m.sent_at.0)
                .execute(&mut *tx)
                .await?;
        }
        for m in &c.queued_mails {
            sqlx::query(sql::QUEUE_MAIL).bind(&m.to).bind(&m.sealed).bind(m.created_at.0).execute(&mut *tx).await?;
        }
        for e in &c.events {
            sqlx::query(sql::INSERT_EVENT)
                .bind(&e.uuid)
                .bind(e.published.0)
                .bind(&e.event_type)
                .bind(&e.body)
                .execute(&mut *tx)
                .await?;
            for hook in &e.hooks {
                sqlx::query(sql::INSERT_HOOK_OUTBOX)
                    .bind(hook)
                    .bind(&e.uuid)
                    .bind(e.published.0)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for ceremony in &c.ceremonies {
            sqlx::query(sql::INSERT_CEREMONY)
                .bind(&ceremony.id)
                .bind(&ceremony.state)
                .bind(&ceremony.options)
                .bind(ceremony.expires_at.0)
                .execute(&mut *tx)
                .await?;
        }
        for p in &c.passkeys {
            sqlx::query(sql::INSERT_PASSKEY)
                .bind(&p.cred_id)
                .bind(&p.user_id)
                .bind(&p.name)
                .bind(&p.passkey)
                .bind(p.created_at.0)
                .execute(&mut *tx)
                .await
                .map_err(|e| duplicate(e, "a passkey with this credential ID"))?;
        }
        for u in &c.passkey_uses {
            sqlx::query(sql::USE_PASSKEY).bind(u.at.0).bind(&u.passkey).bind(&u.cred_id).execute(&mut *tx).await?;
        }
        for w in &c.sessions {
            match w {
                SessionWrite::Create(s) => {
                    sqlx::query(sql::INSERT_SESSION)
                        .bind(&s.id)
                        .bind(&s.secret_hash.0[..])
                        .bind(&s.user_id)
                        .bind(&s.proofs)
                        .bind(s.created_at.0)
                        .bind(s.last_seen_at.0)
                        .bind(s.expires_at.0)
                        .bind(&s.browser)
                        .bind(&s.ip)
                        .execute(&mut *tx)
                        .await?
                }
                SessionWrite::Touch { id, proofs, last_seen_at } => {
                    sqlx::query(sql::TOUCH_SESSION).bind(proofs).bind(last_seen_at.0).bind(id).execute(&mut *tx).await?
                }
                SessionWrite::Revoke { id, at } => {
                    sqlx::query(sql::REVOKE_SESSION).bind(at.0).bind(id).execute(&mut *tx).await?
                }
            };
        }
        for consent in &c.consents {
            sqlx::query(sql::UPSERT_CONSENT)
                .bind(&consent.user_id)
                .bind(&consent.client_id)
                .bind(&consent.scope)
                .bind(consent.granted_at.0)
                .execute(&mut *tx)
                .await?;
        }
        for f in &c.families {
            sqlx::query(sql::INSERT_FAMILY)
                .bind(&f.id)
                .bind(&f.client_id)
                .bind(&f.user_id)
                .bind(f.created_at.0)
                .execute(&mut *tx)
                .await?;
        }
        for r in &c.refresh_tokens {
            insert_refresh(&mut tx, r).await?;
        }
        for g in &c.groups {
            write_group(&mut tx, g).await?;
        }
        for a in &c.accounts {
            write_account(&mut tx, a).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(sql::USER_BY_EMAIL).bind(email).fetch_optional(&self.pool).await?;
        row.as_ref().map(user).transpose()
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(sql::USER_BY_ID).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(user).transpose()
    }

    async fn live_code(&self, code_hash: &Digest, now: Timestamp) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(sql::LIVE_CODE).bind(&code_hash.0[..]).bind(now.0).fetch_optional(&self.pool).await?)
    }

    async fn use_code(&self, code_hash: &Digest, now: Timestamp, family: &str) -> Result<CodeUse, StoreError> {
        let mut tx = self.pool.begin().await?;
        let fresh: Option<String> = sqlx::query_scalar(sql::USE_CODE)
            .bind(now.0)
            .bind(family)
            .bind(&code_hash.0[..])
            .fetch_optional(&mut *tx)
            .await?;
        let answer = match fresh {
            Some(grant) => CodeUse::Fresh(grant),
            None => match sqlx::query(sql::CODE_STATE).bind(&code_hash.0[..]).fetch_optional(&mut *tx).await? {
                None => CodeUse::Unknown,
                Some(r) => match r.try_get::<Option<i64>, _>(1)? {
                    Some(_) => CodeUse::Replayed { family: r.try_get(0)? },
                    None => CodeUse::Expired,
                },
            },
        };
        tx.commit().await?;
        Ok(answer)
    }

    async fn mails(&self, to: Option<&str>, limit: u32) -> Result<Vec<Mail>, StoreError> {
        let limit = i64::from(limit);
        let rows = match to {
            Some(to) => sqlx::query(sql::MAILS_TO).bind(to).bind(limit).fetch_all(&self.pool).await?,
            None => sqlx::query(sql::MAILS).bind(limit).fetch_all(&self.pool).await?,
        };
        rows.iter()
            .map(|r| {
                Ok(Mail {
                    id: r.try_get(0)?,
                    to: r.try_get(1)?,
                    subject: r.try_get(2)?,
                    text: r.try_get(3)?,
                    html: r.try_get(4)?,
                    sent_at: Timestamp(r.try_get(5)?),
                })
            })
            .collect()
    }

    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = sqlx::query(sql::SIGNING_KEYS).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(StoredKey {
                    kid: r.try_get(0)?,
                    alg: r.try_get(1)?,
                    created_at: Timestamp(r.try_get(2)?),
                    sealed_private: r.try_get(3)?,
                    public_jwk: r.try_get(4)?,
                    activates_at: Timestamp(r.try_get(5)?),
                    retires_at: r.try_get::<Option<i64>, _>(6)?.map(Timestamp),
                })
            })
            .collect()
    }

    async fn insert_planned_signing_key(&self, k: &StoredKey, known: u64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Read committed would let two instances count the same keys: one at a time.
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(KEYS_LOCK).execute(&mut *tx).await?;
        let done = sqlx::query(sql::INSERT_PLANNED_SIGNING_KEY)
            .bind(&k.kid)
            .bind(&k.alg)
            .bind(k.created_at.0)
            .bind(&k.sealed_private)
            .bind(&k.public_jwk)
            .bind(k.activates_at.0)
            .bind(k.retires_at.map(|t| t.0))
            .bind(known as i64)
            .execute(&mut *tx)
            .await
            .map_err(|e| duplicate(e, "a signing key with this kid"))?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_signing_key(&self, k: &StoredKey) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT_SIGNING_KEY)
            .bind(&k.kid)
            .bind(&k.alg)
            .bind(k.created_at.0)
            .bind(&k.sealed_private)
            .bind(&k.public_jwk)
            .bind(k.activates_at.0)
            .bind(k.retires_at.map(|t| t.0))
            .execute(&self.pool)
            .await
            .map_err(|e| duplicate(e, "a signing key with this kid"))?;
        Ok(())
    }

    async fn retire_signing_key(&self, kid: &str, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query(sql::RETIRE_SIGNING_KEY).bind(at.0).bind(kid).execute(&self.pool).await?;
        Ok(())
    }

    async fn session(&self, secret_hash: &Digest, now: Timestamp) -> Result<Option<StoredSession>, StoreError> {
        let row = sqlx::query(sql::SESSION).bind(&secret_hash.0[..]).bind(now.0).fetch_optional(&self.pool).await?;
        row.as_ref().map(session).transpose()
    }

    async fn revoke_session(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query(sql::REVOKE_SESSION).bind(now.0).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    async fn password(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(sql::PASSWORD).bind(user_id).fetch_optional(&self.pool).await?)
    }

    async fn skips(&self, user_id: &str) -> Result<Vec<(AuthenticatorKind, u32)>, StoreError> {
        let rows: Vec<(String, i32)> = sqlx::query_as(sql::SKIPS).bind(user_id).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(key, n)| AuthenticatorKind::from_key(&key).map(|k| (k, n.max(0) as u32)))
            .collect())
    }

    async fn totp(&self, user_id: &str) -> Result<Option<StoredTotp>, StoreError> {
        let row: Option<(Vec<u8>, i64)> = sqlx::query_as(sql::TOTP).bind(user_id).fetch_optional(&self.pool).await?;
        Ok(row.map(|(sealed_secret, last_step)| StoredTotp { sealed_secret, last_step }))
    }

    async fn lockout(&self, subject: &Digest, authenticator: AuthenticatorKind) -> Result<Lockout, StoreError> {
        let row: Option<(i32, Option<i64>)> = sqlx::query_as(sql::LOCKOUT)
            .bind(&subject.0[..])
            .bind(authenticator.key())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map_or_else(Lockout::default, |(failures, locked_until)| Lockout {
            failures: failures.max(0) as u32,
            locked_until: locked_until.map(Timestamp),
        }))
    }

    async fn reserve_attempt(&self, a: &AttemptReservation) -> Result<Reservation, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (subject, kind) = (&a.subject.0[..], a.authenticator.key());
        let reserve = || {
            sqlx::query_scalar(sql::RESERVE_ATTEMPT)
                .bind(a.limit as i32)
                .bind(a.lock_until.0)
                .bind(a.now.0)
                .bind(subject)
                .bind(kind)
        };
        // Counted: the row's new lock (set when this attempt was the last in a row).
        let mut counted: Option<Option<i64>> = reserve().fetch_optional(&mut *tx).await?;
        if counted.is_none() {
            counted = sqlx::query_scalar(sql::FIRST_ATTEMPT)
                .bind(subject)
                .bind(kind)
                .bind(a.limit as i32)
                .bind(a.lock_until.0)
                .bind(a.now.0)
                .fetch_optional(&mut *tx)
                .await?;
            // No row inserted: another request made it meanwhile; count on it.
            if counted.is_none() {
                counted = reserve().fetch_optional(&mut *tx).await?;
            }
        }
        let reservation = if let Some(locked) = counted {
            Reservation::Granted { locks: locked.is_some() }
        } else {
            let row: (i32, Option<i64>) =
                sqlx::query_as(sql::LOCKOUT).bind(subject).bind(kind).fetch_one(&mut *tx).await?;
            Reservation::Locked { until: Timestamp(row.1.unwrap_or(a.now.0)) }
        };
        tx.commit().await?;
        Ok(reservation)
    }

    async fn hit(&self, hit: &RateHit) -> Result<Counts, StoreError> {
        let mut tx = self.pool.begin().await?;
        let counts = count_hit(&mut tx, hit).await?;
        tx.commit().await?;
        Ok(counts)
    }

    async fn device_known(&self, user_id: &str, device: &Digest) -> Result<bool, StoreError> {
        let row: Option<i32> =
            sqlx::query_scalar(sql::DEVICE_KNOWN).bind(user_id).bind(&device.0[..]).fetch_optional(&self.pool).await?;
        Ok(row.is_some())
    }

    async fn consent(&self, user_id: &str, client_id: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(sql::CONSENT).bind(user_id).bind(client_id).fetch_optional(&self.pool).await?)
    }

    async fn rotate_refresh(&self, r: Rotation<'_>) -> Result<RefreshUse, StoreError> {
        let mut tx = self.pool.begin().await?;
        let used = sqlx::query(sql::USE_REFRESH)
            .bind(r.now.0)
            .bind(&r.token_hash.0[..])
            .bind(r.client_id)
            .fetch_optional(&mut *tx)
            .await?;
        let answer = if let Some(row) = used {
            let (grant, family): (String, String) = (row.try_get(0)?, row.try_get(1)?);
            let next = StoredRefresh {
                token_hash: *r.next_hash,
                family_id: family.clone(),
                grant: grant.clone(),
                issued_at: r.now,
                expires_at: r.next_expires,
            };
            insert_refresh(&mut tx, &next).await?;
            RefreshUse::Rotated(grant, family)
        } else {
            let state = sqlx::query(sql::REFRESH_STATE).bind(&r.token_hash.0[..]).fetch_optional(&mut *tx).await?;
            match state {
                Some(row) if row.try_get::<Option<i64>, _>(1)?.is_some() => {
                    let family: String = row.try_get(0)?;
                    sqlx::query(sql::REVOKE_FAMILY).bind(r.now.0).bind(&family).execute(&mut *tx).await?;
                    RefreshUse::Reused(family)
                }
                _ => RefreshUse::Invalid,
            }
        };
        tx.commit().await?;
        Ok(answer)
    }

    async fn refresh_token(&self, token_hash: &Digest, now: Timestamp) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query(sql::LIVE_REFRESH).bind(&token_hash.0[..]).bind(now.0).fetch_optional(&self.pool).await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    async fn revoke_family(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query(sql::REVOKE_FAMILY).bind(now.0).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    async fn family_revoked(&self, id: &str) -> Result<bool, StoreError> {
        let row: Option<Option<i64>> =
            sqlx::query_scalar(sql::FAMILY_REVOKED).bind(id).fetch_optional(&self.pool).await?;
        // An unknown family is as good as revoked.
        Ok(!matches!(row, Some(None)))
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        sqlx::query(sql::REVOKE_ACCESS_TOKEN).bind(jti).bind(expires_at.0).execute(&self.pool).await?;
        Ok(())
    }

    async fn access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        let row: Option<i32> =
            sqlx::query_scalar(sql::ACCESS_TOKEN_REVOKED).bind(jti).fetch_optional(&self.pool).await?;
        Ok(row.is_some())
    }

    async fn revoke_user(&self, user_id: &str, now: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(sql::REVOKE_USER_SESSIONS).bind(now.0).bind(user_id).execute(&mut *tx).await?;
        sqlx::query(sql::REVOKE_USER_FAMILIES).bind(now.0).bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn events(&self, after: i64, limit: u32) -> Result<Vec<(i64, StoredEvent)>, StoreError> {
        let rows = sqlx::query(sql::EVENTS_AFTER).bind(after).bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.iter().map(stored_event).collect()
    }

    async fn event_range(&self, r: &EventRange) -> Result<Vec<(i64, StoredEvent)>, StoreError> {
        let (since, until) = (r.since.map_or(i64::MIN, |t| t.0), r.until.map_or(i64::MAX, |t| t.0));
        let bound: Option<i64> = match (r.after, r.descending) {
            (Some(after), _) => Some(after),
            (None, false) => sqlx::query_scalar::<_, Option<i64>>(sql::FIRST_EVENT_SINCE)
                .bind(since)
                .fetch_one(&self.pool)
                .await?
                .map(|first| first - 1),
            (None, true) => sqlx::query_scalar::<_, Option<i64>>(sql::LAST_EVENT_BEFORE)
                .bind(until)
                .fetch_one(&self.pool)
                .await?
                .map(|last| last + 1),
        };
        let Some(bound) = bound else { return Ok(vec![]) };
        let statement = if r.descending { sql::EVENTS_DOWN } else { sql::EVENTS_UP };
        let rows = sqlx::query(statement)
            .bind(bound)
            .bind(since)
            .bind(until)
            .bind(i64::from(r.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(stored_event).collect()
    }

    async fn hook_sync(&self, name: &str, url: &str) -> Result<(), StoreError> {
        sqlx::query(sql::HOOK_SYNC).bind(name).bind(url).execute(&self.pool).await?;
        Ok(())
    }

    async fn hook_lease(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Option<HookState>, StoreError> {
        let row = sqlx::query(sql::HOOK_LEASE)
            .bind(owner)
            .bind(until.0)
            .bind(name)
            .bind(now.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(hook_state).transpose()
    }

    async fn hook_batch(&self, name: &str, new_id: &str, max: u32) -> Result<(String, Vec<String>), StoreError> {
        let mut tx = self.pool.begin().await?;
        // One instance delivers a hook (its lease), but the row is locked all the same.
        let current: Option<Option<String>> =
            sqlx::query_scalar(sql::HOOK_CURRENT_BATCH_LOCKED).bind(name).fetch_optional(&mut *tx).await?;
        let batch = match current.flatten() {
            Some(batch) => batch,
            None => {
                let assigned = sqlx::query(sql::HOOK_BATCH_ASSIGN)
                    .bind(new_id)
                    .bind(name)
                    .bind(i64::from(max))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if assigned == 0 {
                    tx.commit().await?;
                    return Ok((new_id.to_owned(), vec![]));
                }
                sqlx::query(sql::HOOK_BATCH_SET).bind(new_id).bind(name).execute(&mut *tx).await?;
                new_id.to_owned()
            }
        };
        let bodies: Vec<String> = sqlx::query_scalar(sql::HOOK_BATCH_EVENTS).bind(&batch).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok((batch, bodies))
    }

    async fn hook_record(
        &self,
        name: &str,
        attempt: Option<&HookAttempt>,
        update: &HookUpdate,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        if let Some(a) = attempt {
            sqlx::query(sql::INSERT_HOOK_ATTEMPT)
                .bind(&a.hook)
                .bind(&a.webhook_id)
                .bind(a.at.0)
                .bind(a.events as i32)
                .bind(a.status.map(i32::from))
                .bind(a.latency_ms.min(i32::MAX as u32) as i32)
                .bind(&a.error)
                .execute(&mut *tx)
                .await?;
        }
        match update {
            HookUpdate::Verified { at } => {
                sqlx::query(sql::HOOK_VERIFIED).bind(at.0).bind(name).execute(&mut *tx).await?;
            }
            HookUpdate::Unverified { reason, retry_at } => {
                sqlx::query(sql::HOOK_UNVERIFIED).bind(reason).bind(retry_at.0).bind(name).execute(&mut *tx).await?;
            }
            HookUpdate::Delivered { batch } => {
                sqlx::query(sql::HOOK_BATCH_DELIVERED).bind(batch).execute(&mut *tx).await?;
                sqlx::query(sql::HOOK_DELIVERED).bind(name).execute(&mut *tx).await?;
            }
            HookUpdate::Failed { now, next_attempt_at, status, reason } => {
                sqlx::query(sql::HOOK_FAILED)
                    .bind(next_attempt_at.0)
                    .bind(now.0)
                    .bind(*status)
                    .bind(reason)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    fn watch_flows(&self, on_change: Box<dyn Fn(&str) + Send + Sync>) {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let mut again = false;
            while !pool.is_closed() {
                let listening = async {
                    let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
                    listener.listen(FLOWS_CHANNEL).await?;
                    if std::mem::replace(&mut again, true) {
                        on_change(""); // what was committed meanwhile was not heard
                    }
                    loop {
                        match listener.try_recv().await? {
                            Some(heard) => on_change(heard.payload()),
                            // The connection was lost (it is made again on the next call):
                            // what committed meanwhile was not heard.
                            None => on_change(""),
                        }
                    }
                };
                let e: sqlx::Error = match listening.await {
                    Err(e) => e,
                    Ok::<std::convert::Infallible, _>(never) => match never {},
                };
                if !pool.is_closed() {
                    // Until it is back, event streams poll (they always do, every 2 s).
                    tracing::warn!(error = %e, "listening for flow changes; again in a second");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        });
    }

    async fn mail_claim(
        &self,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
        max: u32,
    ) -> Result<Vec<QueuedMail>, StoreError> {
        let rows = sqlx::query(sql::CLAIM_MAIL)
            .bind(owner)
            .bind(until.0)
            .bind(now.0)
            .bind(i64::from(max))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(QueuedMail {
                    id: r.try_get(0)?,
                    to: r.try_get(1)?,
                    sealed: r.try_get(2)?,
                    created_at: Timestamp(r.try_get(3)?),
                    attempts: r.try_get::<i32, _>(4)?.max(0) as u32,
                })
            })
            .collect()
    }

    async fn mail_settle(&self, id: i64, owner: &str, outcome: MailOutcome) -> Result<(), StoreError> {
        let query = match &outcome {
            MailOutcome::Done => sqlx::query(sql::MAIL_DONE).bind(id).bind(owner),
            MailOutcome::Retry { at, error } => {
                sqlx::query(sql::MAIL_RETRY).bind(at.0).bind(error.as_str()).bind(id).bind(owner)
            }
            MailOutcome::Released => sqlx::query(sql::MAIL_RELEASE).bind(id).bind(owner),
        };
        query.execute(&self.pool).await?;
        Ok(())
    }

    async fn live_flows(&self, now: Timestamp) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(sql::LIVE_FLOWS).bind(now.0).fetch_one(&self.pool).await?;
        Ok(n.max(0) as u64)
    }

    async fn ready(&self) -> Result<(), StoreError> {
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success").fetch_one(&self.pool).await?;
        super::migrations_match(applied, MIGRATOR.iter().count())
    }

    async fn mail_queue(&self) -> Result<QueueDepth, StoreError> {
        let row = sqlx::query(sql::MAIL_QUEUE_DEPTH).fetch_one(&self.pool).await?;
        Ok(QueueDepth {
            count: row.try_get::<i64, _>(0)?.max(0) as u64,
            oldest: row.try_get::<Option<i64>, _>(1)?.map(Timestamp),
        })
    }

    async fn hooks(&self) -> Result<Vec<HookState>, StoreError> {
        let rows = sqlx::query(sql::HOOKS).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let mut state = hook_state(r)?;
                state.pending = r.try_get::<i64, _>(11)?.max(0) as u64;
                state.oldest = r.try_get::<Option<i64>, _>(12)?.map(Timestamp);
                Ok(state)
            })
            .collect()
    }

    async fn hook_attempts(&self, name: &str, limit: u32) -> Result<Vec<HookAttempt>, StoreError> {
        let rows = sqlx::query(sql::HOOK_ATTEMPTS).bind(name).bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(HookAttempt {
                    hook: r.try_get(0)?,
                    webhook_id: r.try_get(1)?,
                    at: Timestamp(r.try_get(2)?),
                    events: r.try_get::<i32, _>(3)?.max(0) as u32,
                    status: r.try_get::<Option<i32>, _>(4)?.map(|s| s.clamp(0, 999) as u16),
                    latency_ms: r.try_get::<i32, _>(5)?.max(0) as u32,
                    error: r.try_get(6)?,
                })
            })
            .collect()
    }

    async fn hook_retry_now(&self, name_or_batch: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query(sql::HOOK_RETRY_NOW).bind(name_or_batch).execute(&self.pool).await?.rows_affected() > 0)
    }

    async fn account(&self, user_id: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(sql::ACCOUNT).bind(user_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(account).transpose()
    }

    async fn accounts(&self, q: &AccountQuery<'_>) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(sql::ACCOUNTS)
            .bind(q.email_prefix)
            .bind(q.status.map(AccountStatus::as_str))
            .bind(q.group)
            .bind(q.after.unwrap_or(""))
            .bind(i64::from(q.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(account).collect()
    }

    async fn standing(&self, user_id: &str) -> Result<(AccountStatus, Vec<String>), StoreError> {
        let status: Option<String> =
            sqlx::query_scalar(sql::ACCOUNT_STATUS).bind(user_id).fetch_optional(&self.pool).await?;
        let groups: Vec<String> = sqlx::query_scalar(sql::GROUPS_OF).bind(user_id).fetch_all(&self.pool).await?;
        Ok((status.as_deref().and_then(AccountStatus::parse).unwrap_or(AccountStatus::Deactivated), groups))
    }

    async fn sessions_of(&self, user_id: &str, now: Timestamp) -> Result<Vec<StoredSession>, StoreError> {
        let rows = sqlx::query(sql::SESSIONS_OF).bind(user_id).bind(now.0).fetch_all(&self.pool).await?;
        rows.iter().map(session).collect()
    }

    async fn families_of(&self, user_id: &str) -> Result<Vec<FamilyRecord>, StoreError> {
        let rows = sqlx::query(sql::FAMILIES_OF).bind(user_id).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(FamilyRecord { id: r.try_get(0)?, client_id: r.try_get(1)?, created_at: Timestamp(r.try_get(2)?) })
            })
            .collect()
    }

    async fn groups(&self) -> Result<Vec<StoredGroup>, StoreError> {
        let rows = sqlx::query(sql::GROUPS).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(StoredGroup {
                    name: r.try_get(0)?,
                    description: r.try_get(1)?,
                    created_at: Timestamp(r.try_get(2)?),
                    members: r.try_get::<i64, _>(3)? as u64,
                })
            })
            .collect()
    }

    async fn passkeys_of(&self, user_id: &str) -> Result<Vec<StoredPasskey>, StoreError> {
        let rows = sqlx::query(sql::PASSKEYS_OF).bind(user_id).fetch_all(&self.pool).await?;
        rows.iter().map(passkey).collect()
    }

    async fn passkey(&self, cred_id: &str) -> Result<Option<StoredPasskey>, StoreError> {
        let row = sqlx::query(sql::PASSKEY).bind(cred_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(passkey).transpose()
    }

    async fn ceremony_options(&self, id: &str, now: Timestamp) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(sql::CEREMONY_OPTIONS).bind(id).bind(now.0).fetch_optional(&self.pool).await?)
    }

    async fn take_ceremony(&self, id: &str, now: Timestamp) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(sql::TAKE_CEREMONY).bind(id).bind(now.0).fetch_optional(&self.pool).await?)
    }

    async fn purge(&self, retention: &Retention) -> Result<u64, StoreError> {
        let mut gone = 0;
        for (cutoff, statement) in sql::PURGES {
            let done = sqlx::query(*statement)
                .bind(retention.cutoff(*cutoff).0)
                .bind(i64::from(PURGE_BATCH))
                .execute(&self.pool)
                .await?;
            gone += done.rows_affected();
        }
        Ok(gone)
    }
}

/// Counts the step's attempt if the address's count is still the one read (a row
/// locked by a racing update is re-read after it commits: READ COMMITTED).
async fn count_attempt(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    counted: &CountedAttempt,
) -> Result<(), StoreError> {
    let a = &counted.attempt;
    let (subject, kind) = (&a.subject.0[..], a.authenticator.key());
    let updated = sqlx::query(sql::COUNT_ATTEMPT)
        .bind(a.limit as i32)
        .bind(a.lock_until.0)
        .bind(a.now.0)
        .bind(subject)
        .bind(kind)
        .bind(counted.seen_failures as i32)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if updated == 1 {
        return Ok(());
    }
    if counted.seen_failures == 0 {
        let inserted: Option<Option<i64>> = sqlx::query_scalar(sql::FIRST_ATTEMPT)
            .bind(subject)
            .bind(kind)
            .bind(a.limit as i32)
            .bind(a.lock_until.0)
            .bind(a.now.0)
            .fetch_optional(&mut **tx)
            .await?;
        if inserted.is_some() {
            return Ok(());
        }
    }
    Err(StoreError::AttemptRaced)
}

/// Counts a rate-limit hit in the transaction.
async fn count_hit(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, hit: &RateHit) -> Result<Counts, StoreError> {
    let (start, previous_start, expires_at) = windows(hit);
    let (window_start, current, previous): (i64, i32, i32) = sqlx::query_as(sql::RATE_HIT)
        .bind(&hit.key.0[..])
        .bind(start.0)
        .bind(expires_at.0)
        .bind(previous_start.0)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Counts {
        window_start: Timestamp(window_start),
        current: current.max(0) as u32,
        previous: previous.max(0) as u32,
    })
}

async fn insert_refresh(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, r: &StoredRefresh) -> Result<(), StoreError> {
    sqlx::query(sql::INSERT_REFRESH)
        .bind(&r.token_hash.0[..])
        .bind(&r.family_id)
        .bind(&r.grant)
        .bind(r.issued_at.0)
        .bind(r.expires_at.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Postgres>;

/// Runs `sql` bound to `args` (all text or integers) and returns the rows it changed.
macro_rules! exec {
    ($tx:expr, $sql:expr $(, $arg:expr)*) => {
        sqlx::query($sql)$(.bind($arg))*.execute(&mut **$tx).await?.rows_affected()
    };
}

/// One admin change, in the commit's transaction.
async fn write_account(tx: &mut Tx<'_>, w: &AccountWrite) -> Result<(), StoreError> {
    let user = w.user_id.as_str();
    if exec!(tx, sql::BUMP_ACCOUNT, w.at.0, user, w.version) != 1 {
        let exists: Option<String> =
            sqlx::query_scalar(sql::ACCOUNT_STATUS).bind(user).fetch_optional(&mut **tx).await?;
        return Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound("account") });
    }
    let changed = |n: u64, what: &'static str| if n == 0 { Err(StoreError::NotFound(what)) } else { Ok(()) };
    match &w.change {
        AccountChange::Status(status) => {
            exec!(tx, sql::SET_STATUS, status.as_str(), user);
        }
        AccountChange::Profile(profile) => {
            exec!(tx, sql::UPDATE_PROFILE, profile_json(profile), w.at.0, user);
        }
        AccountChange::RenamePasskey { cred_id, name } => {
            changed(exec!(tx, sql::RENAME_PASSKEY, name, cred_id, user), "passkey")?
        }
        AccountChange::RemovePasskey { cred_id } => changed(exec!(tx, sql::REMOVE_PASSKEY, cred_id, user), "passkey")?,
        AccountChange::RemoveTotp => changed(exec!(tx, sql::REMOVE_TOTP, user), "authenticator app")?,
        AccountChange::RemovePassword => changed(exec!(tx, sql::REMOVE_PASSWORD, user), "password")?,
        AccountChange::RevokeSession { id } => changed(exec!(tx, sql::REVOKE_SESSION_OF, w.at.0, id, user), "session")?,
        AccountChange::RemovePasskeysBut { keep } => {
            exec!(tx, sql::REMOVE_PASSKEYS_BUT, user, keep);
        }
        AccountChange::RevokeOtherSessions { keep } => {
            exec!(tx, sql::REVOKE_OTHER_SESSIONS, w.at.0, user, keep.as_deref().unwrap_or(""));
        }
        AccountChange::RevokeFamily { id } => {
            changed(exec!(tx, sql::REVOKE_FAMILY_OF, w.at.0, id, user), "token family")?
        }
        AccountChange::JoinGroup { group } => {
            let exists: Option<i32> =
                sqlx::query_scalar(sql::GROUP_EXISTS).bind(group).fetch_optional(&mut **tx).await?;
            if exists.is_none() {
                return Err(StoreError::NotFound("group"));
            }
            exec!(tx, sql::JOIN_GROUP, group, user, w.at.0);
        }
        AccountChange::LeaveGroup { group } => changed(exec!(tx, sql::LEAVE_GROUP, group, user), "group membership")?,
        AccountChange::Touch => {}
        AccountChange::Erase { email } => {
            exec!(tx, sql::ERASE_REFRESH, user);
            exec!(tx, sql::ERASE_FAMILIES, w.at.0, user);
            exec!(tx, sql::ERASE_MAIL, email);
            exec!(tx, sql::ERASE_QUEUED_MAIL, email);
            let (from, to, pattern) = super::erased_from_log(email);
            exec!(tx, sql::ERASE_FROM_LOG, from, to, pattern);
            exec!(tx, sql::ERASE_USER, user);
        }
    }
    Ok(())
}

async fn write_group(tx: &mut Tx<'_>, w: &GroupWrite) -> Result<(), StoreError> {
    match w {
        GroupWrite::Create { name, description, at } => {
            sqlx::query(sql::INSERT_GROUP)
                .bind(name)
                .bind(description)
                .bind(at.0)
                .execute(&mut **tx)
                .await
                .map_err(|e| duplicate(e, "a group with this name"))?;
        }
        GroupWrite::Delete { name } => {
            if exec!(tx, sql::DELETE_GROUP, name) == 0 {
                return Err(StoreError::NotFound("group"));
            }
        }
    }
    Ok(())
}
