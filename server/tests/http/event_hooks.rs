//! Event hooks, delivered to a receiver on loopback: verified first, signed (Standard
//! Webhooks), retried with the same webhook-id until the receiver takes them, and only
//! the events subscribed to.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::get;
use base64::Engine as _;
use passway_server::hooks::signature;
use serde_json::{Value, json};

use crate::support::*;

/// A receiver that echoes verification challenges and answers deliveries with `status`.
#[derive(Clone, Default)]
struct Receiver {
    status: Arc<AtomicU16>,
    verifications: Arc<Mutex<u32>>,
    deliveries: Arc<Mutex<Vec<(HeaderMap, String)>>>,
}

impl Receiver {
    async fn start(status: u16) -> (Receiver, String) {
        let receiver = Receiver::default();
        receiver.status.store(status, Ordering::SeqCst);
        let (verify, deliver) = (receiver.clone(), receiver.clone());
        let router = Router::new().route(
            "/hook",
            get(move |headers: HeaderMap| async move {
                *verify.verifications.lock().unwrap() += 1;
                let challenge = headers["x-passway-verification-challenge"].to_str().unwrap().to_owned();
                axum::Json(json!({ "verification": challenge }))
            })
            .post(move |headers: HeaderMap, body: Bytes| async move {
                deliver.deliveries.lock().unwrap().push((headers, String::from_utf8(body.to_vec()).unwrap()));
                axum::http::StatusCode::from_u16(deliver.status.load(Ordering::SeqCst)).unwrap()
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (receiver, url)
    }

    fn deliveries(&self) -> Vec<(HeaderMap, String)> {
        self.deliveries.lock().unwrap().clone()
    }
}

/// A `whsec_` secret in a file, as an operator keeps it.
pub(crate) fn secret_file(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("hook.secret");
    std::fs::write(&path, format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode([42u8; 32]))).unwrap();
    path.display().to_string()
}

/// Waits (moving the server's clock past backoffs) until `done`.
async fn until(server: &TestServer, what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if done().await {
            return;
        }
        server.advance(1);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_a_verified_receiver_signed_once_it_answers() {
    let (receiver, url) = Receiver::start(503).await;
    let dir = tempfile::tempdir().unwrap();
    let path = secret_file(&dir);
    let secret = std::fs::read_to_string(&path).unwrap();
    let extra = format!(
        r#"
[[hooks.events]]
name = "siem"
url = "{url}"
events = ["user.lifecycle.create", "user.session.start"]
secret = {{ file = "{}" }}
"#,
        path
    );
    let server = &TestServer::with(&extra, None).await;
    passway_server::hooks::worker::spawn(&server.app);
    server.register("ada@example.com", "Ada").await;

    until(server, "a first (refused) delivery", async || !receiver.deliveries().is_empty()).await;
    assert_eq!(*receiver.verifications.lock().unwrap(), 1, "verified before anything is sent");
    receiver.status.store(204, Ordering::SeqCst);
    until(server, "a retry", async || receiver.deliveries().len() >= 2).await;
    until(server, "the outbox to empty", async || {
        let hooks = server.app.store.hooks().await.unwrap();
        hooks[0].pending == 0 && hooks[0].status == "active"
    })
    .await;

    let deliveries = receiver.deliveries();
    let (first, retry) = (&deliveries[0], &deliveries[1]);
    assert_eq!(first.0["webhook-id"], retry.0["webhook-id"], "a retry is the same message");
    assert_eq!(first.1, retry.1);
    let secret = signature::parse_secret(&secret).unwrap();
    let now = server.clock.now().unix_seconds();
    for (headers, body) in &deliveries {
        let h = |name: &str| headers[name].to_str().unwrap();
        assert!(signature::verify(
            &secret,
            h("webhook-id"),
            h("webhook-timestamp"),
            h("webhook-signature"),
            body,
            now + 200
        ));
        assert!(!signature::verify(
            &secret,
            h("webhook-id"),
            h("webhook-timestamp"),
            h("webhook-signature"),
            &body.replace("ada", "eve"),
            now + 200
        ));
    }
    let body: Value = serde_json::from_str(&retry.1).unwrap();
    assert_eq!(body["type"], "passway.events");
    let events = body["data"]["events"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["eventType"].as_str().unwrap()).collect();
    assert_eq!(types, ["user.lifecycle.create", "user.session.start"], "only what it subscribed to");
    assert!(events.iter().all(|e| e["actor"]["alternateId"] == "ada@example.com"));

    let attempts = server.app.store.hook_attempts("siem", 10).await.unwrap();
    let statuses: Vec<Option<u16>> = attempts.iter().map(|a| a.status).collect();
    assert_eq!(&statuses[statuses.len() - 3..], [Some(204), Some(503), Some(200)], "{attempts:?}");
    let logged: Vec<String> =
        server.app.store.events(0, 100).await.unwrap().into_iter().map(|(_, e)| e.event_type).collect();
    assert!(logged.iter().any(|t| t == "event_hook.verified"), "{logged:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_does_not_echo_the_challenge_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let router = Router::new().route("/hook", get(|| async { "hello" }).post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let extra = format!(
        "[[hooks.events]]\nname = \"lazy\"\nurl = \"{url}\"\nevents = [\"user.session.start\"]\nsecret = {{ file = \"{}\" }}\n",
        secret_file(&dir)
    );
    let server = &TestServer::with(&extra, None).await;
    passway_server::hooks::worker::spawn(&server.app);
    server.register("ada@example.com", "Ada").await;
    until(server, "a failed verification", async || {
        server.app.store.hooks().await.unwrap().first().is_some_and(|h| h.reason.is_some())
    })
    .await;
    let hook = &server.app.store.hooks().await.unwrap()[0];
    assert_eq!((hook.status.as_str(), hook.pending), ("unverified", 1));
    assert!(hook.reason.as_deref().unwrap().contains("verification"), "{hook:?}");
    assert!(server.app.store.hook_attempts("lazy", 10).await.unwrap().iter().all(|a| a.webhook_id == "verification"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_hook_inbox_shows_verified_deliveries() {
    // The hook points at the server's own inbox, served on a loopback socket.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[[hooks.events]]\nname = \"dev-inbox\"\nurl = \"http://{}/dev/hooks/inbox\"\nevents = [\"user.session.start\"]\nsecret = {{ file = \"{}\" }}\n",
        listener.local_addr().unwrap(),
        secret_file(&dir)
    );
    let server = &TestServer::with(&extra, None).await;
    let router = passway_server::http::router(server.app.clone());
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap()
    });
    passway_server::hooks::worker::spawn(&server.app);
    server.register("ada@example.com", "Ada").await;
    let mut received = Value::Null;
    until(server, "a delivery in the inbox", async || {
        received = server.get("/dev/hooks/deliveries").await.json();
        received.as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_eq!(received[0]["verified"], true, "{received}");
    assert_eq!(received[0]["hook"], "dev-inbox");
    assert_eq!(received[0]["body"]["data"]["events"][0]["eventType"], "user.session.start");
    let page = server.get("/dev/hooks").await.text();
    assert!(page.contains("signature verified · 1 event(s): user.session.start"), "{page}");
    assert!(!page.contains("inline hook call"), "a delivery is not an inline call: {page}");
}

/// The README's receivers (`examples/hooks/verify.{mjs,py}`) accept Passway's signature
/// and refuse a body changed by one byte.
#[test]
fn the_example_receivers_verify_a_signature_in_node_and_python() {
    let dir = tempfile::tempdir().unwrap();
    let secret_text = std::fs::read_to_string(secret_file(&dir)).unwrap();
    let secret = signature::parse_secret(&secret_text).unwrap();
    let body = r#"{"type":"passway.events","data":{"events":[{"eventType":"user.session.start"}]}}"#;
    let now = passway_server::clock::Clock::System.now().unix_seconds();
    let headers = json!({
        "webhook-id": "msg_1",
        "webhook-timestamp": now.to_string(),
        "webhook-signature": signature::sign(&secret, "msg_1", now, body),
    })
    .to_string();
    let examples = repo().join("examples/hooks");
    for (program, script, yes) in [("node", "verify.mjs", "true"), ("python3", "verify.py", "True")] {
        for (text, expected) in [(body.to_owned(), yes), (body.replace("start", "Start"), "")] {
            let file = dir.path().join("body.json");
            std::fs::write(&file, &text).unwrap();
            let out = std::process::Command::new(program)
                .arg(examples.join(script))
                .args([&secret_text, &headers])
                .arg(&file)
                .output()
                .unwrap_or_else(|e| panic!("{program}: {e}"));
            let said = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            assert!(out.status.success(), "{program} {script}: {}", String::from_utf8_lossy(&out.stderr));
            if expected.is_empty() {
                assert_ne!(said.to_lowercase(), "true", "{program} accepted a changed body");
            } else {
                assert_eq!(said, expected, "{program} {script}");
            }
        }
    }
}

/// A use case's event hooks (with its `[lockout]` and `[rate_limits]`) from
/// `examples/use-cases/`, pointed at `url` and a test secret.
fn use_case(file: &str, url: &str, dir: &tempfile::TempDir) -> String {
    let text = std::fs::read_to_string(repo().join("examples/use-cases").join(file)).unwrap();
    let mut doc: toml::Table = text.parse().unwrap();
    let mut hooks = doc.remove("hooks").expect("a use case with hooks");
    for hook in hooks["events"].as_array_mut().unwrap() {
        hook["url"] = url.into();
        hook["secret"] = toml::Value::Table(toml::Table::from_iter([("file".to_owned(), secret_file(dir).into())]));
    }
    let mut extra = toml::Table::from_iter([("hooks".to_owned(), hooks)]);
    for table in ["lockout", "rate_limits"] {
        if let Some(v) = doc.remove(table) {
            extra.insert(table.to_owned(), v);
        }
    }
    toml::to_string(&extra).unwrap()
}

/// Every event the receiver got, in order.
fn received(receiver: &Receiver) -> Vec<Value> {
    receiver
        .deliveries()
        .iter()
        .flat_map(|(_, body)| {
            serde_json::from_str::<Value>(body).unwrap()["data"]["events"].as_array().unwrap().clone()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_case_push_each_new_registration_to_a_marketing_system() {
    let (receiver, url) = Receiver::start(204).await;
    let dir = tempfile::tempdir().unwrap();
    let server = &TestServer::with(&use_case("hook-marketing.toml", &url, &dir), None).await;
    passway_server::hooks::worker::spawn(&server.app);
    server.register("ada@example.com", "Ada").await;
    server.sign_in("ada@example.com").await; // a sign-in is not a registration
    server.register("bob@example.com", "Bob").await;
    until(server, "two registrations", async || received(&receiver).len() >= 2).await;
    let events = received(&receiver);
    let who: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e["eventType"].as_str().unwrap(), e["target"][0]["alternateId"].as_str().unwrap()))
        .collect();
    assert_eq!(who, [("user.registration.create", "ada@example.com"), ("user.registration.create", "bob@example.com")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_case_alert_on_call_on_lockouts_and_floods() {
    let (receiver, url) = Receiver::start(204).await;
    let dir = tempfile::tempdir().unwrap();
    let mut extra = use_case("hook-on-call.toml", &url, &dir);
    extra = extra.replace("[rate_limits]\n", "[rate_limits]\ntrusted_proxies = [\"0.0.0.0/32\"]\n");
    let server = &TestServer::with(&extra, None).await;
    passway_server::hooks::worker::spawn(&server.app);
    // A flood of flows from one address…
    for _ in 0..6 {
        let req = axum::http::Request::post("/api/v1/flows")
            .header("content-type", "application/json")
            .header("x-forwarded-for", "198.51.100.7")
            .body(axum::body::Body::from(
                json!({"client_id": "shop", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE, "code_challenge_method": "S256"})
                    .to_string(),
            ))
            .unwrap();
        server.send(req).await;
    }
    // …and wrong codes for one address, until it locks (three, in this use case).
    for _ in 0..3 {
        let flow = server.start().await;
        let flow = server.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
        let (code, _) = server.mailed("ada@example.com").await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        server.submit(&flow, "challenge-authenticator", json!({ "code": wrong })).await;
    }
    until(server, "two alerts", async || received(&receiver).len() >= 2).await;
    let events = received(&receiver);
    let alerts: Vec<&str> = events.iter().map(|e| e["eventType"].as_str().unwrap()).collect();
    assert_eq!(alerts, ["security.request.blocked", "user.account.lock"], "{events:?}");
    assert_eq!(events[0]["client"]["ipAddress"], "198.51.100.7");
    assert_eq!(events[1]["actor"]["alternateId"], "ada@example.com");
    assert_eq!(events[1]["severity"], "WARN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_case_send_a_welcome_email_from_your_own_system() {
    let (receiver, url) = Receiver::start(204).await;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}\n[[apps]]\nclient_id = \"intranet\"\nname = \"Intranet\"\nredirect_uris = [\"{REDIRECT}\"]\n",
        use_case("hook-welcome-email.toml", &url, &dir)
    );
    let server = &TestServer::with(&extra, None).await;
    passway_server::hooks::worker::spawn(&server.app);
    // A sign-up to the intranet gets no welcome from the shop (the hook's filter)…
    let flow = server.start_with(json!({ "client_id": "intranet" })).await;
    let flow = server.submit(&flow, "identify", json!({ "identifier": "eve@example.com" })).await.flow();
    let (code, _) = server.mailed("eve@example.com").await;
    let flow = server.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    server.submit(&flow, "enroll-profile", json!({ "email": "eve@example.com", "given_name": "Eve" })).await;
    // …a sign-up to the shop does.
    server.register("ada@example.com", "Ada").await;
    until(server, "a welcome", async || !received(&receiver).is_empty()).await;
    for _ in 0..5 {
        server.advance(1);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = received(&receiver);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["eventType"], "user.lifecycle.create");
    assert_eq!(events[0]["target"][0]["alternateId"], "ada@example.com");
    assert!(events[0]["target"].as_array().unwrap().iter().any(|t| t["id"] == "shop"));
}
