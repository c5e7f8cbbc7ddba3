//! The store suite: run against SQLite always, and against PostgreSQL when
//! `PASSWAY_TEST_POSTGRES_URL` is set (each run in a schema of its own, dropped after).

use std::sync::Arc;

use super::*;
use crate::crypto::sha256;

pub(crate) async fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    (super::open(&url).await.unwrap(), dir)
}

/// A PostgreSQL store in a fresh schema, and a guard that drops the schema.
pub(crate) async fn postgres() -> Option<(Arc<dyn Store>, PgSchema)> {
    let url = std::env::var("PASSWAY_TEST_POSTGRES_URL").ok()?;
    let schema = PgSchema::create(&url).await;
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = super::open(&format!("{url}{sep}options[search_path]={}", schema.name)).await.unwrap();
    Some((store, schema))
}

pub(crate) struct PgSchema {
    url: String,
    name: String,
}

impl PgSchema {
    async fn create(url: &str) -> PgSchema {
        let mut random = [0u8; 6];
        aws_lc_rs::rand::fill(&mut random).unwrap();
        let name = format!("pw_test_{}", random.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let pool =
            sqlx::PgPool::connect(url).await.expect("PASSWAY_TEST_POSTGRES_URL must point at a reachable server");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}"))).execute(&pool).await.unwrap();
        pool.close().await;
        PgSchema { url: url.to_owned(), name }
    }

