//! SQLite: one file, WAL, through rusqlite.
//!
//! Reads run in place on the calling task's thread: a local SQLite read takes
//! microseconds, far less than handing it to another thread and back (measured: the
//! hand-off cost twenty times the SQL itself), and it never waits for a lock — WAL
//! readers do not wait for the writer, and there are more read-only connections than
//! threads that read.
//!
//! Everything that can wait — writes (the commit, the busy handler), checkpoints — runs
//! on one writer thread, off the async workers. Writes are group-committed: each is
//! queued (a bounded queue: a flood waits for room instead of growing memory), the
//! writer takes everything queued (under load, after waiting [`GATHER`] for more) and
//! runs it in a single transaction, each write in
//! its own savepoint (so one failing write rolls back only itself), and hands each
//! caller its result once the transaction committed. Under load, many steps share one
//! commit and the pages they touch are written to the WAL once.
//!
//! The WAL is bounded. PASSIVE checkpoints run every 50 ms on their own thread (copying
//! pages back without holding up the writer), but they never let the WAL start over
//! while readers keep reading from it, so under sustained load it would grow without
//! end (seen: 5.6 GB next to a 465 MB database after 80 s at 700 sign-ins/s; 2.1 GB
//! after 15 s at 880/s). So the writer checks the WAL's size after its batches, and past
//! [`WAL_LIMIT`] runs a RESTART checkpoint: it waits for the (microsecond) reads under
//! way, copies what the passive ones left, and makes the next write start the WAL over;
//! `journal_size_limit` keeps the file at the limit. Measured: the sign-in's step p99
//! stays within a few ms of an unbounded WAL's (a TRUNCATE checkpoint after half-second
//! passive ones doubled it).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use super::{
    Account, AccountChange, AccountQuery, AccountStatus, AccountWrite, AttemptReservation, CodeUse, Commit,
    CountedAttempt, EventRange, FamilyRecord, GroupWrite, HookAttempt, HookState, HookUpdate, Lockout, Mail,
    MailOutcome, PURGE_BATCH, QueueDepth, QueuedMail, RateHit, RefreshUse, Reservation, Retention, Rotation,
    SessionWrite, Store, StoreError, StoredEvent, StoredFlow, StoredGroup, StoredKey, StoredPasskey, StoredSession,
    StoredTotp, TotpWrite, digest, parse_profile, profile_json, sql, windows,
};
use crate::authenticators::AuthenticatorKind;
use crate::crypto::Digest;
use crate::engine::{Timestamp, User};
use crate::limits::{self, Counts};

const READERS: usize = 4;
/// Writes waiting for the writer; past it, writers wait for room.
const QUEUE: usize = 4096;
/// Writes in one transaction at most.
const BATCH: usize = 512;
/// The WAL size past which the writer starts it over.
pub const WAL_LIMIT: u64 = 64 * 1024 * 1024;
/// Under load (the last batch had more than one write), the writer waits this long for
/// more before committing: most pages a commit writes (index leaves, the tables' last
/// pages) are shared by the writes in it, so bigger batches write fewer pages per step.
/// Measured (email sign-ins, 32 in flight): 0 / 0.3 / 1 / 2 ms gave 1.00–1.08 / 0.93 /
/// 0.86–0.88 / 0.83 ms of server CPU per sign-in and 244 / 212 / 197 / 189 KB written;
/// throughput was best at 1 ms and p99 did not move. A lone write never waits.
const GATHER: Duration = Duration::from_millis(1);

/// A queued write: runs inside the batch transaction and returns whether it succeeded
/// and how to deliver its result once the batch's fate is known.
type Job = Box<dyn FnOnce(&Transaction<'_>) -> (bool, Deliver) + Send>;
type Deliver = Box<dyn FnOnce(Option<String>) + Send>;

pub struct SqliteStore {
    /// To the writer thread; it stops when this is dropped.
    writes: tokio::sync::mpsc::Sender<Job>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    stop_checkpoints: Arc<AtomicBool>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Sqlite(e)
    }
}

impl SqliteStore {
    /// Opens (creating it and its folder if needed) and migrates `url`, e.g.
    /// `sqlite://.passway/passway.db` or `sqlite:///abs/path.db?mode=rwc`.
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(url, WAL_LIMIT).await
    }

    /// [`SqliteStore::open`], starting the WAL over past `wal_limit` bytes.
    pub async fn open_with(url: &str, wal_limit: u64) -> Result<SqliteStore, StoreError> {
        let path = file_of(url)?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Corrupt(format!("cannot create {}: {e}", parent.display())))?;
        }
        let mut writer = Connection::open(&path)?;
        configure(&writer)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        // Checkpoints run on their own thread (below), never inside a write batch.
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        writer.pragma_update(None, "journal_size_limit", wal_limit as i64)?;
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| {
                let c = Connection::open_with_flags(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&c)?;
                Ok(Mutex::new(c))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let stop_checkpoints = Arc::new(AtomicBool::new(false));
        spawn_checkpointer(path.clone(), stop_checkpoints.clone())?;
        let (writes, queue) = tokio::sync::mpsc::channel(QUEUE);
        let wal = Wal { file: wal_file(&path), limit: wal_limit };
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(writer, queue, wal))
            .map_err(|e| StoreError::Corrupt(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore { writes, readers, next_reader: AtomicUsize::new(0), stop_checkpoints })
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        // A free reader if there is one, else wait for the next in turn.
        let guard = self.readers.iter().find_map(|r| r.try_lock().ok()).unwrap_or_else(|| {
            let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
            lock(&self.readers[i])
        });
        f(&guard)
    }

    /// Queues `f` for the writer and returns its result once the transaction that ran
    /// it committed.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (send, receive) = tokio::sync::oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |tx| {
            let result = f(tx);
            let ok = result.is_ok();
            let deliver: Deliver = Box::new(move |commit_failure| {
                let result = match commit_failure {
                    Some(why) if ok => Err(StoreError::Corrupt(format!("commit failed: {why}"))),
                    _ => result,
                };
                let _ = send.send(result);
            });
            (ok, deliver)
        });
        self.writes.send(job).await.map_err(|_| StoreError::Corrupt("the SQLite writer has stopped".into()))?;
        receive.await.unwrap_or_else(|_| Err(StoreError::Corrupt("a write was lost".into())))
    }
}

/// The WAL file and its limit.
struct Wal {
    file: PathBuf,
    limit: u64,
}

