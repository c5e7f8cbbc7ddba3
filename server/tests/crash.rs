//! Kill -9 with event hook deliveries waiting and one in flight, then start again:
//! every event arrives, and an event sent twice comes with the same webhook-id.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use passway_server::engine::{EventType, LogEntry, LogOutcome};
use passway_server::events::{ClientInfo, Context, Recorder};
use passway_server::hooks::Subscriptions;
use serde_json::{Value, json};

/// Events received: uuid → the webhook-ids it came with.
type Seen = Arc<Mutex<HashMap<String, Vec<String>>>>;

async fn receiver(hang: Arc<AtomicBool>, in_flight: Arc<AtomicBool>, seen: Seen) -> String {
    let router = Router::new().route(
        "/hook",
        get(|headers: HeaderMap| async move {
            axum::Json(json!({ "verification": headers["x-passway-verification-challenge"].to_str().unwrap() }))
        })
        .post(move |headers: HeaderMap, body: Bytes| async move {
            let id = headers["webhook-id"].to_str().unwrap().to_owned();
            let body: Value = serde_json::from_slice(&body).unwrap();
            for e in body["data"]["events"].as_array().unwrap() {
                seen.lock().unwrap().entry(e["uuid"].as_str().unwrap().to_owned()).or_default().push(id.clone());
            }
            if hang.load(Ordering::SeqCst) {
                // The first delivery hangs: the server dies with it in flight.
                in_flight.store(true, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            StatusCode::NO_CONTENT
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

fn start(config: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_passway"))
        .arg("--config")
        .arg(config)
        .args(["serve", "--listen", "127.0.0.1:0", "--stop-on-stdin-eof"])
        .env_remove("PASSWAY_MASTER_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start passway")
}

async fn wait_for(what: &str, seconds: u64, done: impl Fn() -> bool) {
    for _ in 0..seconds * 10 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out after {seconds} s waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_event_hook_delivery() {
    let (hang, in_flight) = (Arc::new(AtomicBool::new(true)), Arc::new(AtomicBool::new(false)));
    let seen: Seen = Arc::default();
    let url = receiver(hang.clone(), in_flight.clone(), seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hook.secret"), passway_server::hooks::signature::new_secret()).unwrap();
    let themes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes");
    let config = dir.path().join("passway.toml");
    std::fs::write(
        &config,
        format!(
            "dev_mode = true\ndata_dir = \"{data}\"\n[themes]\ndir = \"{themes}\"\n\
             [[hooks.events]]\nname = \"siem\"\nurl = \"{url}\"\nevents = [\"user.session.start\"]\nsecret = {{ file = \"hook.secret\" }}\n",
            data = dir.path().join("data").display(),
            themes = themes.display(),
        ),
    )
    .unwrap();

    // 450 events waiting in the outbox (three batches), recorded as the server records them.
    let loaded = passway_server::config::Config::load(&config).unwrap();
    let store = passway_server::store::open(&loaded.store_url).await.unwrap();
    let recorder = Recorder::new(Subscriptions::new(&loaded.hooks));
    let client = ClientInfo { ip: "203.0.113.9".into(), ..ClientInfo::default() };
    let now = passway_server::clock::Clock::System.now();
    let events: Vec<_> = (0..450)
        .map(|i| {
            let entry = LogEntry::new(EventType::UserSessionStart, LogOutcome::Success, "User signed in")
                .actor(format!("u-{i}"), format!("user{i}@example.com"));
            recorder.record(&entry, &Context::request(&client), now)
        })
        .collect();
    let uuids: HashSet<String> = events.iter().map(|e| e.uuid.clone()).collect();
    store.commit(passway_server::store::Commit { events, ..Default::default() }).await.unwrap();
    drop(store);

    let mut first = start(&config);
    wait_for("a delivery in flight", 30, || in_flight.load(Ordering::SeqCst)).await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    hang.store(false, Ordering::SeqCst);

    let mut second = start(&config);
    // The dead instance's lease runs out (10 s), then the new one delivers everything.
    let in_flight_batch: HashSet<String> = seen.lock().unwrap().keys().cloned().collect();
    assert_eq!(in_flight_batch.len(), 200, "one batch was in flight");
    wait_for("every event", 60, || seen.lock().unwrap().len() == uuids.len()).await;
    drop(second.stdin.take());
    second.wait().unwrap();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.keys().cloned().collect::<HashSet<_>>(), uuids, "every event arrived");
    for uuid in &in_flight_batch {
        assert_eq!(seen[uuid].len(), 2, "the batch in flight at the kill was sent again");
    }
    for (uuid, ids) in seen.iter() {
        assert!(ids.iter().all(|id| id == &ids[0]), "{uuid} came again under another webhook-id: {ids:?}");
    }
}

mod common;
#[path = "http/smtp_sink.rs"]
#[allow(dead_code)]
mod smtp_sink;

/// Kill -9 with emails waiting for an SMTP server that is down: once it is back and
/// the server has started again, every email arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_email() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let smtp = listener.local_addr().unwrap().port();
    drop(listener); // SMTP is down
    let dir = tempfile::tempdir().unwrap();
    let themes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes");
    let config = dir.path().join("passway.toml");
    std::fs::write(
        &config,
        format!(
            "dev_mode = true\ndata_dir = \"{data}\"\n[themes]\ndir = \"{themes}\"\n\
             [mail]\nfrom = \"auth@passway.test\"\ntransport = \"smtp\"\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {smtp}\nsecurity = \"none\"\n\
             [[apps]]\nclient_id = \"shop\"\nname = \"Shop\"\nredirect_uris = [\"https://shop.example/cb\"]\n",
            data = dir.path().join("data").display(),
            themes = themes.display(),
        ),
    )
    .unwrap();

    let common::Served { child: mut first, base, .. } = common::serve(&config, &[]);
    let http = reqwest::Client::new();
    let addresses: HashSet<String> = (0..5).map(|i| format!("ada{i}@example.com")).collect();
    for to in &addresses {
        let start = json!({
            "client_id": "shop", "redirect_uri": "https://shop.example/cb", "state": "s", "scope": "openid",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
        });
        let flow: Value =
            http.post(format!("{base}/api/v1/flows")).json(&start).send().await.unwrap().json().await.unwrap();
        let identify = flow["remediations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "identify")
            .expect("identify offered");
        let answered = http
            .post(identify["href"].as_str().unwrap())
            .header(passway_protocol::BINDING_HEADER, flow["binding"].as_str().unwrap())
            .json(&json!({ "identifier": to }))
            .send()
            .await
            .unwrap();
        assert!(answered.status().is_success(), "{}", answered.text().await.unwrap());
    }
    first.kill().unwrap(); // SIGKILL, the emails queued and failing
    first.wait().unwrap();

    let mut received = smtp_sink::sink_on(tokio::net::TcpListener::bind(("127.0.0.1", smtp)).await.unwrap(), None);
    let mut second = common::serve(&config, &[]).child;
    let mut to = HashSet::new();
    let mut messages = 0;
    while to != addresses {
        let message = tokio::time::timeout(Duration::from_secs(60), received.recv())
            .await
            .unwrap_or_else(|_| panic!("only {to:?} arrived"))
            .unwrap();
        messages += 1;
        to.insert(message.lines().find_map(|l| l.strip_prefix("To: ")).unwrap().to_owned());
    }
    assert_eq!(messages, addresses.len(), "SMTP was down: nothing went twice");
    drop(second.stdin.take());
    second.wait().unwrap();
}