    pub(crate) async fn drop_schema(self) {
        let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {} CASCADE", self.name))).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// Keeps what the server keeps, as of `now`.
fn retention(now: Timestamp) -> Retention {
    let day = std::time::Duration::from_secs(24 * 3600);
    Retention {
        now,
        used_codes: day,
        lockout_counts: day,
        events: day * 90,
        families: day * 91,
        mails: day,
        mail_queue: day,
        known_devices: day * 180,
        hook_attempts: day * 7,
    }
}

fn flow(id: &str, handle: &str) -> StoredFlow {
    StoredFlow {
        id: id.into(),
        handle_hash: sha256(handle.as_bytes()),
        state: "{}".into(),
        version: 0,
        expires_at: Timestamp(10_000),
    }
}

fn user(id: &str, email: &str) -> NewUser {
    NewUser {
        id: id.into(),
        email: email.into(),
        profile: [("given_name".to_string(), "Ada".to_string())].into(),
        created_at: Timestamp(1),
    }
}

async fn suite(store: Arc<dyn Store>) {
    // Flows: insert, find by handle digest and id, optimistic commit.
    store.insert_flow(&flow("f1", "h1")).await.unwrap();
    assert!(store.insert_flow(&flow("f1", "h2")).await.is_err(), "flow ids are unique");
    let got = store.flow_by_handle(&sha256(b"h1")).await.unwrap().unwrap();
    assert_eq!(got, flow("f1", "h1"));
    assert_eq!(store.flow_by_id("f1").await.unwrap().unwrap().id, "f1");
    assert!(store.flow_by_handle(&sha256(b"nope")).await.unwrap().is_none());

    let commit = |version, state: &str| Commit {
        flow: Some(("f1".into(), version, state.into(), Timestamp(20_000))),
        ..Commit::default()
    };
    store.commit(commit(0, "{\"a\":1}")).await.unwrap();
    assert_eq!(store.flow_version("f1").await.unwrap(), Some(1));
    assert!(
        matches!(store.commit(commit(0, "{\"lost\":1}")).await, Err(StoreError::Conflict)),
        "a stale version loses"
    );
    let f = store.flow_by_id("f1").await.unwrap().unwrap();
    assert_eq!((f.state.as_str(), f.version, f.expires_at), ("{\"a\":1}", 1, Timestamp(20_000)));

    // A failed commit writes nothing of what it carried.
    let mut c = commit(0, "x");
    c.mails.push(Mail {
        id: 0,
        to: "lost@x.io".into(),
        subject: "s".into(),
        text: "t".into(),
        html: "h".into(),
        sent_at: Timestamp(1),
    });
    assert!(store.commit(c).await.is_err());
    assert!(store.mails(Some("lost@x.io"), 10).await.unwrap().is_empty(), "rolled back");

    // Users: unique email, lookups.
    let c = Commit {
        flow: Some(("f1".into(), 1, "{}".into(), Timestamp(20_000))),
        users: vec![user("u1", "ada@x.io")],
        ..Commit::default()
    };
    store.commit(c).await.unwrap();
    let u = store.user_by_email("ada@x.io").await.unwrap().unwrap();
    assert_eq!((u.id.as_str(), u.profile["given_name"].as_str()), ("u1", "Ada"));
    assert_eq!(store.user_by_id("u1").await.unwrap().unwrap().email, "ada@x.io");
    assert!(store.user_by_email("bob@x.io").await.unwrap().is_none());
    let dup = Commit { users: vec![user("u2", "ada@x.io")], ..Commit::default() };
    assert!(matches!(store.commit(dup).await, Err(StoreError::Duplicate(_))));
    // Progressive profiling replaces the profile whole.
    let more: BTreeMap<String, String> =
        [("given_name", "Ada"), ("street_address", "12 St James's Square")].map(|(k, v)| (k.into(), v.into())).into();
    store
        .commit(Commit { profiles: vec![("u1".into(), more.clone(), Timestamp(30))], ..Commit::default() })
        .await
        .unwrap();
    assert_eq!(store.user_by_id("u1").await.unwrap().unwrap().profile, more);
    // Known devices: per account; seen again is no error.
    let browser = sha256(b"device cookie");
    assert!(!store.device_known("u1", &browser).await.unwrap());
    for at in [40, 50] {
        let c = Commit { devices: vec![("u1".into(), browser, Timestamp(at))], ..Commit::default() };
        store.commit(c).await.unwrap();
    }
    assert!(store.device_known("u1", &browser).await.unwrap());
    assert!(!store.device_known("u1", &sha256(b"another")).await.unwrap());

    // Authorization codes: single use, expiry, replay recognised.
    let code = StoredCode { code_hash: sha256(b"code"), grant: "{\"g\":1}".into(), expires_at: Timestamp(5_000) };
    let late = StoredCode { code_hash: sha256(b"late"), grant: "{}".into(), expires_at: Timestamp(5_000) };
    store.commit(Commit { codes: vec![code, late], ..Commit::default() }).await.unwrap();
    let use_code = |name: &'static [u8], at, family: &'static str| {
        let store = store.clone();
        async move { store.use_code(&sha256(name), Timestamp(at), family).await.unwrap() }
    };
    assert_eq!(use_code(b"code", 1_000, "fam1").await, CodeUse::Fresh("{\"g\":1}".into()));
    assert_eq!(use_code(b"code", 1_001, "fam2").await, CodeUse::Replayed { family: Some("fam1".into()) });
    assert_eq!(use_code(b"late", 5_000, "fam3").await, CodeUse::Expired);
    assert_eq!(use_code(b"none", 1, "fam4").await, CodeUse::Unknown);

    // Outbox: newest first, filter by recipient.
    let mail = |to: &str, subject: &str| Mail {
        id: 0,
        to: to.into(),
        subject: subject.into(),
        text: "t".into(),
        html: "<p>t</p>".into(),
        sent_at: Timestamp(7_000),
    };
    store
        .commit(Commit {
            mails: vec![mail("a@x.io", "one"), mail("b@x.io", "two"), mail("a@x.io", "three")],
            ..Commit::default()
        })
        .await
        .unwrap();
    let to_a: Vec<_> = store.mails(Some("a@x.io"), 10).await.unwrap().into_iter().map(|m| m.subject).collect();
    assert_eq!(to_a, ["three", "one"]);
    assert_eq!(store.mails(None, 2).await.unwrap().len(), 2);

    // Events: in order, paged by sequence number.
    let event = |n: u8| StoredEvent {
        uuid: format!("e{n}"),
        published: Timestamp(i64::from(n)),
        event_type: "user.session.start".into(),
        body: "{}".into(),
        hooks: vec![],
    };
    store.commit(Commit { events: vec![event(1), event(2), event(3)], ..Commit::default() }).await.unwrap();
    let page = store.events(0, 2).await.unwrap();
    assert_eq!(page.iter().map(|(_, e)| e.uuid.as_str()).collect::<Vec<_>>(), ["e1", "e2"]);
    let rest = store.events(page[1].0, 10).await.unwrap();
    assert_eq!(rest.iter().map(|(_, e)| e.uuid.as_str()).collect::<Vec<_>>(), ["e3"]);

    // Signing keys.
    let key = StoredKey {
        kid: "k1".into(),
        alg: "ES256".into(),
        created_at: Timestamp(3),
        sealed_private: vec![1, 2, 3],
        public_jwk: "{}".into(),
        activates_at: Timestamp(3),
        retires_at: None,
    };
    store.insert_signing_key(&key).await.unwrap();
    assert!(matches!(store.insert_signing_key(&key).await, Err(StoreError::Duplicate(_))));
    let next = StoredKey { kid: "k2".into(), activates_at: Timestamp(50), ..key.clone() };
    store.insert_signing_key(&next).await.unwrap();
    store.retire_signing_key("k1", Timestamp(50)).await.unwrap();
    assert_eq!(store.signing_keys().await.unwrap(), [StoredKey { retires_at: Some(Timestamp(50)), ..key }, next]);

    // Passkeys: unique credential IDs across users, uses recorded.
    let pk = |cred: &str, user: &str| StoredPasskey {
        cred_id: cred.into(),
        user_id: user.into(),
        name: "Chrome on Linux".into(),
        passkey: "{\"cred\":1}".into(),
        created_at: Timestamp(5),
        last_used_at: None,
    };
    store.commit(Commit { users: vec![user("u3", "bob@x.io")], ..Commit::default() }).await.unwrap();
    store.commit(Commit { passkeys: vec![pk("c1", "u1"), pk("c2", "u1")], ..Commit::default() }).await.unwrap();
    let duplicate = store.commit(Commit { passkeys: vec![pk("c1", "u3")], ..Commit::default() }).await;
    assert!(matches!(duplicate, Err(StoreError::Duplicate(_))), "{duplicate:?}");
    assert_eq!(store.passkeys_of("u1").await.unwrap().len(), 2);
    assert!(store.passkeys_of("u3").await.unwrap().is_empty(), "the duplicate was not attached to bob");
    let used = PasskeyUse { cred_id: "c1".into(), passkey: Some("{\"cred\":2}".into()), at: Timestamp(9) };
    let touched = PasskeyUse { cred_id: "c2".into(), passkey: None, at: Timestamp(9) };
    store.commit(Commit { passkey_uses: vec![used, touched], ..Commit::default() }).await.unwrap();
    let c1 = store.passkey("c1").await.unwrap().unwrap();
    assert_eq!((c1.passkey.as_str(), c1.last_used_at), ("{\"cred\":2}", Some(Timestamp(9))));
    assert_eq!(store.passkey("c2").await.unwrap().unwrap().passkey, "{\"cred\":1}", "unchanged credential kept");
    assert!(store.passkey("nope").await.unwrap().is_none());

    // Ceremonies: options readable, state taken once, expiry honoured.
    let ceremony = |id: &str, expires| StoredCeremony {
        id: id.into(),
        state: format!("state-{id}"),
        options: format!("options-{id}"),
        expires_at: Timestamp(expires),
    };
    store
        .commit(Commit { ceremonies: vec![ceremony("w1", 9_000), ceremony("w2", 100)], ..Commit::default() })
        .await
        .unwrap();
    assert_eq!(store.ceremony_options("w1", Timestamp(50)).await.unwrap().as_deref(), Some("options-w1"));
    assert_eq!(store.take_ceremony("w1", Timestamp(50)).await.unwrap().as_deref(), Some("state-w1"));
    assert_eq!(store.take_ceremony("w1", Timestamp(50)).await.unwrap(), None, "single use");
    assert_eq!(store.ceremony_options("w1", Timestamp(50)).await.unwrap(), None);
    assert_eq!(store.take_ceremony("w2", Timestamp(100)).await.unwrap(), None, "expired");

    // Purge: expired flows go.
    store.insert_flow(&StoredFlow { expires_at: Timestamp(100), ..flow("old", "h-old") }).await.unwrap();
    assert!(store.purge(&retention(Timestamp(15_000))).await.unwrap() >= 1);
    assert!(store.flow_by_id("old").await.unwrap().is_none());
    assert!(store.flow_by_id("f1").await.unwrap().is_some());
}

/// Sessions, consents, token families, refresh rotation and revocation.
async fn oidc_state(store: Arc<dyn Store>) {
    let user = |id: &str, email: &str| NewUser {
        id: id.into(),
        email: email.into(),
        profile: Default::default(),
        created_at: Timestamp(1),
    };
    store
        .commit(Commit { users: vec![user("u1", "a@x.io"), user("u2", "b@x.io")], ..Commit::default() })
        .await
        .unwrap();

    // Sessions: found by cookie digest while live; touched; revoked.
    let session = StoredSession {
        id: "s1".into(),
        secret_hash: sha256(b"cookie"),
        user_id: "u1".into(),
        proofs: "[]".into(),
        created_at: Timestamp(10),
        last_seen_at: Timestamp(10),
        expires_at: Timestamp(1_000),
        revoked_at: None,
        browser: "Firefox on Linux".into(),
        ip: "203.0.113.7".into(),
    };
    store.commit(Commit { sessions: vec![SessionWrite::Create(session.clone())], ..Commit::default() }).await.unwrap();
    assert_eq!(store.session(&sha256(b"cookie"), Timestamp(20)).await.unwrap(), Some(session.clone()));
    assert_eq!(store.session(&sha256(b"cookie"), Timestamp(1_000)).await.unwrap(), None, "expired");
    assert_eq!(store.session(&sha256(b"other"), Timestamp(20)).await.unwrap(), None);
    let touch = SessionWrite::Touch { id: "s1".into(), proofs: "[1]".into(), last_seen_at: Timestamp(30) };
    store.commit(Commit { sessions: vec![touch], ..Commit::default() }).await.unwrap();
    let touched = store.session(&sha256(b"cookie"), Timestamp(40)).await.unwrap().unwrap();
    assert_eq!((touched.proofs.as_str(), touched.last_seen_at), ("[1]", Timestamp(30)));
    store.revoke_session("s1", Timestamp(50)).await.unwrap();
    assert_eq!(store.session(&sha256(b"cookie"), Timestamp(60)).await.unwrap(), None, "revoked");

    // Consents: one per account and client, replaced.
    let consent = |scope: &str, at| StoredConsent {
        user_id: "u1".into(),
        client_id: "shop".into(),
        scope: scope.into(),
        granted_at: Timestamp(at),
    };
    assert_eq!(store.consent("u1", "shop").await.unwrap(), None);
    store.commit(Commit { consents: vec![consent("openid", 1)], ..Commit::default() }).await.unwrap();
    store.commit(Commit { consents: vec![consent("openid email", 2)], ..Commit::default() }).await.unwrap();
    assert_eq!(store.consent("u1", "shop").await.unwrap().as_deref(), Some("openid email"));
    assert_eq!(store.consent("u2", "shop").await.unwrap(), None);

    // Refresh tokens: rotate once; a replay revokes the family, successor included.
    let family = |id: &str, user: &str| StoredFamily {
        id: id.into(),
        client_id: "shop".into(),
        user_id: Some(user.into()),
        created_at: Timestamp(1),
    };
    let refresh = |name: &[u8], family: &str, expires| StoredRefresh {
        token_hash: sha256(name),
        family_id: family.into(),
        grant: format!("grant-{}", String::from_utf8_lossy(name)),
        issued_at: Timestamp(1),
        expires_at: Timestamp(expires),
    };
    store
        .commit(Commit {
            families: vec![family("fa", "u1"), family("fb", "u2")],
            refresh_tokens: vec![refresh(b"r1", "fa", 1_000), refresh(b"b1", "fb", 1_000), refresh(b"old", "fb", 5)],
            ..Commit::default()
        })
        .await
        .unwrap();
    assert!(!store.family_revoked("fa").await.unwrap());
    assert!(store.family_revoked("unknown").await.unwrap(), "unknown counts as revoked");
    let rotate = |token: &'static [u8], client: &'static str, at, next: &'static [u8]| {
        let store = store.clone();
        async move {
            let (hash, next_hash) = (sha256(token), sha256(next));
            let r = Rotation {
                token_hash: &hash,
                client_id: client,
                now: Timestamp(at),
                next_hash: &next_hash,
                next_expires: Timestamp(1_000),
            };
            store.rotate_refresh(r).await.unwrap()
        }
    };
    assert_eq!(rotate(b"r1", "other", 10, b"r2").await, RefreshUse::Invalid, "another client cannot use it");
    assert_eq!(rotate(b"r1", "shop", 10, b"r2").await, RefreshUse::Rotated("grant-r1".into(), "fa".into()));
    assert_eq!(
        store.refresh_token(&sha256(b"r2"), Timestamp(11)).await.unwrap(),
        Some(("grant-r1".into(), "fa".into())),
        "the successor continues the grant"
    );
    assert_eq!(store.refresh_token(&sha256(b"r1"), Timestamp(11)).await.unwrap(), None, "used");
    assert_eq!(rotate(b"r1", "shop", 12, b"r3").await, RefreshUse::Reused("fa".into()));
    assert!(store.family_revoked("fa").await.unwrap());
    assert_eq!(rotate(b"r2", "shop", 13, b"r4").await, RefreshUse::Invalid, "the successor died with its family");
    assert_eq!(store.refresh_token(&sha256(b"r2"), Timestamp(13)).await.unwrap(), None);
    assert_eq!(rotate(b"old", "shop", 10, b"x").await, RefreshUse::Invalid);
    assert!(!store.family_revoked("fb").await.unwrap(), "an expired token is no replay");

    // Access tokens: a denylist by jti.
    assert!(!store.access_token_revoked("j1").await.unwrap());
    store.revoke_access_token("j1", Timestamp(100)).await.unwrap();
    store.revoke_access_token("j1", Timestamp(100)).await.unwrap();
    assert!(store.access_token_revoked("j1").await.unwrap());

    // Everything of an account at once.
    let s2 = StoredSession { id: "s2".into(), secret_hash: sha256(b"c2"), user_id: "u2".into(), ..session };
    store.commit(Commit { sessions: vec![SessionWrite::Create(s2)], ..Commit::default() }).await.unwrap();
    store.revoke_user("u2", Timestamp(20)).await.unwrap();
    assert!(store.family_revoked("fb").await.unwrap());
    assert_eq!(store.session(&sha256(b"c2"), Timestamp(21)).await.unwrap(), None);

    // Purge drops expired revocations and sessions.
    assert!(store.purge(&retention(Timestamp(2_000))).await.unwrap() >= 2);
    assert!(!store.access_token_revoked("j1").await.unwrap());
}

#[tokio::test]
async fn oidc_state_on_each_backend() {
    let (store, _dir) = sqlite().await;
    oidc_state(store).await;
    if let Some((store, schema)) = postgres().await {
        oidc_state(store).await;
        schema.drop_schema().await;
    }
}

/// Passwords, lockout counts, and ending everything of an account (a reset).
async fn credentials(store: Arc<dyn Store>) {
    store
        .commit(Commit { users: vec![user("u1", "a@x.io"), user("u2", "b@x.io")], ..Commit::default() })
        .await
        .unwrap();

    assert_eq!(store.password("u1").await.unwrap(), None);
    store
        .commit(Commit { passwords: vec![("u1".into(), "$argon2id$one".into(), Timestamp(1))], ..Commit::default() })
        .await
        .unwrap();
    store
        .commit(Commit { passwords: vec![("u1".into(), "$argon2id$two".into(), Timestamp(2))], ..Commit::default() })
        .await
        .unwrap();
    assert_eq!(store.password("u1").await.unwrap().as_deref(), Some("$argon2id$two"), "replaced");
    assert_eq!(store.password("u2").await.unwrap(), None);

    // Attempts are reserved (counted) before they are checked, per address and
    // authenticator; the third of a limit of three locks; while locked nothing is
    // reserved; a right answer clears the count and the lock.
    let (a, b) = (sha256(b"a@x.io"), sha256(b"nobody@x.io"));
    let reserve = |subject, limit, now: i64| {
        let store = store.clone();
        let attempt = AttemptReservation {
            subject,
            authenticator: AuthenticatorKind::Password,
            limit,
            lock_until: Timestamp(now + 800),
            now: Timestamp(now),
        };
        async move { store.reserve_attempt(&attempt).await.unwrap() }
    };
    let lockout = |subject| {
        let store = store.clone();
        async move { store.lockout(&subject, AuthenticatorKind::Password).await.unwrap() }
    };
    assert_eq!(lockout(a).await, Lockout::default());
    assert_eq!(reserve(a, 3, 100).await, Reservation::Granted { locks: false });
    assert_eq!(reserve(b, 3, 100).await, Reservation::Granted { locks: false });
    assert_eq!(reserve(a, 3, 100).await, Reservation::Granted { locks: false });
    assert_eq!(lockout(a).await, Lockout { failures: 2, locked_until: None });
    assert_eq!(lockout(b).await, Lockout { failures: 1, locked_until: None }, "an address without an account too");
    assert_eq!(store.lockout(&a, AuthenticatorKind::Email).await.unwrap(), Lockout::default(), "per authenticator");
    assert_eq!(reserve(a, 3, 100).await, Reservation::Granted { locks: true }, "the third is checked, and locks");
    assert_eq!(lockout(a).await, Lockout { failures: 0, locked_until: Some(Timestamp(900)) });
    assert_eq!(reserve(a, 3, 200).await, Reservation::Locked { until: Timestamp(900) });
    assert_eq!(lockout(a).await, Lockout { failures: 0, locked_until: Some(Timestamp(900)) }, "not counted");
    assert_eq!(reserve(a, 3, 900).await, Reservation::Granted { locks: false }, "the lock is over");
    let cleared = Commit { cleared_lockouts: vec![(b, AuthenticatorKind::Password)], ..Commit::default() };
    store.commit(cleared).await.unwrap();
    assert_eq!(lockout(b).await, Lockout::default());
    // A limit of one locks at once.
    assert_eq!(reserve(b, 1, 100).await, Reservation::Granted { locks: true });
    assert_eq!(lockout(b).await, Lockout { failures: 0, locked_until: Some(Timestamp(900)) });
    // A right answer lifts the lock its own reservation set.
    let cleared = Commit { cleared_lockouts: vec![(b, AuthenticatorKind::Password)], ..Commit::default() };
    store.commit(cleared).await.unwrap();
    assert_eq!(reserve(b, 1, 101).await, Reservation::Granted { locks: true });

    // A burst of concurrent attempts: no more than the limit is ever checked.
    let c = sha256(b"burst@x.io");
    let burst: Vec<_> = (0..40).map(|_| reserve(c, 5, 100)).collect();
    let granted = futures_util::future::join_all(burst).await.into_iter().filter(|r| r.granted()).count();
    assert_eq!(granted, 5, "only `attempts` answers of a burst are checked");

    // Counted in a step's commit instead: only if the count is still the one read
    // before the check; otherwise the whole commit is refused and nothing is written.
    let e = sha256(b"counted@x.io");
    let counted = |seen_failures, now: i64| CountedAttempt {
        attempt: AttemptReservation {
            subject: e,
            authenticator: AuthenticatorKind::Email,
            limit: 3,
            lock_until: Timestamp(now + 800),
            now: Timestamp(now),
        },
        seen_failures,
    };
    let email_lockout = || {
        let store = store.clone();
        async move { store.lockout(&e, AuthenticatorKind::Email).await.unwrap() }
    };
    let with_log = |attempt, hash: &str| Commit {
        attempt: Some(attempt),
        passwords: vec![("u1".into(), format!("$argon2id${hash}"), Timestamp(3))],
        ..Commit::default()
    };
    store.commit(with_log(counted(0, 100), "ea1")).await.unwrap();
    assert_eq!(email_lockout().await, Lockout { failures: 1, locked_until: None }, "the first, inserted");
    assert!(matches!(store.commit(with_log(counted(0, 100), "ea2")).await, Err(StoreError::AttemptRaced)));
    assert_eq!(email_lockout().await.failures, 1, "a count read before another was counted: refused");
    assert_eq!(store.password("u1").await.unwrap().as_deref(), Some("$argon2id$ea1"), "nor the rest of the commit");
    store.commit(with_log(counted(1, 100), "ea3")).await.unwrap();
    store.commit(with_log(counted(2, 100), "ea4")).await.unwrap();
    assert_eq!(email_lockout().await, Lockout { failures: 0, locked_until: Some(Timestamp(900)) }, "the third locks");
    assert!(matches!(store.commit(with_log(counted(0, 200), "ea5")).await, Err(StoreError::AttemptRaced)));
    assert_eq!(email_lockout().await.locked_until, Some(Timestamp(900)), "not counted while locked");
    // A right answer: counted and cleared in one commit.
    let right = Commit { cleared_lockouts: vec![(e, AuthenticatorKind::Email)], ..with_log(counted(0, 900), "ea6") };
    store.commit(right).await.unwrap();
    assert_eq!(email_lockout().await, Lockout::default());

    // Counts are forgotten a day after the last attempt (no lock lasts longer).
    let day = 24 * 60 * 60 * 1000;
    let d = sha256(b"forgotten@x.io");
    reserve(d, 3, 100).await;
    store.purge(&retention(Timestamp(100 + day))).await.unwrap();
    assert_eq!(lockout(d).await.failures, 1, "a day to the millisecond: kept");
    store.purge(&retention(Timestamp(101 + day))).await.unwrap();
    assert_eq!(lockout(d).await, Lockout::default(), "forgotten");

    // Authenticator apps: a step is spent only if later than the stored one, so the
    // same code cannot be accepted twice, even by two instances at once.
    assert_eq!(store.totp("u1").await.unwrap(), None);
    let set = TotpWrite::Set { user_id: "u1".into(), sealed_secret: vec![1, 2, 3], last_step: 10, at: Timestamp(1) };
    store.commit(Commit { totp: vec![set], ..Commit::default() }).await.unwrap();
    let used = |step| Commit { totp: vec![TotpWrite::Used { user_id: "u1".into(), step }], ..Commit::default() };
    store.commit(used(11)).await.unwrap();
    assert!(matches!(store.commit(used(11)).await, Err(StoreError::Conflict)), "spent");
    assert!(matches!(store.commit(used(9)).await, Err(StoreError::Conflict)), "older");
    assert_eq!(store.totp("u1").await.unwrap(), Some(StoredTotp { sealed_secret: vec![1, 2, 3], last_step: 11 }));

    // Skipped enrolments count per account and authenticator.
    let skipped = |kind| Commit { skips: vec![("u1".into(), kind)], ..Commit::default() };
    store.commit(skipped(AuthenticatorKind::Passkey)).await.unwrap();
    store.commit(skipped(AuthenticatorKind::Passkey)).await.unwrap();
    store.commit(skipped(AuthenticatorKind::Totp)).await.unwrap();
    let mut skips = store.skips("u1").await.unwrap();
    skips.sort();
    assert_eq!(skips, [(AuthenticatorKind::Passkey, 2), (AuthenticatorKind::Totp, 1)]);
    assert!(store.skips("u2").await.unwrap().is_empty());

    // Revocation ends the account's sessions (and only its), then a new one may start
    // in the same commit.
    let session = |id: &str, user: &str| StoredSession {
        id: id.into(),
        secret_hash: sha256(id.as_bytes()),
        user_id: user.into(),
        proofs: "[]".into(),
        created_at: Timestamp(10),
        last_seen_at: Timestamp(10),
        expires_at: Timestamp(1_000),
        revoked_at: None,
        browser: "Firefox on Linux".into(),
        ip: "203.0.113.7".into(),
    };
    let create = |id: &str, user: &str| SessionWrite::Create(session(id, user));
    store
        .commit(Commit {
            sessions: vec![create("s1", "u1"), create("s2", "u1"), create("s3", "u2")],
            ..Commit::default()
        })
        .await
        .unwrap();
    store
        .commit(Commit {
            revocations: vec![("u1".into(), Timestamp(20))],
            sessions: vec![create("s4", "u1")],
            ..Commit::default()
        })
        .await
        .unwrap();
    let live = |id: &'static str| {
        let store = store.clone();
        async move { store.session(&sha256(id.as_bytes()), Timestamp(30)).await.unwrap().is_some() }
    };
    assert!(!live("s1").await && !live("s2").await, "u1's old sessions ended");
    assert!(live("s3").await, "u2's session untouched");
    assert!(live("s4").await, "the session started with the reset lives");
}