fn wal_file(db: &std::path::Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// The writer thread: takes what is queued, a batch at a time, until the store goes.
fn run_writer(mut conn: Connection, mut queue: tokio::sync::mpsc::Receiver<Job>, wal: Wal) {
    // Whether the last batch had company: a sign of load, when waiting pays.
    let mut busy = false;
    while let Some(first) = queue.blocking_recv() {
        let mut jobs = vec![first];
        take_queued(&mut queue, &mut jobs);
        if busy {
            std::thread::sleep(GATHER);
            take_queued(&mut queue, &mut jobs);
        }
        busy = jobs.len() > 1;
        run_batch(&mut conn, jobs);
        bound_wal(&conn, &wal);
    }
}

/// Moves what is queued into `jobs`, up to a batch.
fn take_queued(queue: &mut tokio::sync::mpsc::Receiver<Job>, jobs: &mut Vec<Job>) {
    while jobs.len() < BATCH {
        match queue.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) => break,
        }
    }
}

/// Starts the WAL over once it passes its limit (looked at after every batch: a
/// `stat`, microseconds).
fn bound_wal(conn: &Connection, wal: &Wal) {
    let size = std::fs::metadata(&wal.file).map(|m| m.len()).unwrap_or(0);
    if size <= wal.limit {
        return;
    }
    // Waits (busy handler) for reads on old snapshots to end: they take microseconds.
    match conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0)) {
        Ok(0) => tracing::debug!(bytes = size, "WAL past its limit: checkpointed, to start over"),
        Ok(_) => tracing::warn!(bytes = size, "WAL past its limit, and readers kept it busy; trying again soon"),
        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
    }
}

/// Runs `jobs` in one transaction, each in a savepoint, then delivers their results.
fn run_batch(conn: &mut Connection, jobs: Vec<Job>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            // Dropping the jobs unrun tells their callers the write failed.
            tracing::error!(error = %e, writes = jobs.len(), "cannot begin a write transaction");
            return;
        }
    };
    let mut deliveries = Vec::with_capacity(jobs.len());
    // Kept prepared: `execute_batch` compiled both anew for every job.
    let run = |sql: &str| tx.prepare_cached(sql).and_then(|mut s| s.execute([])).map(drop);
    for job in jobs {
        let savepoint = run("SAVEPOINT job");
        let (ok, deliver) = job(&tx);
        let undone = savepoint
            .and_then(|()| if ok { run("RELEASE job") } else { tx.execute_batch("ROLLBACK TO job; RELEASE job") });
        if let Err(e) = undone {
            tracing::error!(error = %e, "savepoint failed");
        }
        deliveries.push(deliver);
    }
    let failure = tx.commit().err().map(|e| e.to_string());
    for deliver in deliveries {
        deliver(failure.clone());
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.stop_checkpoints.store(true, Ordering::Relaxed);
    }
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding a connection leaves SQLite consistent (the transaction
    // rolls back when dropped), so a poisoned lock is safe to reuse.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn file_of(url: &str) -> Result<PathBuf, StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::Corrupt(format!("not a sqlite URL: {url}")))?;
    let file = rest.split('?').next().unwrap_or_default();
    if file.is_empty() || file == ":memory:" {
        return Err(StoreError::Corrupt("the SQLite store needs a file (sqlite://PATH)".into()));
    }
    Ok(PathBuf::from(file))
}

fn configure(c: &Connection) -> Result<(), StoreError> {
    c.busy_timeout(Duration::from_secs(5))?;
    // With WAL, NORMAL survives process crashes; a power cut may lose the last
    // transactions but never corrupts the file.
    c.pragma_update(None, "synchronous", "NORMAL")?;
    c.pragma_update(None, "foreign_keys", true)?;
    c.pragma_update(None, "temp_store", "MEMORY")?;
    // No memory map of the file: its pages would count in the server's resident memory
    // up to the map's size, and it saved no CPU (email sign-ins, 32 in flight: 1.89–1.94
    // ms per sign-in with a 256 MiB map, 1.88–2.04 without; RSS after the load 95–97 MB
    // with it, 44–51 MB without). Reads go through each connection's page cache.
    c.pragma_update(None, "mmap_size", 0)?;
    c.set_prepared_statement_cache_capacity(64);
    // Plans that never look at bound values (the query planner stability guarantee).
    // Without it, a statement whose plan read a parameter (`LIMIT $2`: the dev
    // mailbox's read, the log's pages, the purges) expires whenever that parameter is
    // bound again, and is compiled anew on its next step: 62,000 instructions each time,
    // 2.2% of an email sign-in's (callgrind, `sqlite3Reprepare`).
    c.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

fn migrate(c: &mut Connection) -> Result<(), StoreError> {
    let done: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
    // Applied in order; `PRAGMA user_version` records how many ran.
    for (i, (_, migration)) in super::migrations::SQLITE.iter().enumerate().skip(done as usize) {
        let tx = c.transaction()?;
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn spawn_checkpointer(path: PathBuf, stop: Arc<AtomicBool>) -> Result<(), StoreError> {
    let conn = Connection::open(&path)?;
    configure(&conn)?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, file = %path.display(), "WAL checkpoint failed");
                }
            }
        })
        .map_err(|e| StoreError::Corrupt(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(())
}

/// Counts the step's attempt if the address's count is still the one read.
fn count_attempt(tx: &Transaction<'_>, counted: &CountedAttempt) -> Result<(), StoreError> {
    let a = &counted.attempt;
    let (subject, kind) = (&a.subject.0[..], a.authenticator.key());
    let counted_now = tx.prepare_cached(sql::COUNT_ATTEMPT)?.execute(params![
        a.limit,
        a.lock_until.0,
        a.now.0,
        subject,
        kind,
        counted.seen_failures
    ])? == 1
        || counted.seen_failures == 0
            && tx
                .prepare_cached(sql::FIRST_ATTEMPT)?
                .query_row(params![subject, kind, a.limit, a.lock_until.0, a.now.0], |_| Ok(()))
                .optional()?
                .is_some();
    if counted_now { Ok(()) } else { Err(StoreError::AttemptRaced) }
}

/// Counts a rate-limit hit in the transaction.
fn count_hit(tx: &Transaction<'_>, hit: &RateHit) -> Result<Counts, StoreError> {
    let (start, previous_start, expires_at) = windows(hit);
    Ok(tx
        .prepare_cached(sql::RATE_HIT)?
        .query_row(params![&hit.key.0[..], start.0, expires_at.0, previous_start.0], |r| {
            Ok(Counts { window_start: Timestamp(r.get(0)?), current: r.get(1)?, previous: r.get(2)? })
        })?)
}

fn duplicate(e: rusqlite::Error, what: &'static str) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Duplicate(what),
        _ => StoreError::Sqlite(e),
    }
}

fn flow(r: &Row<'_>) -> rusqlite::Result<(String, Vec<u8>, String, i64, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_flow(
    (id, handle, state, version, expires): (String, Vec<u8>, String, i64, i64),
) -> Result<StoredFlow, StoreError> {
    Ok(StoredFlow { id, handle_hash: digest(handle)?, state, version, expires_at: Timestamp(expires) })
}

fn user(c: &Connection, query: &str, key: &str) -> Result<Option<User>, StoreError> {
    let row = c
        .prepare_cached(query)?
        .query_row([key], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
        .optional()?;
    row.map(|(id, email, profile)| Ok(User { id, email, profile: parse_profile(&profile)? })).transpose()
}

type SessionRow = (String, Vec<u8>, String, String, [i64; 3], Option<i64>, [String; 2]);

fn session(r: &Row<'_>) -> rusqlite::Result<SessionRow> {
    let times = [r.get(4)?, r.get(5)?, r.get(6)?];
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, times, r.get(7)?, [r.get(8)?, r.get(9)?]))
}

fn to_session(
    (id, hash, user_id, proofs, [created, seen, expires], revoked, [browser, ip]): SessionRow,
) -> Result<StoredSession, StoreError> {
    Ok(StoredSession {
        id,
        secret_hash: digest(hash)?,
        user_id,
        proofs,
        created_at: Timestamp(created),
        last_seen_at: Timestamp(seen),
        expires_at: Timestamp(expires),
        revoked_at: revoked.map(Timestamp),
        browser,
        ip,
    })
}

type AccountRow = (String, String, String, String, i64, i64, i64);

fn account(r: &Row<'_>) -> rusqlite::Result<AccountRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn to_account((id, email, profile, status, version, created, updated): AccountRow) -> Result<Account, StoreError> {
    Ok(Account {
        user: User { id, email, profile: parse_profile(&profile)? },
        status: AccountStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("account status {status:?}")))?,
        version,
        created_at: Timestamp(created),
        updated_at: Timestamp(updated),
    })
}

/// One admin change, in the commit's transaction.
fn write_account(tx: &Transaction<'_>, w: &AccountWrite) -> Result<(), StoreError> {
    let user = w.user_id.as_str();
    if tx.prepare_cached(sql::BUMP_ACCOUNT)?.execute(params![w.at.0, user, w.version])? != 1 {
        return Err(match tx.prepare_cached(sql::ACCOUNT_STATUS)?.query_row([user], |_| Ok(())).optional()? {
            Some(()) => StoreError::Conflict,
            None => StoreError::NotFound("account"),
        });
    }
    let changed = |n: usize, what: &'static str| if n == 0 { Err(StoreError::NotFound(what)) } else { Ok(()) };
    match &w.change {
        AccountChange::Status(status) => {
            tx.prepare_cached(sql::SET_STATUS)?.execute(params![status.as_str(), user])?;
        }
        AccountChange::Profile(profile) => {
            tx.prepare_cached(sql::UPDATE_PROFILE)?.execute(params![profile_json(profile), w.at.0, user])?;
        }
        AccountChange::RenamePasskey { cred_id, name } => {
            changed(tx.prepare_cached(sql::RENAME_PASSKEY)?.execute(params![name, cred_id, user])?, "passkey")?;
        }
        AccountChange::RemovePasskey { cred_id } => {
            changed(tx.prepare_cached(sql::REMOVE_PASSKEY)?.execute(params![cred_id, user])?, "passkey")?;
        }
        AccountChange::RemoveTotp => {
            changed(tx.prepare_cached(sql::REMOVE_TOTP)?.execute([user])?, "authenticator app")?
        }
        AccountChange::RemovePassword => {
            changed(tx.prepare_cached(sql::REMOVE_PASSWORD)?.execute([user])?, "password")?
        }
        AccountChange::RevokeSession { id } => {
            changed(tx.prepare_cached(sql::REVOKE_SESSION_OF)?.execute(params![w.at.0, id, user])?, "session")?;
        }
        AccountChange::RemovePasskeysBut { keep } => {
            tx.prepare_cached(sql::REMOVE_PASSKEYS_BUT)?.execute(params![user, keep])?;
        }
        AccountChange::RevokeOtherSessions { keep } => {
            tx.prepare_cached(sql::REVOKE_OTHER_SESSIONS)?.execute(params![
                w.at.0,
                user,
                keep.as_deref().unwrap_or("")
            ])?;
        }
        AccountChange::RevokeFamily { id } => {
            changed(tx.prepare_cached(sql::REVOKE_FAMILY_OF)?.execute(params![w.at.0, id, user])?, "token family")?;
        }
        AccountChange::JoinGroup { group } => {
            if tx.prepare_cached(sql::GROUP_EXISTS)?.query_row([group], |_| Ok(())).optional()?.is_none() {
                return Err(StoreError::NotFound("group"));
            }
            tx.prepare_cached(sql::JOIN_GROUP)?.execute(params![group, user, w.at.0])?;
        }
        AccountChange::LeaveGroup { group } => {
            changed(tx.prepare_cached(sql::LEAVE_GROUP)?.execute(params![group, user])?, "group membership")?;
        }
        AccountChange::Touch => {}
        AccountChange::Erase { email } => {
            tx.prepare_cached(sql::ERASE_REFRESH)?.execute([user])?;
            tx.prepare_cached(sql::ERASE_FAMILIES)?.execute(params![w.at.0, user])?;
            tx.prepare_cached(sql::ERASE_MAIL)?.execute([email])?;
            tx.prepare_cached(sql::ERASE_QUEUED_MAIL)?.execute([email])?;
            let (from, to, pattern) = super::erased_from_log(email);
            tx.prepare_cached(sql::ERASE_FROM_LOG)?.execute(params![from, to, pattern])?;
            tx.prepare_cached(sql::ERASE_USER)?.execute([user])?;
        }
    }
    Ok(())
}

fn write_group(tx: &Transaction<'_>, w: &GroupWrite) -> Result<(), StoreError> {
    match w {
        GroupWrite::Create { name, description, at } => {
            tx.prepare_cached(sql::INSERT_GROUP)?
                .execute(params![name, description, at.0])
                .map_err(|e| duplicate(e, "a group with this name"))?;
        }
        GroupWrite::Delete { name } => {
            if tx.prepare_cached(sql::DELETE_GROUP)?.execute([name])? == 0 {
                return Err(StoreError::NotFound("group"));
            }
        }
    }
    Ok(())
}