#[tokio::test]
async fn credentials_on_each_backend() {
    let (store, _dir) = sqlite().await;
    credentials(store).await;
    if let Some((store, schema)) = postgres().await {
        credentials(store).await;
        schema.drop_schema().await;
    }
}

/// Many steps committing at once: each stands or falls alone (SQLite batches them
/// into one transaction; a failure must roll back only its own writes).
async fn concurrent_commits(store: Arc<dyn Store>) {
    for i in 0..20 {
        store.insert_flow(&flow(&format!("c{i}"), &format!("hc{i}"))).await.unwrap();
    }
    let mut tasks = vec![];
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            // Every third one presents a stale version and must lose, taking its mail with it.
            let version = if i % 3 == 0 { 7 } else { 0 };
            let mail = Mail {
                id: 0,
                to: format!("c{i}@x.io"),
                subject: "s".into(),
                text: "t".into(),
                html: "h".into(),
                sent_at: Timestamp(1),
            };
            let c = Commit {
                flow: Some((format!("c{i}"), version, format!("{{\"n\":{i}}}"), Timestamp(20_000))),
                mails: vec![mail],
                ..Commit::default()
            };
            (i, store.commit(c).await)
        }));
    }
    for t in tasks {
        let (i, result) = t.await.unwrap();
        let mails = store.mails(Some(&format!("c{i}@x.io")), 5).await.unwrap();
        let stored = store.flow_by_id(&format!("c{i}")).await.unwrap().unwrap();
        if i % 3 == 0 {
            assert!(matches!(result, Err(StoreError::Conflict)), "c{i}: {result:?}");
            assert!(mails.is_empty() && stored.version == 0, "c{i} left no trace");
        } else {
            result.unwrap();
            assert_eq!((mails.len(), stored.version), (1, 1), "c{i} committed");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_on_each_backend() {
    let (store, _dir) = sqlite().await;
    concurrent_commits(store).await;
    if let Some((store, schema)) = postgres().await {
        concurrent_commits(store).await;
        schema.drop_schema().await;
    }
}

#[tokio::test]
async fn sqlite_store() {
    let (store, _dir) = sqlite().await;
    assert_eq!(store.backend(), "sqlite");
    suite(store).await;
}

#[tokio::test]
async fn postgres_store() {
    let Some((store, schema)) = postgres().await else {
        eprintln!("PASSWAY_TEST_POSTGRES_URL is not set: the PostgreSQL store suite did not run");
        return;
    };
    assert_eq!(store.backend(), "postgres");
    suite(store).await;
    schema.drop_schema().await;
}

#[tokio::test]
async fn sqlite_store_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("nested/dir/p.db").display());
    let store = super::open(&url).await.unwrap();
    store.insert_flow(&flow("f", "h")).await.unwrap();
    drop(store);
    let again = super::open(&url).await.unwrap();
    assert!(again.flow_by_id("f").await.unwrap().is_some(), "data persisted and migrations re-run cleanly");
}

/// Rate-limit counts: a sliding window from two fixed ones, shared by every instance;
/// a conditional hit in a commit refuses the whole commit past its limit.
async fn rate_limits(store: Arc<dyn Store>) {
    use crate::limits::{Counts, Limit, Verdict, judge};
    let limit = Limit::per_minute(3);
    let key = sha256(b"rate key");
    let hit = |now: i64| {
        let store = store.clone();
        async move { store.hit(&RateHit { key, limit, now: Timestamp(now) }).await.unwrap() }
    };
    assert_eq!(hit(60_500).await, Counts { window_start: Timestamp(60_000), current: 1, previous: 0 });
    hit(61_000).await;
    let third = hit(62_000).await;
    assert_eq!(third.current, 3);
    assert_eq!(judge(limit, third, Timestamp(62_000)), Verdict::Allowed);
    let fourth = hit(63_000).await;
    assert!(matches!(judge(limit, fourth, Timestamp(63_000)), Verdict::Limited { first: true, .. }));
    // The next window carries the last one's count; the one after forgets it.
    assert_eq!(hit(120_000).await, Counts { window_start: Timestamp(120_000), current: 1, previous: 4 });
    assert_eq!(hit(240_000).await, Counts { window_start: Timestamp(240_000), current: 1, previous: 0 });

    // Emails to one address: however many commits race, only the limit's worth land.
    store.insert_flow(&flow("rl", "h-rl")).await.unwrap();
    let mail_key = sha256(b"emails to x@x.io");
    let commits: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            let event = StoredEvent {
                uuid: format!("rl-{i}"),
                published: Timestamp(1),
                event_type: "t".into(),
                body: "{}".into(),
                hooks: vec![],
            };
            let c = Commit {
                rate_hits: vec![RateHit { key: mail_key, limit, now: Timestamp(60_000) }],
                events: vec![event],
                ..Commit::default()
            };
            async move { store.commit(c).await }
        })
        .collect();
    let results = futures_util::future::join_all(commits).await;
    let landed = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(landed, 3, "{results:?}");
    assert!(results.iter().all(|r| matches!(r, Ok(()) | Err(StoreError::Limited { .. }))));
    let events = store.events(0, 100).await.unwrap();
    assert_eq!(events.iter().filter(|(_, e)| e.uuid.starts_with("rl-")).count(), 3, "refused commits wrote nothing");

    // Purged once both of its windows are over.
    store.purge(&retention(Timestamp(240_000 + 120_001))).await.unwrap();
    assert_eq!(hit(400_000).await.previous, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_on_each_backend() {
    let (store, _dir) = sqlite().await;
    rate_limits(store).await;
    if let Some((store, schema)) = postgres().await {
        rate_limits(store).await;
        schema.drop_schema().await;
    }
}

/// Everything kept goes once past its time: events after their retention, token
/// families after every token they issued, dev emails after a day.
async fn retention_purges(store: Arc<dyn Store>) {
    let day = 24 * 3600 * 1000;
    let event = |uuid: &str, at: i64| StoredEvent {
        uuid: uuid.into(),
        published: Timestamp(at),
        event_type: "t".into(),
        body: "{}".into(),
        hooks: vec![],
    };
    let family = |id: &str, at: i64| StoredFamily {
        id: id.into(),
        client_id: "c".into(),
        user_id: None,
        created_at: Timestamp(at),
    };
    let mail = |to: &str, at: i64| Mail {
        id: 0,
        to: to.into(),
        subject: "s".into(),
        text: "t".into(),
        html: "h".into(),
        sent_at: Timestamp(at),
    };
    store
        .commit(Commit {
            users: vec![user("u-devices", "devices@x.io")],
            events: vec![event("old", 0), event("new", 89 * day)],
            families: vec![family("f-old", 0), family("f-new", 60 * day)],
            mails: vec![mail("old@x.io", 0), mail("new@x.io", 92 * day)],
            devices: vec![
                ("u-devices".into(), sha256(b"gone browser"), Timestamp(-100 * day)),
                ("u-devices".into(), sha256(b"kept browser"), Timestamp(-50 * day)),
            ],
            ..Commit::default()
        })
        .await
        .unwrap();
    store.purge(&retention(Timestamp(92 * day + 1))).await.unwrap();
    let uuids: Vec<String> = store.events(0, 10).await.unwrap().into_iter().map(|(_, e)| e.uuid).collect();
    assert_eq!(uuids, ["new"]);
    assert!(store.family_revoked("f-old").await.unwrap(), "an unknown family counts as revoked");
    assert!(!store.family_revoked("f-new").await.unwrap());
    assert!(store.mails(Some("old@x.io"), 5).await.unwrap().is_empty());
    assert_eq!(store.mails(Some("new@x.io"), 5).await.unwrap().len(), 1);
    assert!(!store.device_known("u-devices", &sha256(b"gone browser")).await.unwrap(), "unseen for 180 days");
    assert!(store.device_known("u-devices", &sha256(b"kept browser")).await.unwrap());
}

#[tokio::test]
async fn retention_purges_on_each_backend() {
    let (store, _dir) = sqlite().await;
    retention_purges(store).await;
    if let Some((store, schema)) = postgres().await {
        retention_purges(store).await;
        schema.drop_schema().await;
    }
}

/// Sustained writes while readers keep reading: the WAL stays near its limit instead
/// of growing with every write (PASSIVE checkpoints alone never restart it under load).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_wal_stays_bounded_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    let limit = 2 * 1024 * 1024;
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open_with(&format!("sqlite://{}", path.display()), limit).await.unwrap());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (store, stop) = (store.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = store.events(0, 20).await.unwrap();
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let body = "x".repeat(2000);
    let mut biggest = 0;
    for batch in 0..300 {
        let events = (0..20)
            .map(|i| StoredEvent {
                uuid: format!("e-{batch}-{i}"),
                published: Timestamp(1),
                event_type: "t".into(),
                body: body.clone(),
                hooks: vec![],
            })
            .collect();
        store.commit(Commit { events, ..Commit::default() }).await.unwrap();
        let wal = std::fs::metadata(dir.path().join("wal.db-wal")).map(|m| m.len()).unwrap_or(0);
        biggest = biggest.max(wal);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
    // 12 MB written through a 2 MB limit (checked after each batch).
    assert!(biggest < 2 * limit, "the WAL reached {biggest} bytes (limit {limit})");
}

/// The system log read by time range in both directions, and the event hook outbox:
/// rows written with their events, one instance at a time (the lease), a batch that
/// keeps its webhook-id through retries, and rows gone once delivered.
async fn event_hooks(store: Arc<dyn Store>) {
    let event = |uuid: &str, at: i64, hooks: &[&str]| StoredEvent {
        uuid: uuid.into(),
        published: Timestamp(at),
        event_type: "user.session.start".into(),
        body: format!(r#"{{"uuid":"{uuid}"}}"#),
        hooks: hooks.iter().map(|h| (*h).to_owned()).collect(),
    };
    store.hook_sync("siem", "https://siem.example/in").await.unwrap();
    store
        .commit(Commit {
            events: vec![
                event("a", 1_000, &["siem"]),
                event("b", 2_000, &[]),
                event("c", 3_000, &["siem"]),
                event("d", 4_000, &["siem"]),
            ],
            ..Commit::default()
        })
        .await
        .unwrap();

    let range = |since: Option<i64>, until: Option<i64>, descending: bool| EventRange {
        after: None,
        since: since.map(Timestamp),
        until: until.map(Timestamp),
        descending,
        limit: 10,
    };
    let uuids = |rows: Vec<(i64, StoredEvent)>| rows.into_iter().map(|(_, e)| e.uuid).collect::<Vec<_>>();
    assert_eq!(uuids(store.event_range(&range(Some(2_000), Some(4_000), false)).await.unwrap()), ["b", "c"]);
    assert_eq!(uuids(store.event_range(&range(None, Some(4_000), true)).await.unwrap()), ["c", "b", "a"]);
    assert!(store.event_range(&range(Some(5_000), None, false)).await.unwrap().is_empty());
    let first = store.event_range(&range(None, None, false)).await.unwrap();
    let after_b = EventRange { after: Some(first[1].0), ..range(None, None, false) };
    assert_eq!(uuids(store.event_range(&after_b).await.unwrap()), ["c", "d"]);

    // One instance delivers at a time; the lease passes on once it runs out.
    let state = store.hook_lease("siem", "one", Timestamp(10), Timestamp(20)).await.unwrap().unwrap();
    assert_eq!((state.status.as_str(), state.lease_owner.as_deref()), ("unverified", Some("one")));
    assert_eq!(store.hooks().await.unwrap()[0].pending, 3);
    assert_eq!(store.hook_lease("siem", "two", Timestamp(15), Timestamp(25)).await.unwrap(), None);
    assert!(store.hook_lease("siem", "one", Timestamp(15), Timestamp(25)).await.unwrap().is_some(), "renewed");
    assert!(store.hook_lease("siem", "two", Timestamp(25), Timestamp(35)).await.unwrap().is_some(), "taken over");

    // A batch keeps its id and its events until delivered.
    let (id, bodies) = store.hook_batch("siem", "wh-1", 2).await.unwrap();
    assert_eq!((id.as_str(), bodies), ("wh-1", vec![r#"{"uuid":"a"}"#.to_owned(), r#"{"uuid":"c"}"#.to_owned()]));
    let attempt = HookAttempt {
        hook: "siem".into(),
        webhook_id: "wh-1".into(),
        at: Timestamp(30),
        events: 2,
        status: Some(503),
        latency_ms: 12,
        error: Some("503 Service Unavailable".into()),
    };
    let failed = HookUpdate::Failed {
        now: Timestamp(30),
        next_attempt_at: Timestamp(1_030),
        status: "failing",
        reason: "503".into(),
    };
    store.hook_record("siem", Some(&attempt), &failed).await.unwrap();
    let (again, bodies) = store.hook_batch("siem", "wh-2", 2).await.unwrap();
    assert_eq!((again.as_str(), bodies.len()), ("wh-1", 2), "a retry sends the same batch");
    let state = &store.hooks().await.unwrap()[0];
    assert_eq!(
        (state.status.as_str(), state.attempts, state.next_attempt_at, state.failing_since),
        ("failing", 1, Timestamp(1_030), Some(Timestamp(30)))
    );
    assert!(store.hook_retry_now("wh-1").await.unwrap());
    assert!(!store.hook_retry_now("nothing").await.unwrap());
    assert_eq!(store.hooks().await.unwrap()[0].next_attempt_at, Timestamp(0));

    store.hook_record("siem", None, &HookUpdate::Delivered { batch: "wh-1".into() }).await.unwrap();
    let state = &store.hooks().await.unwrap()[0];
    assert_eq!(
        (state.status.as_str(), state.pending, state.batch.clone(), state.failing_since),
        ("active", 1, None, None)
    );
    let (next, bodies) = store.hook_batch("siem", "wh-3", 2).await.unwrap();
    assert_eq!((next.as_str(), bodies), ("wh-3", vec![r#"{"uuid":"d"}"#.to_owned()]));
    store.hook_record("siem", None, &HookUpdate::Delivered { batch: "wh-3".into() }).await.unwrap();
    assert!(store.hook_batch("siem", "wh-4", 2).await.unwrap().1.is_empty(), "nothing waits");

    assert_eq!(store.hook_attempts("siem", 10).await.unwrap(), [attempt]);
    // A new URL must prove itself again.
    store.hook_record("siem", None, &HookUpdate::Verified { at: Timestamp(40) }).await.unwrap();
    store.hook_sync("siem", "https://siem.example/in").await.unwrap();
    assert_eq!(store.hooks().await.unwrap()[0].verified_at, Some(Timestamp(40)), "same URL: still verified");
    store.hook_sync("siem", "https://other.example/in").await.unwrap();
    let state = &store.hooks().await.unwrap()[0];
    assert_eq!((state.status.as_str(), state.verified_at), ("unverified", None));
}

#[tokio::test]
async fn event_hooks_on_each_backend() {
    let (store, _dir) = sqlite().await;
    event_hooks(store).await;
    if let Some((store, schema)) = postgres().await {
        event_hooks(store).await;
        schema.drop_schema().await;
    }
}

/// What operators change: status and version, groups, authenticators, sessions and
/// families one by one, and erasure.
async fn directory(store: Arc<dyn Store>) {
    let users = vec![user("u1", "ada@x.io"), user("u2", "adam@x.io"), user("u3", "bob@y.io"), user("u4", "a_b@x.io")];
    store.commit(Commit { users, ..Commit::default() }).await.unwrap();
    let write = |id: &str, version: Option<i64>, change| AccountWrite {
        user_id: id.into(),
        version,
        at: Timestamp(50),
        change,
    };
    let one = |w: AccountWrite| Commit { accounts: vec![w], ..Commit::default() };

    let a = store.account("u1").await.unwrap().unwrap();
    assert_eq!((a.status, a.version, a.user.email.as_str()), (AccountStatus::Active, 1, "ada@x.io"));
    assert_eq!(store.account("nobody").await.unwrap(), None);

    // Versions: a write naming an old one is a conflict, and writes nothing.
    store.commit(one(write("u1", Some(1), AccountChange::Status(AccountStatus::Deactivated)))).await.unwrap();
    let stale = store.commit(one(write("u1", Some(1), AccountChange::Status(AccountStatus::Active)))).await;
    assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");
    let a = store.account("u1").await.unwrap().unwrap();
    assert_eq!((a.status, a.version, a.updated_at), (AccountStatus::Deactivated, 2, Timestamp(50)));
    let gone = store.commit(one(write("nobody", None, AccountChange::Touch))).await;
    assert!(matches!(gone, Err(StoreError::NotFound("account"))), "{gone:?}");

    // Search: prefix (no pattern characters), status, cursor.
    let emails = |v: Vec<Account>| v.into_iter().map(|a| a.user.email).collect::<Vec<_>>();
    let q = AccountQuery { email_prefix: "ad", status: None, group: None, after: None, limit: 10 };
    assert_eq!(emails(store.accounts(&q).await.unwrap()), ["ada@x.io", "adam@x.io"]);
    let q_ = AccountQuery { email_prefix: "a_", ..q };
    assert_eq!(emails(store.accounts(&q_).await.unwrap()), ["a_b@x.io"], "_ is no wildcard");
    let active = AccountQuery { email_prefix: "", status: Some(AccountStatus::Active), ..q };
    assert_eq!(emails(store.accounts(&active).await.unwrap()), ["a_b@x.io", "adam@x.io", "bob@y.io"]);
    let page = AccountQuery { email_prefix: "", limit: 2, after: Some("adam@x.io"), ..q };
    assert_eq!(emails(store.accounts(&page).await.unwrap()), ["bob@y.io"]);

    // Groups: made, joined (twice is once), listed, searched by, left, deleted.
    let group = |name: &str| GroupWrite::Create { name: name.into(), description: "d".into(), at: Timestamp(5) };
    store.commit(Commit { groups: vec![group("admins"), group("staff")], ..Commit::default() }).await.unwrap();
    let twice = store.commit(Commit { groups: vec![group("admins")], ..Commit::default() }).await;
    assert!(matches!(twice, Err(StoreError::Duplicate(_))), "{twice:?}");
    let join = |id: &str, g: &str| write(id, None, AccountChange::JoinGroup { group: g.into() });
    let joins = vec![join("u2", "admins"), join("u2", "admins"), join("u3", "admins"), join("u2", "staff")];
    store.commit(Commit { accounts: joins, ..Commit::default() }).await.unwrap();
    let no_group = store.commit(one(join("u2", "nope"))).await;
    assert!(matches!(no_group, Err(StoreError::NotFound("group"))), "{no_group:?}");
    assert_eq!(store.standing("u2").await.unwrap(), (AccountStatus::Active, vec!["admins".into(), "staff".into()]));
    assert_eq!(store.standing("u1").await.unwrap(), (AccountStatus::Deactivated, vec![]));
    let members = AccountQuery { email_prefix: "", group: Some("admins"), ..q };
    assert_eq!(emails(store.accounts(&members).await.unwrap()), ["adam@x.io", "bob@y.io"]);
    let counts: Vec<(String, u64)> = store.groups().await.unwrap().into_iter().map(|g| (g.name, g.members)).collect();
    assert_eq!(counts, [("admins".to_string(), 2), ("staff".to_string(), 1)]);
    store.commit(one(write("u3", None, AccountChange::LeaveGroup { group: "admins".into() }))).await.unwrap();
    let left_twice = store.commit(one(write("u3", None, AccountChange::LeaveGroup { group: "admins".into() }))).await;
    assert!(matches!(left_twice, Err(StoreError::NotFound(_))), "{left_twice:?}");
    store
        .commit(Commit { groups: vec![GroupWrite::Delete { name: "staff".into() }], ..Commit::default() })
        .await
        .unwrap();
    assert_eq!(store.standing("u2").await.unwrap().1, vec!["admins".to_string()], "memberships go with the group");

    // Authenticators, sessions and families of one account, one at a time; another
    // account's are out of reach.
    let passkey = |cred: &str, user: &str| StoredPasskey {
        cred_id: cred.into(),
        user_id: user.into(),
        name: "Key".into(),
        passkey: "{}".into(),
        created_at: Timestamp(3),
        last_used_at: None,
    };
    let session = |id: &str, user: &str| {
        SessionWrite::Create(StoredSession {
            id: id.into(),
            secret_hash: sha256(id.as_bytes()),
            user_id: user.into(),
            proofs: "[]".into(),
            created_at: Timestamp(10),
            last_seen_at: Timestamp(10),
            expires_at: Timestamp(1_000),
            revoked_at: None,
            browser: String::new(),
            ip: String::new(),
        })
    };
    let family = |id: &str, user: &str| StoredFamily {
        id: id.into(),
        client_id: "shop".into(),
        user_id: Some(user.into()),
        created_at: Timestamp(10),
    };
    store
        .commit(Commit {
            passkeys: vec![passkey("k1", "u2"), passkey("k2", "u2"), passkey("k3", "u3")],
            passwords: vec![("u2".into(), "$argon2id$x".into(), Timestamp(3))],
            sessions: vec![session("s1", "u2"), session("s2", "u2"), session("s3", "u3")],
            families: vec![family("f1", "u2"), family("f2", "u2")],
            mails: vec![Mail {
                id: 0,
                to: "adam@x.io".into(),
                subject: "s".into(),
                text: "t".into(),
                html: "h".into(),
                sent_at: Timestamp(3),
            }],
            ..Commit::default()
        })
        .await
        .unwrap();
    let rename = AccountChange::RenamePasskey { cred_id: "k1".into(), name: "Work laptop".into() };
    store.commit(one(write("u2", None, rename))).await.unwrap();
    let foreign = store.commit(one(write("u2", None, AccountChange::RemovePasskey { cred_id: "k3".into() }))).await;
    assert!(matches!(foreign, Err(StoreError::NotFound("passkey"))), "{foreign:?}");
    store.commit(one(write("u2", None, AccountChange::RemovePasskey { cred_id: "k2".into() }))).await.unwrap();
    let names: Vec<String> = store.passkeys_of("u2").await.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["Work laptop"]);
    store.commit(one(write("u2", None, AccountChange::RemovePassword))).await.unwrap();
    assert_eq!(store.password("u2").await.unwrap(), None);
    let no_totp = store.commit(one(write("u2", None, AccountChange::RemoveTotp))).await;
    assert!(matches!(no_totp, Err(StoreError::NotFound(_))), "{no_totp:?}");

    let ids = |v: Vec<StoredSession>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(store.sessions_of("u2", Timestamp(20)).await.unwrap()), ["s1", "s2"]);
    let other = store.commit(one(write("u2", None, AccountChange::RevokeSession { id: "s3".into() }))).await;
    assert!(matches!(other, Err(StoreError::NotFound("session"))), "{other:?}");
    store.commit(one(write("u2", None, AccountChange::RevokeSession { id: "s1".into() }))).await.unwrap();
    assert_eq!(ids(store.sessions_of("u2", Timestamp(20)).await.unwrap()), ["s2"]);
    store.commit(one(write("u2", None, AccountChange::RevokeFamily { id: "f1".into() }))).await.unwrap();
    let fams: Vec<String> = store.families_of("u2").await.unwrap().into_iter().map(|f| f.id).collect();
    assert_eq!(fams, ["f2"]);
    assert!(store.family_revoked("f1").await.unwrap());

    // Erasure: the account and its rows go, its families stay revoked without it, the
    // log forgets the address but keeps the id.
    let event = StoredEvent {
        uuid: "e1".into(),
        published: Timestamp(40),
        event_type: "user.session.start".into(),
        body: r#"{"actor":{"id":"u2","alternateId":"adam@x.io"}}"#.into(),
        hooks: vec![],
    };
    store.commit(Commit { events: vec![event], ..Commit::default() }).await.unwrap();
    store.commit(one(write("u2", None, AccountChange::Erase { email: "adam@x.io".into() }))).await.unwrap();
    assert_eq!(store.account("u2").await.unwrap(), None);
    assert_eq!(store.user_by_email("adam@x.io").await.unwrap(), None);
    assert!(store.passkeys_of("u2").await.unwrap().is_empty());
    assert!(store.sessions_of("u2", Timestamp(20)).await.unwrap().is_empty());
    assert!(store.family_revoked("f2").await.unwrap(), "its tokens stop working");
    assert!(store.families_of("u2").await.unwrap().is_empty());
    assert!(store.mails(Some("adam@x.io"), 10).await.unwrap().is_empty());
    let logged = store.events(0, 10).await.unwrap();
    assert_eq!(logged[0].1.body, format!(r#"{{"actor":{{"id":"u2","alternateId":"{ERASED}"}}}}"#));
    assert_eq!(store.groups().await.unwrap()[0].members, 0, "its memberships went");
    assert_eq!(ids(store.sessions_of("u3", Timestamp(20)).await.unwrap()), ["s3"], "others keep theirs");
}

#[tokio::test]
async fn directory_on_each_backend() {
    let (store, _dir) = sqlite().await;
    directory(store).await;
    if let Some((store, schema)) = postgres().await {
        directory(store).await;
        schema.drop_schema().await;
    }
}

/// The SMTP queue: one instance at a time holds an email; a failure waits its backoff;
/// what was sent, erased or given up on goes.
async fn mail_queue(store: Arc<dyn Store>) {
    let queued = |to: &str, at: i64| QueuedMail {
        id: 0,
        to: to.into(),
        sealed: format!("sealed for {to}").into_bytes(),
        created_at: Timestamp(at),
        attempts: 0,
    };
    let commit = Commit {
        queued_mails: vec![queued("a@x.io", 1000), queued("b@x.io", 1000), queued("c@x.io", 1000)],
        ..Commit::default()
    };
    store.commit(commit).await.unwrap();
    assert_eq!(store.mail_queue().await.unwrap(), QueueDepth { count: 3, oldest: Some(Timestamp(1000)) });

    let now = Timestamp(2000);
    let a = store.mail_claim("a", now, Timestamp(32_000), 2).await.unwrap();
    assert_eq!(a.len(), 2, "at most what was asked for");
    assert_eq!(a[0].sealed, format!("sealed for {}", a[0].to).into_bytes());
    let b = store.mail_claim("b", now, Timestamp(32_000), 8).await.unwrap();
    assert_eq!(b.len(), 1, "the other instance gets only what nobody holds");
    assert!(store.mail_claim("c", now, Timestamp(32_000), 8).await.unwrap().is_empty());

    // a: one sent, one failed (due again at 5000); b: stopping, hands its email back.
    store.mail_settle(a[0].id, "a", MailOutcome::Done).await.unwrap();
    let retry = MailOutcome::Retry { at: Timestamp(5000), error: "421 busy".into() };
    store.mail_settle(a[1].id, "b", retry.clone()).await.unwrap(); // not b's: nothing happens
    store.mail_settle(a[1].id, "a", retry).await.unwrap();
    store.mail_settle(b[0].id, "b", MailOutcome::Released).await.unwrap();
    let again = store.mail_claim("c", Timestamp(3000), Timestamp(33_000), 8).await.unwrap();
    assert_eq!(again.iter().map(|m| m.id).collect::<Vec<_>>(), [b[0].id], "the failed one waits its backoff");
    let later = store.mail_claim("c", Timestamp(5000), Timestamp(35_000), 8).await.unwrap();
    assert_eq!((later.len(), later[0].id, later[0].attempts), (1, a[1].id, 1), "then it is due, counted");
    // A dead instance's claim lapses: anyone may take it after `until`.
    assert!(store.mail_claim("d", Timestamp(32_999), Timestamp(60_000), 8).await.unwrap().is_empty());
    assert_eq!(store.mail_claim("d", Timestamp(35_001), Timestamp(60_000), 8).await.unwrap().len(), 2);
    assert_eq!(store.mail_queue().await.unwrap().count, 2);

    // Given up on after its retention; an erased account's mail goes with it.
    store.commit(Commit { queued_mails: vec![queued("new@x.io", 90_000)], ..Commit::default() }).await.unwrap();
    let mut r = retention(Timestamp(90_000));
    r.mail_queue = std::time::Duration::from_secs(60);
    store.purge(&r).await.unwrap();
    assert_eq!(store.mail_queue().await.unwrap(), QueueDepth { count: 1, oldest: Some(Timestamp(90_000)) });
    store.commit(Commit { users: vec![user("u-new", "new@x.io")], ..Commit::default() }).await.unwrap();
    let erase = AccountChange::Erase { email: "new@x.io".into() };
    let write = AccountWrite { user_id: "u-new".into(), version: None, at: Timestamp(91_000), change: erase };
    store.commit(Commit { accounts: vec![write], ..Commit::default() }).await.unwrap();
    assert_eq!(store.mail_queue().await.unwrap().count, 0);
    store.ready().await.unwrap();
}

#[tokio::test]
async fn mail_queue_on_each_backend() {
    let (store, _dir) = sqlite().await;
    mail_queue(store).await;
    if let Some((store, schema)) = postgres().await {
        mail_queue(store).await;
        schema.drop_schema().await;
    }
}

/// PostgreSQL as operators run it: instances starting at once migrate one at a time,
/// a connection the server drops is replaced without a restart, and TLS is used when
/// the URL asks (and verified when it says so).
#[tokio::test]
async fn postgres_in_production() {
    let Ok(url) = std::env::var("PASSWAY_TEST_POSTGRES_URL") else { return };
    let schema = PgSchema::create(&url).await;
    let sep = if url.contains('?') { '&' } else { '?' };
    let app_name = format!("{}_store", schema.name);
    let url = format!("{url}{sep}options[search_path]={}&application_name={app_name}", schema.name);

    let opened = futures_util::future::join_all((0..3).map(|_| super::open(&url))).await;
    let stores: Vec<_> = opened.into_iter().map(|s| s.expect("three instances migrate at once")).collect();
    for s in &stores {
        s.ready().await.unwrap();
    }

    let admin = sqlx::PgPool::connect(&std::env::var("PASSWAY_TEST_POSTGRES_URL").unwrap()).await.unwrap();
    let killed: Vec<bool> =
        sqlx::query_scalar("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1")
            .bind(&app_name)
            .fetch_all(&admin)
            .await
            .unwrap();
    assert!(!killed.is_empty(), "the stores' connections were cut");
    for s in &stores {
        s.ready().await.expect("a cut connection is replaced");
    }
    drop(stores);

    let tls = PostgresStore::open(&format!("{url}&sslmode=require")).await.expect("TLS (rustls)");
    let encrypted: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&tls.pool)
        .await
        .unwrap();
    assert!(encrypted, "the connection is TLS");
    tls.pool.close().await;
    // The test server's certificate is self-signed: verifying it must fail.
    let verified = PostgresStore::open(&format!("{url}&sslmode=verify-full")).await;
    assert!(verified.is_err(), "an untrusted certificate is refused");
    admin.close().await;
    schema.drop_schema().await;
}

#[test]
fn a_database_that_is_away_is_told_from_a_broken_request() {
    let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
    assert!(StoreError::Database(sqlx::Error::Io(io)).is_unavailable());
    assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
    assert!(!StoreError::Database(sqlx::Error::RowNotFound).is_unavailable());
    let busy = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY), None);
    assert!(StoreError::Sqlite(busy).is_unavailable());
    assert!(!StoreError::Conflict.is_unavailable());
    assert!(!StoreError::Corrupt("x".into()).is_unavailable());
}

/// Another instance's commit is heard at once (PostgreSQL's `NOTIFY`), and only when it
/// commits.
#[tokio::test]
async fn postgres_tells_every_instance_which_flow_changed() {
    let Some((here, schema)) = postgres().await else { return };
    let url = std::env::var("PASSWAY_TEST_POSTGRES_URL").unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let there = super::open(&format!("{url}{sep}options[search_path]={}", schema.name)).await.unwrap();
    let (tx, mut heard) = tokio::sync::mpsc::unbounded_channel::<String>();
    here.watch_flows(Box::new(move |id| {
        let _ = tx.send(id.to_owned());
    }));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // listening
    let id = format!("{}-flow", schema.name);
    there.insert_flow(&flow(&id, &format!("{id}-handle"))).await.unwrap();
    let stale = Commit { flow: Some((id.clone(), 7, "{}".into(), Timestamp(10))), ..Commit::default() };
    assert!(there.commit(stale).await.is_err(), "a conflict commits nothing");
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(500), async {
        loop {
            if heard.recv().await.unwrap().starts_with(&schema.name) {
                break;
            }
        }
    });
    assert!(quiet.await.is_err(), "nor is it heard");
    let step = Commit { flow: Some((id.clone(), 0, "{}".into(), Timestamp(10))), ..Commit::default() };
    there.commit(step).await.unwrap();
    let first = loop {
        // Other tests' flows share the channel (it is the database's): skip them.
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), heard.recv()).await.unwrap().unwrap();
        if got.starts_with(&schema.name) {
            break got;
        }
    };
    assert_eq!(first, id, "heard once, for the commit that happened");
    schema.drop_schema().await;
}

/// Instances starting at once on an empty store each plan a first key: one is made.
async fn planned_keys(one: Arc<dyn Store>, other: Arc<dyn Store>) {
    let key = |kid: &str| StoredKey {
        kid: kid.into(),
        alg: "ES256".into(),
        created_at: Timestamp(1),
        sealed_private: vec![1, 2, 3],
        public_jwk: "{}".into(),
        activates_at: Timestamp(1),
        retires_at: None,
    };
    for round in 0..5 {
        let (a, b) = (key(&format!("a{round}")), key(&format!("b{round}")));
        let (made_a, made_b) =
            tokio::join!(one.insert_planned_signing_key(&a, round), other.insert_planned_signing_key(&b, round));
        assert!(made_a.unwrap() ^ made_b.unwrap(), "exactly one of the two is made");
    }
    assert_eq!(one.signing_keys().await.unwrap().len(), 5);
    assert!(!one.insert_planned_signing_key(&key("late"), 3).await.unwrap(), "planned from a stale count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_keys_are_made_once_on_each_backend() {
    let (store, _dir) = sqlite().await;
    planned_keys(store.clone(), store).await;
    if let Some((store, schema)) = postgres().await {
        let url = std::env::var("PASSWAY_TEST_POSTGRES_URL").unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let other = super::open(&format!("{url}{sep}options[search_path]={}", schema.name)).await.unwrap();
        planned_keys(store, other).await;
        schema.drop_schema().await;
    }
}