fn passkey(r: &Row<'_>) -> rusqlite::Result<StoredPasskey> {
    Ok(StoredPasskey {
        cred_id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        passkey: r.get(3)?,
        created_at: Timestamp(r.get(4)?),
        last_used_at: r.get::<_, Option<i64>>(5)?.map(Timestamp),
    })
}

fn stored_event(r: &Row<'_>) -> rusqlite::Result<(i64, StoredEvent)> {
    Ok((
        r.get(0)?,
        StoredEvent {
            uuid: r.get(1)?,
            published: Timestamp(r.get(2)?),
            event_type: r.get(3)?,
            body: r.get(4)?,
            hooks: vec![],
        },
    ))
}

/// A `hooks` row from column `at` on.
fn hook_state(r: &Row<'_>, at: usize) -> rusqlite::Result<HookState> {
    Ok(HookState {
        name: r.get(at)?,
        url: r.get(at + 1)?,
        status: r.get(at + 2)?,
        reason: r.get(at + 3)?,
        verified_at: r.get::<_, Option<i64>>(at + 4)?.map(Timestamp),
        batch: r.get(at + 5)?,
        attempts: r.get(at + 6)?,
        next_attempt_at: Timestamp(r.get(at + 7)?),
        failing_since: r.get::<_, Option<i64>>(at + 8)?.map(Timestamp),
        lease_owner: r.get(at + 9)?,
        lease_until: Timestamp(r.get(at + 10)?),
        pending: 0,
        oldest: None,
    })
}

fn mail(r: &Row<'_>) -> rusqlite::Result<Mail> {
    Ok(Mail {
        id: r.get(0)?,
        to: r.get(1)?,
        subject: r.get(2)?,
        text: r.get(3)?,
        html: r.get(4)?,
        sent_at: Timestamp(r.get(5)?),
    })
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn insert_flow(&self, f: &StoredFlow) -> Result<(), StoreError> {
        let f = f.clone();
        self.write(move |tx| {
            tx.prepare_cached(sql::INSERT_FLOW)?.execute(params![
                f.id,
                &f.handle_hash.0[..],
                f.state,
                f.version,
                f.expires_at.0
            ])?;
            Ok(())
        })
        .await
    }

    async fn flow_by_handle(&self, handle_hash: &Digest) -> Result<Option<StoredFlow>, StoreError> {
        let row = self
            .read(|c| Ok(c.prepare_cached(sql::FLOW_BY_HANDLE)?.query_row([&handle_hash.0[..]], flow).optional()?))?;
        row.map(to_flow).transpose()
    }

    async fn flow_by_id(&self, id: &str) -> Result<Option<StoredFlow>, StoreError> {
        let row = self.read(|c| Ok(c.prepare_cached(sql::FLOW_BY_ID)?.query_row([id], flow).optional()?))?;
        row.map(to_flow).transpose()
    }

    async fn flow_version(&self, id: &str) -> Result<Option<i64>, StoreError> {
        self.read(|c| Ok(c.prepare_cached(sql::FLOW_VERSION)?.query_row([id], |r| r.get(0)).optional()?))
    }

    async fn commit(&self, c: Commit) -> Result<(), StoreError> {
        if c.is_empty() {
            return Ok(());
        }
        self.write(move |tx| {
            if let Some((id, version, state, expires_at)) = &c.flow
                && tx.prepare_cached(sql::UPDATE_FLOW)?.execute(params![state, expires_at.0, id, version])? != 1
            {
                return Err(StoreError::Conflict);
            }
            for u in &c.users {
                tx.prepare_cached(sql::INSERT_USER)?
                    .execute(params![u.id, u.email, profile_json(&u.profile), u.created_at.0])
                    .map_err(|e| duplicate(e, "an account with this email"))?;
            }
            for (user_id, device, at) in &c.devices {
                tx.prepare_cached(sql::UPSERT_DEVICE)?.execute(params![user_id, &device.0[..], at.0])?;
            }
            for (id, profile, at) in &c.profiles {
                tx.prepare_cached(sql::UPDATE_PROFILE)?.execute(params![profile_json(profile), at.0, id])?;
            }
            for (user_id, hash, at) in &c.passwords {
                tx.prepare_cached(sql::UPSERT_PASSWORD)?.execute(params![user_id, hash, at.0])?;
            }
            for (user_id, kind) in &c.skips {
                tx.prepare_cached(sql::COUNT_SKIP)?.execute(params![user_id, kind.key()])?;
            }
            for w in &c.totp {
                match w {
                    TotpWrite::Set { user_id, sealed_secret, last_step, at } => {
                        tx.prepare_cached(sql::UPSERT_TOTP)?.execute(params![
                            user_id,
                            sealed_secret,
                            last_step,
                            at.0
                        ])?;
                    }
                    TotpWrite::Used { user_id, step } => {
                        if tx.prepare_cached(sql::TOTP_USED)?.execute(params![step, user_id])? != 1 {
                            return Err(StoreError::Conflict);
                        }
                    }
                }
            }
            if let Some(counted) = &c.attempt {
                count_attempt(tx, counted)?;
            }
            for (subject, authenticator) in &c.cleared_lockouts {
                tx.prepare_cached(sql::LOCKOUT_CLEARED)?.execute(params![&subject.0[..], authenticator.key()])?;
            }
            for hit in &c.rate_hits {
                if let limits::Verdict::Limited { retry_after, .. } =
                    limits::judge(hit.limit, count_hit(tx, hit)?, hit.now)
                {
                    return Err(StoreError::Limited { retry_after });
                }
            }
            for id in &c.dropped_ceremonies {
                tx.prepare_cached(sql::DELETE_CEREMONY)?.execute([id])?;
            }
            // Before the sessions below: a reset revokes the old ones, then signs in anew.
            for (user_id, at) in &c.revocations {
                tx.prepare_cached(sql::REVOKE_USER_SESSIONS)?.execute(params![at.0, user_id])?;
                tx.prepare_cached(sql::REVOKE_USER_FAMILIES)?.execute(params![at.0, user_id])?;
            }
            for code in &c.codes {
                tx.prepare_cached(sql::INSERT_CODE)?.execute(params![
                    &code.code_hash.0[..],
                    code.grant,
                    code.expires_at.0
                ])?;
            }
            for m in &c.mails {
                tx.prepare_cached(sql::INSERT_MAIL)?.execute(params![m.to, m.subject, m.text, m.html, m.sent_at.0])?;
            }
            for m in &c.queued_mails {
                tx.prepare_cached(sql::QUEUE_MAIL)?.execute(params![m.to, m.sealed, m.created_at.0])?;
            }
            for e in &c.events {
                tx.prepare_cached(sql::INSERT_EVENT)?.execute(params![e.uuid, e.published.0, e.event_type, e.body])?;
                for hook in &e.hooks {
                    tx.prepare_cached(sql::INSERT_HOOK_OUTBOX)?.execute(params![hook, e.uuid, e.published.0])?;
                }
            }
            for ceremony in &c.ceremonies {
                tx.prepare_cached(sql::INSERT_CEREMONY)?.execute(params![
                    ceremony.id,
                    ceremony.state,
                    ceremony.options,
                    ceremony.expires_at.0
                ])?;
            }
            for p in &c.passkeys {
                tx.prepare_cached(sql::INSERT_PASSKEY)?
                    .execute(params![p.cred_id, p.user_id, p.name, p.passkey, p.created_at.0])
                    .map_err(|e| duplicate(e, "a passkey with this credential ID"))?;
            }
            for u in &c.passkey_uses {
                tx.prepare_cached(sql::USE_PASSKEY)?.execute(params![u.at.0, u.passkey, u.cred_id])?;
            }
            for w in &c.sessions {
                match w {
                    SessionWrite::Create(s) => tx.prepare_cached(sql::INSERT_SESSION)?.execute(params![
                        s.id,
                        &s.secret_hash.0[..],
                        s.user_id,
                        s.proofs,
                        s.created_at.0,
                        s.last_seen_at.0,
                        s.expires_at.0,
                        s.browser,
                        s.ip
                    ])?,
                    SessionWrite::Touch { id, proofs, last_seen_at } => {
                        tx.prepare_cached(sql::TOUCH_SESSION)?.execute(params![proofs, last_seen_at.0, id])?
                    }
                    SessionWrite::Revoke { id, at } => {
                        tx.prepare_cached(sql::REVOKE_SESSION)?.execute(params![at.0, id])?
                    }
                };
            }
            for consent in &c.consents {
                tx.prepare_cached(sql::UPSERT_CONSENT)?.execute(params![
                    consent.user_id,
                    consent.client_id,
                    consent.scope,
                    consent.granted_at.0
                ])?;
            }
            for f in &c.families {
                tx.prepare_cached(sql::INSERT_FAMILY)?.execute(params![
                    f.id,
                    f.client_id,
                    f.user_id,
                    f.created_at.0
                ])?;
            }
            for r in &c.refresh_tokens {
                tx.prepare_cached(sql::INSERT_REFRESH)?.execute(params![
                    &r.token_hash.0[..],
                    r.family_id,
                    r.grant,
                    r.issued_at.0,
                    r.expires_at.0
                ])?;
            }
            for g in &c.groups {
                write_group(tx, g)?;
            }
            for a in &c.accounts {
                write_account(tx, a)?;
            }
            Ok(())
        })
        .await
    }

    async fn session(&self, secret_hash: &Digest, now: Timestamp) -> Result<Option<StoredSession>, StoreError> {
        let row = self.read(|c| {
            Ok(c.prepare_cached(sql::SESSION)?.query_row(params![&secret_hash.0[..], now.0], session).optional()?)
        })?;
        row.map(to_session).transpose()
    }

    async fn revoke_session(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(move |tx| Ok(tx.prepare_cached(sql::REVOKE_SESSION)?.execute(params![now.0, id]).map(|_| ())?)).await
    }

    async fn password(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        self.read(|c| Ok(c.prepare_cached(sql::PASSWORD)?.query_row([user_id], |r| r.get(0)).optional()?))
    }

    async fn skips(&self, user_id: &str) -> Result<Vec<(AuthenticatorKind, u32)>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(sql::SKIPS)?;
            let rows = stmt.query_map([user_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))?;
            let mut out = vec![];
            for row in rows {
                let (key, n) = row?;
                out.extend(AuthenticatorKind::from_key(&key).map(|k| (k, n)));
            }
            Ok(out)
        })
    }

    async fn totp(&self, user_id: &str) -> Result<Option<StoredTotp>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(sql::TOTP)?
                .query_row([user_id], |r| Ok(StoredTotp { sealed_secret: r.get(0)?, last_step: r.get(1)? }))
                .optional()?)
        })
    }

    async fn lockout(&self, subject: &Digest, authenticator: AuthenticatorKind) -> Result<Lockout, StoreError> {
        self.read(|c| {
            let row = c
                .prepare_cached(sql::LOCKOUT)?
                .query_row(params![&subject.0[..], authenticator.key()], |r| {
                    Ok(Lockout { failures: r.get(0)?, locked_until: r.get::<_, Option<i64>>(1)?.map(Timestamp) })
                })
                .optional()?;
            Ok(row.unwrap_or_default())
        })
    }

    async fn reserve_attempt(&self, a: &AttemptReservation) -> Result<Reservation, StoreError> {
        let a = *a;
        self.write(move |tx| {
            let (subject, kind) = (&a.subject.0[..], a.authenticator.key());
            // Counted: the row's new lock (set when this attempt was the last in a row).
            let lock = |r: &Row<'_>| r.get::<_, Option<i64>>(0);
            let counted = match tx
                .prepare_cached(sql::RESERVE_ATTEMPT)?
                .query_row(params![a.limit, a.lock_until.0, a.now.0, subject, kind], lock)
                .optional()?
            {
                Some(locked) => Some(locked),
                None => tx
                    .prepare_cached(sql::FIRST_ATTEMPT)?
                    .query_row(params![subject, kind, a.limit, a.lock_until.0, a.now.0], lock)
                    .optional()?,
            };
            if let Some(locked) = counted {
                return Ok(Reservation::Granted { locks: locked.is_some() });
            }
            let until: Option<i64> =
                tx.prepare_cached(sql::LOCKOUT)?.query_row(params![subject, kind], |r| r.get(1))?;
            Ok(Reservation::Locked { until: Timestamp(until.unwrap_or(a.now.0)) })
        })
        .await
    }

    async fn hit(&self, hit: &RateHit) -> Result<Counts, StoreError> {
        let hit = *hit;
        self.write(move |tx| count_hit(tx, &hit)).await
    }

    async fn device_known(&self, user_id: &str, device: &Digest) -> Result<bool, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(sql::DEVICE_KNOWN)?
                .query_row(params![user_id, &device.0[..]], |_| Ok(()))
                .optional()?
                .is_some())
        })
    }

    async fn consent(&self, user_id: &str, client_id: &str) -> Result<Option<String>, StoreError> {
        self.read(|c| Ok(c.prepare_cached(sql::CONSENT)?.query_row([user_id, client_id], |r| r.get(0)).optional()?))
    }

    async fn rotate_refresh(&self, r: Rotation<'_>) -> Result<RefreshUse, StoreError> {
        let (hash, client_id, now, next_hash, next_expires) =
            (*r.token_hash, r.client_id.to_owned(), r.now, *r.next_hash, r.next_expires);
        self.write(move |tx| {
            let used: Option<(String, String)> = tx
                .prepare_cached(sql::USE_REFRESH)?
                .query_row(params![now.0, &hash.0[..], client_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((grant, family)) = used {
                tx.prepare_cached(sql::INSERT_REFRESH)?.execute(params![
                    &next_hash.0[..],
                    family,
                    grant,
                    now.0,
                    next_expires.0
                ])?;
                return Ok(RefreshUse::Rotated(grant, family));
            }
            let state: Option<(String, Option<i64>)> = tx
                .prepare_cached(sql::REFRESH_STATE)?
                .query_row([&hash.0[..]], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            match state {
                Some((family, Some(_))) => {
                    tx.prepare_cached(sql::REVOKE_FAMILY)?.execute(params![now.0, family])?;
                    Ok(RefreshUse::Reused(family))
                }
                _ => Ok(RefreshUse::Invalid),
            }
        })
        .await
    }

    async fn refresh_token(&self, token_hash: &Digest, now: Timestamp) -> Result<Option<(String, String)>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(sql::LIVE_REFRESH)?
                .query_row(params![&token_hash.0[..], now.0], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?)
        })
    }

    async fn revoke_family(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(move |tx| Ok(tx.prepare_cached(sql::REVOKE_FAMILY)?.execute(params![now.0, id]).map(|_| ())?)).await
    }

    async fn family_revoked(&self, id: &str) -> Result<bool, StoreError> {
        self.read(|c| {
            let row: Option<Option<i64>> =
                c.prepare_cached(sql::FAMILY_REVOKED)?.query_row([id], |r| r.get(0)).optional()?;
            // An unknown family is as good as revoked.
            Ok(!matches!(row, Some(None)))
        })
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        let jti = jti.to_owned();
        self.write(move |tx| {
            Ok(tx.prepare_cached(sql::REVOKE_ACCESS_TOKEN)?.execute(params![jti, expires_at.0]).map(|_| ())?)
        })
        .await
    }

    async fn access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(sql::ACCESS_TOKEN_REVOKED)?.query_row([jti], |_| Ok(())).optional()?.is_some())
        })
    }

    async fn revoke_user(&self, user_id: &str, now: Timestamp) -> Result<(), StoreError> {
        let user_id = user_id.to_owned();
        self.write(move |tx| {
            tx.prepare_cached(sql::REVOKE_USER_SESSIONS)?.execute(params![now.0, user_id])?;
            tx.prepare_cached(sql::REVOKE_USER_FAMILIES)?.execute(params![now.0, user_id])?;
            Ok(())
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.read(|c| user(c, sql::USER_BY_EMAIL, email))
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.read(|c| user(c, sql::USER_BY_ID, id))
    }

    async fn live_code(&self, code_hash: &Digest, now: Timestamp) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(sql::LIVE_CODE)?
                .query_row(params![&code_hash.0[..], now.0], |r| r.get(0))
                .optional()?)
        })
    }

    async fn use_code(&self, code_hash: &Digest, now: Timestamp, family: &str) -> Result<CodeUse, StoreError> {
        let (code_hash, family) = (*code_hash, family.to_owned());
        self.write(move |tx| {
            let hash = &code_hash.0[..];
            let fresh: Option<String> =
                tx.prepare_cached(sql::USE_CODE)?.query_row(params![now.0, family, hash], |r| r.get(0)).optional()?;
            if let Some(grant) = fresh {
                return Ok(CodeUse::Fresh(grant));
            }
            let state: Option<(Option<String>, Option<i64>)> =
                tx.prepare_cached(sql::CODE_STATE)?.query_row([hash], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
            Ok(match state {
                None => CodeUse::Unknown,
                Some((family, Some(_))) => CodeUse::Replayed { family },
                Some((_, None)) => CodeUse::Expired,
            })
        })
        .await
    }

    async fn mails(&self, to: Option<&str>, limit: u32) -> Result<Vec<Mail>, StoreError> {
        self.read(|c| {
            let rows = match to {
                Some(to) => c
                    .prepare_cached(sql::MAILS_TO)?
                    .query_map(params![to, limit], mail)?
                    .collect::<Result<Vec<_>, _>>()?,
                None => c.prepare_cached(sql::MAILS)?.query_map([limit], mail)?.collect::<Result<Vec<_>, _>>()?,
            };
            Ok(rows)
        })
    }

    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.read(|c| {
            let keys = c
                .prepare_cached(sql::SIGNING_KEYS)?
                .query_map([], |r| {
                    Ok(StoredKey {
                        kid: r.get(0)?,
                        alg: r.get(1)?,
                        created_at: Timestamp(r.get(2)?),
                        sealed_private: r.get(3)?,
                        public_jwk: r.get(4)?,
                        activates_at: Timestamp(r.get(5)?),
                        retires_at: r.get::<_, Option<i64>>(6)?.map(Timestamp),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(keys)
        })
    }

    async fn insert_planned_signing_key(&self, k: &StoredKey, known: u64) -> Result<bool, StoreError> {
        let k = k.clone();
        // One writer: the count and the insert cannot interleave with another's.
        self.write(move |tx| {
            let done = tx
                .prepare_cached(sql::INSERT_PLANNED_SIGNING_KEY)?
                .execute(params![
                    k.kid,
                    k.alg,
                    k.created_at.0,
                    k.sealed_private,
                    k.public_jwk,
                    k.activates_at.0,
                    k.retires_at.map(|t| t.0),
                    known as i64
                ])
                .map_err(|e| duplicate(e, "a signing key with this kid"))?;
            Ok(done == 1)
        })
        .await
    }

    async fn insert_signing_key(&self, k: &StoredKey) -> Result<(), StoreError> {
        let k = k.clone();
        self.write(move |tx| {
            tx.prepare_cached(sql::INSERT_SIGNING_KEY)?
                .execute(params![
                    k.kid,
                    k.alg,
                    k.created_at.0,
                    k.sealed_private,
                    k.public_jwk,
                    k.activates_at.0,
                    k.retires_at.map(|t| t.0)
                ])
                .map_err(|e| duplicate(e, "a signing key with this kid"))?;
            Ok(())
        })
        .await
    }

    async fn retire_signing_key(&self, kid: &str, at: Timestamp) -> Result<(), StoreError> {
        let kid = kid.to_owned();
        self.write(move |tx| Ok(tx.prepare_cached(sql::RETIRE_SIGNING_KEY)?.execute(params![at.0, kid]).map(|_| ())?))
            .await
    }

    async fn events(&self, after: i64, limit: u32) -> Result<Vec<(i64, StoredEvent)>, StoreError> {
        self.read(|c| {
            let rows = c
                .prepare_cached(sql::EVENTS_AFTER)?
                .query_map(params![after, limit], stored_event)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    async fn event_range(&self, r: &EventRange) -> Result<Vec<(i64, StoredEvent)>, StoreError> {
        let (since, until) = (r.since.map_or(i64::MIN, |t| t.0), r.until.map_or(i64::MAX, |t| t.0));
        self.read(|c| {
            let bound: Option<i64> = match (r.after, r.descending) {
                (Some(after), _) => Some(after),
                (None, false) => c
                    .prepare_cached(sql::FIRST_EVENT_SINCE)?
                    .query_row([since], |row| row.get::<_, Option<i64>>(0))?
                    .map(|first| first - 1),
                (None, true) => c
                    .prepare_cached(sql::LAST_EVENT_BEFORE)?
                    .query_row([until], |row| row.get::<_, Option<i64>>(0))?
                    .map(|last| last + 1),
            };
            let Some(bound) = bound else { return Ok(vec![]) };
            let statement = if r.descending { sql::EVENTS_DOWN } else { sql::EVENTS_UP };
            let rows = c
                .prepare_cached(statement)?
                .query_map(params![bound, since, until, r.limit], stored_event)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    async fn hook_sync(&self, name: &str, url: &str) -> Result<(), StoreError> {
        let (name, url) = (name.to_owned(), url.to_owned());
        self.write(move |tx| {
            tx.prepare_cached(sql::HOOK_SYNC)?.execute(params![name, url])?;
            Ok(())
        })
        .await
    }

    async fn hook_lease(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Option<HookState>, StoreError> {
        let (name, owner) = (name.to_owned(), owner.to_owned());
        self.write(move |tx| {
            Ok(tx
                .prepare_cached(sql::HOOK_LEASE)?
                .query_row(params![owner, until.0, name, now.0], |r| hook_state(r, 0))
                .optional()?)
        })
        .await
    }

    async fn hook_batch(&self, name: &str, new_id: &str, max: u32) -> Result<(String, Vec<String>), StoreError> {
        let (name, new_id) = (name.to_owned(), new_id.to_owned());
        self.write(move |tx| {
            let current: Option<String> =
                tx.prepare_cached(sql::HOOK_CURRENT_BATCH)?.query_row([&name], |r| r.get(0)).optional()?.flatten();
            let batch = match current {
                Some(batch) => batch,
                None => {
                    if tx.prepare_cached(sql::HOOK_BATCH_ASSIGN)?.execute(params![new_id, name, max])? == 0 {
                        return Ok((new_id, vec![]));
                    }
                    tx.prepare_cached(sql::HOOK_BATCH_SET)?.execute(params![new_id, name])?;
                    new_id
                }
            };
            let bodies = tx
                .prepare_cached(sql::HOOK_BATCH_EVENTS)?
                .query_map([&batch], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok((batch, bodies))
        })
        .await
    }

    async fn hook_record(
        &self,
        name: &str,
        attempt: Option<&HookAttempt>,
        update: &HookUpdate,
    ) -> Result<(), StoreError> {
        let (name, attempt, update) = (name.to_owned(), attempt.cloned(), update.clone());
        self.write(move |tx| {
            if let Some(a) = attempt {
                tx.prepare_cached(sql::INSERT_HOOK_ATTEMPT)?.execute(params![
                    a.hook,
                    a.webhook_id,
                    a.at.0,
                    a.events,
                    a.status,
                    a.latency_ms,
                    a.error
                ])?;
            }
            match update {
                HookUpdate::Verified { at } => tx.prepare_cached(sql::HOOK_VERIFIED)?.execute(params![at.0, name])?,
                HookUpdate::Unverified { reason, retry_at } => {
                    tx.prepare_cached(sql::HOOK_UNVERIFIED)?.execute(params![reason, retry_at.0, name])?
                }
                HookUpdate::Delivered { batch } => {
                    tx.prepare_cached(sql::HOOK_BATCH_DELIVERED)?.execute([&batch])?;
                    tx.prepare_cached(sql::HOOK_DELIVERED)?.execute([&name])?
                }
                HookUpdate::Failed { now, next_attempt_at, status, reason } => tx
                    .prepare_cached(sql::HOOK_FAILED)?
                    .execute(params![next_attempt_at.0, now.0, status, reason, name])?,
            };
            Ok(())
        })
        .await
    }

    async fn mail_claim(
        &self,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
        max: u32,
    ) -> Result<Vec<QueuedMail>, StoreError> {
        let owner = owner.to_owned();
        self.write(move |tx| {
            Ok(tx
                .prepare_cached(sql::CLAIM_MAIL)?
                .query_map(params![owner, until.0, now.0, max], |r| {
                    Ok(QueuedMail {
                        id: r.get(0)?,
                        to: r.get(1)?,
                        sealed: r.get(2)?,
                        created_at: Timestamp(r.get(3)?),
                        attempts: r.get::<_, i64>(4)?.max(0) as u32,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn mail_settle(&self, id: i64, owner: &str, outcome: MailOutcome) -> Result<(), StoreError> {
        let owner = owner.to_owned();
        self.write(move |tx| {
            match &outcome {
                MailOutcome::Done => tx.prepare_cached(sql::MAIL_DONE)?.execute(params![id, owner])?,
                MailOutcome::Retry { at, error } => {
                    tx.prepare_cached(sql::MAIL_RETRY)?.execute(params![at.0, error, id, owner])?
                }
                MailOutcome::Released => tx.prepare_cached(sql::MAIL_RELEASE)?.execute(params![id, owner])?,
            };
            Ok(())
        })
        .await
    }

    async fn live_flows(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.read(|c| Ok(c.prepare_cached(sql::LIVE_FLOWS)?.query_row([now.0], |r| r.get::<_, i64>(0))?.max(0) as u64))
    }

    async fn ready(&self) -> Result<(), StoreError> {
        let applied: i64 = self.read(|c| Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?))?;
        super::migrations_match(applied, super::migrations::SQLITE.len())
    }

    async fn mail_queue(&self) -> Result<QueueDepth, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(sql::MAIL_QUEUE_DEPTH)?.query_row([], |r| {
                Ok(QueueDepth {
                    count: r.get::<_, i64>(0)?.max(0) as u64,
                    oldest: r.get::<_, Option<i64>>(1)?.map(Timestamp),
                })
            })?)
        })
    }

    async fn hooks(&self) -> Result<Vec<HookState>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(sql::HOOKS)?
                .query_map([], |r| {
                    let mut state = hook_state(r, 0)?;
                    state.pending = r.get::<_, i64>(11)?.max(0) as u64;
                    state.oldest = r.get::<_, Option<i64>>(12)?.map(Timestamp);
                    Ok(state)
                })?
                .collect::<Result<Vec<_>, _>>()?)
        })
    }

    async fn hook_attempts(&self, name: &str, limit: u32) -> Result<Vec<HookAttempt>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(sql::HOOK_ATTEMPTS)?
                .query_map(params![name, limit], |r| {
                    Ok(HookAttempt {
                        hook: r.get(0)?,
                        webhook_id: r.get(1)?,
                        at: Timestamp(r.get(2)?),
                        events: r.get(3)?,
                        status: r.get(4)?,
                        latency_ms: r.get(5)?,
                        error: r.get(6)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?)
        })
    }

    async fn hook_retry_now(&self, name_or_batch: &str) -> Result<bool, StoreError> {
        let key = name_or_batch.to_owned();
        self.write(move |tx| Ok(tx.prepare_cached(sql::HOOK_RETRY_NOW)?.execute([&key])? > 0)).await
    }

    async fn account(&self, user_id: &str) -> Result<Option<Account>, StoreError> {
        let row = self.read(|c| Ok(c.prepare_cached(sql::ACCOUNT)?.query_row([user_id], account).optional()?))?;
        row.map(to_account).transpose()
    }

    async fn accounts(&self, q: &AccountQuery<'_>) -> Result<Vec<Account>, StoreError> {
        let rows = self.read(|c| {
            let status = q.status.map(AccountStatus::as_str);
            Ok(c.prepare_cached(sql::ACCOUNTS)?
                .query_map(params![q.email_prefix, status, q.group, q.after.unwrap_or(""), q.limit], account)?
                .collect::<Result<Vec<_>, _>>()?)
        })?;
        rows.into_iter().map(to_account).collect()
    }

    async fn standing(&self, user_id: &str) -> Result<(AccountStatus, Vec<String>), StoreError> {
        let (status, groups) = self.read(|c| {
            let status: Option<String> =
                c.prepare_cached(sql::ACCOUNT_STATUS)?.query_row([user_id], |r| r.get(0)).optional()?;
            let groups =
                c.prepare_cached(sql::GROUPS_OF)?.query_map([user_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Ok((status, groups))
        })?;
        Ok((status.as_deref().and_then(AccountStatus::parse).unwrap_or(AccountStatus::Deactivated), groups))
    }

    async fn sessions_of(&self, user_id: &str, now: Timestamp) -> Result<Vec<StoredSession>, StoreError> {
        let rows = self.read(|c| {
            Ok(c.prepare_cached(sql::SESSIONS_OF)?
                .query_map(params![user_id, now.0], session)?
                .collect::<Result<Vec<_>, _>>()?)
        })?;
        rows.into_iter().map(to_session).collect()
    }

    async fn families_of(&self, user_id: &str) -> Result<Vec<FamilyRecord>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(sql::FAMILIES_OF)?
                .query_map([user_id], |r| {
                    Ok(FamilyRecord { id: r.get(0)?, client_id: r.get(1)?, created_at: Timestamp(r.get(2)?) })
                })?
                .collect::<Result<Vec<_>, _>>()?)
        })
    }

    async fn groups(&self) -> Result<Vec<StoredGroup>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(sql::GROUPS)?
                .query_map([], |r| {
                    Ok(StoredGroup {
                        name: r.get(0)?,
                        description: r.get(1)?,
                        created_at: Timestamp(r.get(2)?),
                        members: r.get::<_, i64>(3)? as u64,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?)
        })
    }

    async fn passkeys_of(&self, user_id: &str) -> Result<Vec<StoredPasskey>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(sql::PASSKEYS_OF)?.query_map([user_id], passkey)?.collect::<Result<Vec<_>, _>>()?)
        })
    }

    async fn passkey(&self, cred_id: &str) -> Result<Option<StoredPasskey>, StoreError> {
        self.read(|c| Ok(c.prepare_cached(sql::PASSKEY)?.query_row([cred_id], passkey).optional()?))
    }

    async fn ceremony_options(&self, id: &str, now: Timestamp) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(sql::CEREMONY_OPTIONS)?.query_row(params![id, now.0], |r| r.get(0)).optional()?)
        })
    }

    async fn take_ceremony(&self, id: &str, now: Timestamp) -> Result<Option<String>, StoreError> {
        let id = id.to_owned();
        self.write(move |tx| {
            Ok(tx.prepare_cached(sql::TAKE_CEREMONY)?.query_row(params![id, now.0], |r| r.get(0)).optional()?)
        })
        .await
    }

    async fn purge(&self, retention: &Retention) -> Result<u64, StoreError> {
        let retention = *retention;
        self.write(move |tx| {
            let mut gone = 0;
            for (cutoff, statement) in sql::PURGES {
                gone += tx.prepare_cached(statement)?.execute(params![retention.cutoff(*cutoff).0, PURGE_BATCH])?;
            }
            Ok(gone as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;

    #[test]
    fn a_statement_is_compiled_once_whatever_its_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("plans.db")).unwrap();
        configure(&conn).unwrap();
        conn.execute_batch(
            "CREATE TABLE mail_outbox (id INTEGER PRIMARY KEY, to_addr TEXT, subject TEXT, text_body TEXT, \
             html_body TEXT, sent_at INTEGER); CREATE INDEX by_to ON mail_outbox (to_addr, id)",
        )
        .unwrap();
        // The dev mailbox's read: its plan would read the bound LIMIT.
        let read = |to: &str, limit: i64| {
            let mut s = conn.prepare_cached(sql::MAILS_TO).unwrap();
            s.query_map(rusqlite::params![to, limit], |_| Ok(())).unwrap().count();
            s.get_status(StatementStatus::RePrepare)
        };
        for (to, limit) in [("a@example.com", 1), ("b@example.com", 5), ("a@example.com", 20)] {
            assert_eq!(read(to, limit), 0, "compiled again for {to}, LIMIT {limit}");
        }
    }
}
