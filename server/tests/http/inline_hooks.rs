//! Inline hooks, called for real on a loopback receiver: each use case of
//! `examples/use-cases/inline-*.toml` with a receiver that does what the use case says,
//! and hooks that time out, fail, answer garbage or unknown commands — the journey then
//! follows `on_failure`, the person sees why, and the system log records the call.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use base64::Engine as _;
use passway_server::hooks::signature;
use serde_json::{Value, json};

use crate::event_hooks::secret_file;
use crate::support::*;

/// What a receiver answers a call with.
enum Answer {
    Json(Value),
    Status(u16),
    Raw(&'static str),
    /// Answers after this long.
    Slow(Duration),
}

/// A hook receiver on loopback: `answer` decides from the call's body.
#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<Vec<(HeaderMap, String)>>>,
}

impl Receiver {
    async fn start(answer: impl Fn(&Value) -> Answer + Send + Sync + 'static) -> (Receiver, String) {
        let receiver = Receiver::default();
        let calls = receiver.calls.clone();
        let answer = Arc::new(answer);
        let router = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let (calls, answer) = (calls.clone(), answer.clone());
                async move {
                    let text = String::from_utf8(body.to_vec()).unwrap();
                    let request: Value = serde_json::from_str(&text).unwrap();
                    calls.lock().unwrap().push((headers, text));
                    match answer(&request) {
                        Answer::Json(v) => axum::Json(v).into_response(),
                        Answer::Status(s) => StatusCode::from_u16(s).unwrap().into_response(),
                        Answer::Raw(s) => s.into_response(),
                        Answer::Slow(d) => {
                            tokio::time::sleep(d).await;
                            axum::Json(json!({})).into_response()
                        }
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (receiver, url)
    }

    /// The `data` of each call, in order.
    fn data(&self) -> Vec<Value> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()["data"].clone())
            .collect()
    }

    /// Every call was signed with the secret in `path` (Standard Webhooks).
    fn assert_signed(&self, path: &str, now: i64) {
        let secret = signature::parse_secret(&std::fs::read_to_string(path).unwrap()).unwrap();
        let calls = self.calls.lock().unwrap();
        assert!(!calls.is_empty());
        for (headers, body) in calls.iter() {
            let h = |name: &str| headers[name].to_str().unwrap();
            assert!(signature::verify(
                &secret,
                h("webhook-id"),
                h("webhook-timestamp"),
                h("webhook-signature"),
                body,
                now
            ));
            assert!(h("webhook-id").starts_with("msg_"));
        }
    }
}

/// The use case's apps (redirecting to the tests' URI), extra profile attributes and
/// inline hooks (calling `url`, with a secret in `dir`), as TOML to append.
fn use_case(file: &str, url: &str, dir: &tempfile::TempDir) -> (String, String) {
    let text = std::fs::read_to_string(repo().join("examples/use-cases").join(file)).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    let secret = secret_file(dir);
    let mut extra = toml::Table::new();
    let attributes: Vec<toml::Value> = doc["profile"]["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"].as_str() != Some("given_name"))
        .cloned()
        .collect();
    if !attributes.is_empty() {
        extra.insert(
            "profile".into(),
            toml::Value::Table(toml::Table::from_iter([("attributes".into(), attributes.into())])),
        );
    }
    let mut apps = doc["apps"].as_array().unwrap().clone();
    for app in &mut apps {
        app["redirect_uris"] = toml::Value::Array(vec![REDIRECT.into()]);
    }
    extra.insert("apps".into(), apps.into());
    let mut hooks = doc["hooks"].clone();
    for hook in hooks["inline"].as_array_mut().unwrap() {
        hook["url"] = url.into();
        hook["secret"] = toml::Value::Table(toml::Table::from_iter([("file".to_owned(), secret.clone().into())]));
    }
    extra.insert("hooks".into(), hooks);
    (toml::to_string(&extra).unwrap(), secret)
}

/// Identify → code → the registration form, for `client_id`; returns the form step.
async fn to_registration(
    server: &TestServer,
    client_id: &str,
    email: &str,
    locale: &str,
) -> passway_protocol::FlowResponse {
    let flow = server.start_with(json!({ "client_id": client_id, "ui_locales": locale })).await;
    let flow = server.submit(&flow, "identify", json!({ "identifier": email })).await.flow();
    let (code, _) = server.mailed(email).await;
    let flow = server.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    assert_eq!(names(&flow)[0], "enroll-profile", "{flow:?}");
    flow
}

/// The messages a flow response shows.
fn messages(flow: &passway_protocol::FlowResponse) -> String {
    serde_json::to_value(flow).unwrap()["messages"].to_string()
}

/// The system log's `inline_hook.executed` events: (outcome, reason).
async fn hook_calls(server: &TestServer) -> Vec<(String, String, Value)> {
    let events = server.app.store.events(0, 1000).await.unwrap();
    events
        .into_iter()
        .filter(|(_, e)| e.event_type == "inline_hook.executed")
        .map(|(_, e)| {
            let v: Value = serde_json::from_str(&e.body).unwrap();
            (
                v["outcome"]["result"].as_str().unwrap().to_owned(),
                v["outcome"]["reason"].as_str().unwrap_or("").to_owned(),
                v["debugContext"]["debugData"].clone(),
            )
        })
        .collect()
}

async fn account(server: &TestServer, email: &str) -> Option<passway_server::engine::User> {
    server.app.store.user_by_email(email).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_case_refuse_disposable_email_addresses() {
    let (receiver, url) = Receiver::start(|call| {
        let email = call["data"]["user"]["email"].as_str().unwrap();
        if email.ends_with("@mailinator.com") {
            Answer::Json(json!({ "error": {
                "message": "Disposable addresses can't sign up. Use an address you keep.",
                "messages": { "fr": "Les adresses jetables ne peuvent pas s'inscrire." },
            } }))
        } else {
            Answer::Json(json!({ "commands": [{ "type": "allow" }] }))
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (extra, secret) = use_case("inline-disposable-email.toml", &url, &dir);
    let server = &TestServer::with(&extra, None).await;

    for (locale, expected) in
        [("en", "Disposable addresses can't sign up"), ("fr", "Les adresses jetables ne peuvent pas s'inscrire")]
    {
        let flow = to_registration(server, "newsletter", "temp@mailinator.com", locale).await;
        let reply = server.submit(&flow, "enroll-profile", json!({ "given_name": "Tim" })).await;
        assert_eq!(reply.status.as_u16(), 200);
        let refused = reply.flow();
        assert!(messages(&refused).contains(expected), "{}", messages(&refused));
        assert_eq!(names(&refused)[0], "enroll-profile", "the form again");
    }
    assert!(account(server, "temp@mailinator.com").await.is_none(), "no account made");

    let flow = to_registration(server, "newsletter", "ada@example.com", "en").await;
    let done = server.submit(&flow, "enroll-profile", json!({ "given_name": "Ada" })).await.flow();
    assert!(done.success.is_some(), "{done:?}");
    assert!(account(server, "ada@example.com").await.is_some());

    let data = receiver.data();
    assert_eq!(data.len(), 3);
    assert_eq!(data[2]["user"]["email"], "ada@example.com");
    assert_eq!(data[2]["profile"], json!({ "given_name": "Ada" }));
    assert_eq!(data[2]["app"], json!({ "id": "newsletter", "name": "Newsletter" }));
    receiver.assert_signed(&secret, server.clock.now().unix_seconds());
    let calls = hook_calls(server).await;
    let outcomes: Vec<&str> = calls.iter().map(|(o, _, _)| o.as_str()).collect();
    assert_eq!(outcomes, ["DENY", "DENY", "SUCCESS"]);
    assert!(calls[0].2["durationMs"].as_str().is_some(), "{:?}", calls[0].2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_case_check_export_regulations_before_a_purchase() {
    let (_receiver, url) = Receiver::start(|call| match call["data"]["profile"]["country"].as_str() {
        Some("KP" | "IR") => Answer::Json(
            json!({ "error": { "message": "We can't sell to your country: export regulations forbid it." } }),
        ),
        _ => Answer::Json(json!({})),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (extra, _) = use_case("inline-export-check.toml", &url, &dir);
    let server = &TestServer::with(&extra, None).await;
    let flow = to_registration(server, "store", "kim@example.com", "en").await;
    let refused = server.submit(&flow, "enroll-profile", json!({ "given_name": "Kim", "country": "KP" })).await.flow();
    assert!(messages(&refused).contains("export regulations"), "{}", messages(&refused));
    let done = server.submit(&refused, "enroll-profile", json!({ "given_name": "Kim", "country": "FR" })).await.flow();
    assert!(done.success.is_some(), "{done:?}");
    assert_eq!(account(server, "kim@example.com").await.unwrap().profile["country"], "FR");
    // The shop (not in the hook's apps) registers without a call.
    server.register("ada@example.com", "Ada").await;
    assert_eq!(hook_calls(server).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_case_username_collision_suggests_another() {
    let (_receiver, url) = Receiver::start(|call| {
        let wanted = call["data"]["profile"]["username"].as_str().unwrap();
        if wanted == "ada" {
            Answer::Json(json!({ "error": { "message": format!("{wanted} is taken. How about {wanted}-lovelace?") } }))
        } else {
            Answer::Json(json!({ "commands": [{ "type": "allow" }] }))
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (extra, _) = use_case("inline-username-collision.toml", &url, &dir);
    let server = &TestServer::with(&extra, None).await;
    let flow = to_registration(server, "forum", "ada@example.com", "en").await;
    let taken = server.submit(&flow, "enroll-profile", json!({ "given_name": "Ada", "username": "ada" })).await.flow();
    assert!(messages(&taken).contains("How about ada-lovelace?"), "{}", messages(&taken));
    let done = server
        .submit(&taken, "enroll-profile", json!({ "given_name": "Ada", "username": "ada-lovelace" }))
        .await
        .flow();
    assert!(done.success.is_some(), "{done:?}");
    assert_eq!(account(server, "ada@example.com").await.unwrap().profile["username"], "ada-lovelace");
}

/// Decodes a JWT's claims (its signature is checked elsewhere).
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Signs `email` in to `client_id` (its account exists) and exchanges the code.
async fn tokens(server: &TestServer, client_id: &str, email: &str) -> Reply {
    let flow = server.start_with(json!({ "client_id": client_id })).await;
    let flow = server.submit(&flow, "identify", json!({ "identifier": email })).await.flow();
    let (code, _) = server.mailed(email).await;
    let done = server.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    let code = done.success.unwrap_or_else(|| panic!("signed in")).code.unwrap();
    server
        .post_form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", client_id),
                ("code_verifier", VERIFIER),
            ],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_case_add_the_crm_tier_to_tokens_but_never_a_registered_claim() {
    let (receiver, url) = Receiver::start(|call| match call["data"]["user"]["email"].as_str() {
        Some("ada@example.com") => Answer::Json(json!({ "commands": [{ "type": "claims.set", "value": {
            "id_token": { "crm_tier": "gold" }, "access_token": { "crm_tier": "gold", "crm_id": 42 } } }] })),
        // A CRM that tries to change who the token is about: refused, and on_failure allows.
        _ => Answer::Json(json!({ "commands": [{ "type": "claims.set", "value": {
            "id_token": { "sub": "admin", "crm_tier": "platinum" } } }] })),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (extra, _) = use_case("inline-crm-tier.toml", &url, &dir);
    let server = &TestServer::with(&extra, None).await;
    server.register("ada@example.com", "Ada").await;
    server.register("mallory@example.com", "Mallory").await;

    let ada = tokens(server, "portal", "ada@example.com").await.json();
    let id = claims(ada["id_token"].as_str().unwrap());
    let access = claims(ada["access_token"].as_str().unwrap());
    assert_eq!(id["crm_tier"], "gold");
    assert_eq!((access["crm_tier"].as_str(), access["crm_id"].as_i64()), (Some("gold"), Some(42)));
    assert_eq!(receiver.data()[0]["user"]["email"], "ada@example.com");
    assert_eq!(receiver.data()[0]["request"]["grantType"], "authorization_code");

    let mallory = tokens(server, "portal", "mallory@example.com").await.json();
    let id = claims(mallory["id_token"].as_str().unwrap());
    let user = account(server, "mallory@example.com").await.unwrap();
    assert_eq!(id["sub"], user.id.as_str(), "sub untouched");
    assert!(id.get("crm_tier").is_none(), "nothing from a refused answer");
    let failed = hook_calls(server).await.into_iter().find(|(o, _, _)| o == "FAILURE").unwrap();
    assert!(failed.1.contains("\"sub\" is a registered claim"), "{failed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_case_step_up_when_the_risk_service_says_high() {
    let (receiver, url) = Receiver::start(|call| {
        let risk = if call["data"]["identifier"] == "eve@example.com" { "high" } else { "low" };
        Answer::Json(json!({ "commands": [{ "type": "risk", "value": risk }] }))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (extra, _) = use_case("inline-risk-step-up.toml", &url, &dir);
    let server = &TestServer::with(&extra, None).await;
    for email in ["ada@example.com", "eve@example.com"] {
        server.register(email, "Someone").await;
    }
    // Bank accounts have passwords, so an email code is one factor type and a password the other.
    for email in ["ada@example.com", "eve@example.com"] {
        let user = account(server, email).await.unwrap();
        let hash = passway_server::authenticators::password::hash(
            "correct horse battery staple",
            passway_server::authenticators::password::HashCost::TEST,
            &mut passway_server::crypto::SystemEntropy,
        );
        let commit = passway_server::store::Commit {
            passwords: vec![(user.id, hash, server.clock.now())],
            ..Default::default()
        };
        server.app.store.commit(commit).await.unwrap();
    }
    let sign_in = async |email: &str| {
        let flow = server.start_with(json!({ "client_id": "bank" })).await;
        let flow = server.submit(&flow, "identify", json!({ "identifier": email })).await.flow();
        server
            .submit(&flow, "challenge-authenticator", json!({ "password": "correct horse battery staple" }))
            .await
            .flow()
    };
    let ada = sign_in("ada@example.com").await;
    assert!(ada.success.is_some(), "low risk: one factor will do: {ada:?}");
    let eve = sign_in("eve@example.com").await;
    assert!(eve.success.is_none(), "high risk: a second factor type");
    assert!(messages(&eve).contains("one more check"), "{}", messages(&eve));
    // Asked at every identify (the registrations' too), for known and unknown addresses alike.
    let asked: Vec<Value> = receiver.data().iter().map(|d| d["identifier"].clone()).collect();
    assert_eq!(asked, ["ada@example.com", "eve@example.com", "ada@example.com", "eve@example.com"]);
    assert!(receiver.data()[3]["request"]["ipAddress"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_case_migrate_passwords_without_a_reset() {
    let (receiver, url) = Receiver::start(|call| {
        let right = call["data"]["user"]["email"] == "ada@example.com"
            && call["data"]["credential"]["password"] == "the old system's password";
        Answer::Json(json!({ "commands": [{ "type": "password.verified", "value": right }] }))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (extra, _) = use_case("inline-password-migration.toml", &url, &dir);
    let server = &TestServer::with(&extra, None).await;
    let summary = passway_server::import::import(
        server.app.store.as_ref(),
        &server.app.config.engine.profile,
        "{\"email\": \"ada@example.com\", \"profile\": {\"given_name\": \"Ada\"}}\n",
        server.clock.now(),
        &mut passway_server::crypto::SystemEntropy,
    )
    .await
    .unwrap();
    assert_eq!(summary.created, 1);

    let sign_in = async |password: &str| {
        let flow = server.start_with(json!({ "client_id": "legacy" })).await;
        let flow = server.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
        server.submit(&flow, "challenge-authenticator", json!({ "password": password })).await.flow()
    };
    let wrong = sign_in("a guess").await;
    assert!(messages(&wrong).contains("That email and password do not match"), "{}", messages(&wrong));
    let right = sign_in("the old system's password").await;
    assert!(right.success.is_some(), "{right:?}");
    let user = account(server, "ada@example.com").await.unwrap();
    let stored = server.app.store.password(&user.id).await.unwrap().unwrap();
    assert!(stored.starts_with("$argon2id$"), "Passway's own hash now: {stored}");
    // Never asked again: the next sign-in checks the stored hash.
    let again = sign_in("the old system's password").await;
    assert!(again.success.is_some());
    assert_eq!(receiver.data().len(), 2, "asked for the first two answers only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_case_check_an_address_filled_in_once_signed_in() {
    let (_receiver, url) = Receiver::start(|call| {
        let street = call["data"]["profile"]["street_address"].as_str().unwrap_or_default();
        let postal = call["data"]["profile"]["postal_code"].as_str().unwrap_or_default();
        if street.contains("Nowhere") {
            Answer::Json(json!({ "error": { "message": "We don't deliver there." } }))
        } else {
            Answer::Json(json!({ "commands": [{ "type": "profile.update", "value": { "postal_code": postal.to_uppercase() } }] }))
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (extra, _) = use_case("inline-address-check.toml", &url, &dir);
    let server = &TestServer::with(&extra, None).await;
    server.register("ada@example.com", "Ada").await;
    let flow = server.start_with(json!({ "client_id": "checkout" })).await;
    let flow = server.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (code, _) = server.mailed("ada@example.com").await;
    let flow = server.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    assert_eq!(names(&flow)[0], "enroll-profile-update");
    let refused = server
        .submit(&flow, "enroll-profile-update", json!({ "street_address": "1 Nowhere Lane", "postal_code": "x1" }))
        .await
        .flow();
    assert!(messages(&refused).contains("We don't deliver there."), "{}", messages(&refused));
    let done = server
        .submit(&refused, "enroll-profile-update", json!({ "street_address": "1 Main St", "postal_code": "sw1a 1aa" }))
        .await
        .flow();
    assert!(done.success.is_some(), "{done:?}");
    assert_eq!(account(server, "ada@example.com").await.unwrap().profile["postal_code"], "SW1A 1AA");
}

/// A registration hook (the disposable-email use case) that answers `answer`, with
/// `on_failure`: whether the sign-up went through, what the person saw, and the log's
/// reason.
async fn failing(answer: Answer, on_failure: &str) -> (bool, String, String) {
    let answer = Arc::new(Mutex::new(Some(answer)));
    let (_receiver, url) = Receiver::start(move |_| answer.lock().unwrap().take().unwrap_or(Answer::Status(500))).await;
    failing_at(&url, on_failure).await
}

async fn failing_at(url: &str, on_failure: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (extra, _) = use_case("inline-disposable-email.toml", url, &dir);
    let extra = extra.replace("on_failure = \"deny\"", &format!("on_failure = \"{on_failure}\"\ntimeout_seconds = 1"));
    let server = &TestServer::with(&extra, None).await;
    let flow = to_registration(server, "newsletter", "ada@example.com", "en").await;
    let out = server.submit(&flow, "enroll-profile", json!({ "given_name": "Ada" })).await.flow();
    let calls = hook_calls(server).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "FAILURE");
    (out.success.is_some(), messages(&out), calls[0].1.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_that_fail_follow_on_failure_and_say_why() {
    let unavailable = "We can't check this right now";
    for (answer, reason) in [
        (Answer::Slow(Duration::from_secs(3)), "no answer within 1s"),
        (Answer::Status(500), "answered HTTP 500"),
        (Answer::Raw("<html>Bad gateway</html>"), "the answer is not JSON"),
        (
            Answer::Json(json!({ "commands": [{ "type": "registration.approve" }] })),
            "unknown command type \"registration.approve\"",
        ),
        (
            Answer::Json(json!({ "commands": [{ "type": "risk", "value": "high" }] })),
            "\"risk\" is not a command of registration hooks",
        ),
        (
            Answer::Json(json!({ "commands": [{ "type": "profile.update", "value": { "is_admin": "true" } }] })),
            "profile.update names \"is_admin\"",
        ),
    ] {
        let (signed_up, shown, logged) = failing(answer, "deny").await;
        assert!(!signed_up, "{reason}");
        assert!(shown.contains(unavailable), "{reason}: {shown}");
        assert!(logged.contains(reason), "logged {logged:?}, expected {reason:?}");
    }
    let (signed_up, shown, logged) = failing(Answer::Status(503), "allow").await;
    assert!(signed_up, "on_failure = allow: {shown}");
    assert_eq!(logged, "answered HTTP 503");
    // Nothing listens: no connection (tried twice), then on_failure.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", listener.local_addr().unwrap())
    };
    let (signed_up, _, logged) = failing_at(&closed, "deny").await;
    assert!(!signed_up);
    assert!(logged.starts_with("call failed: connect"), "{logged}");
}

/// The demo's inline registration hook, served by Passway itself (dev mode): it
/// refuses `@blocked.example` in the person's language, and its calls show in the dev
/// hook inbox, verified; a call it cannot verify gets 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_refuses_blocked_example_through_its_own_inline_hook() {
    let dir = tempfile::tempdir().unwrap();
    let secret = secret_file(&dir);
    // The router also listens on a socket, where its own hook calls reach it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{}", listener.local_addr().unwrap(), passway_server::http::dev_hooks::REGISTRATION);
    let extra = format!(
        "[[hooks.inline]]\nname = \"demo-registration\"\ntype = \"registration\"\nurl = \"{url}\"\nsecret = {{ file = \"{secret}\" }}\non_failure = \"deny\"\n"
    );
    let server = &TestServer::with(&extra, None).await;
    let app = server.app.clone();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (shutdown, _) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        passway_server::serve::serve(listener, app, shutdown, async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    for (locale, expected) in [("en", "cannot sign up here"), ("fr", "ne peuvent pas s'inscrire ici")] {
        let flow = to_registration(server, "shop", "eve@blocked.example", locale).await;
        let refused = server.submit(&flow, "enroll-profile", json!({ "given_name": "Eve" })).await.flow();
        assert!(messages(&refused).contains(expected), "{}", messages(&refused));
    }
    assert!(account(server, "eve@blocked.example").await.is_none());
    server.register("ada@example.com", "Ada").await;
    assert!(account(server, "ada@example.com").await.is_some());

    let calls = server.get("/dev/hooks/deliveries").await.json();
    let calls = calls.as_array().unwrap();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|c| c["verified"] == true && c["hook"] == "demo-registration"), "{calls:?}");
    assert_eq!(calls[0]["body"]["type"], "com.passway.inline.registration");
    let page = server.get("/dev/hooks").await.text();
    assert_eq!(page.matches("inline hook call: com.passway.inline.registration").count(), 3, "{page}");

    let forged =
        server.post_json("/dev/hooks/registration", &json!({ "data": { "user": { "email": "x@example.com" } } })).await;
    assert_eq!(forged.status.as_u16(), 401);
}

/// The token hook is asked again at each refresh, and a hook that refuses ends the
/// refresh (the token presented is spent; the person signs in again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_hook_is_asked_at_refresh_too() {
    let refuse = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refusing = refuse.clone();
    let (receiver, url) = Receiver::start(move |call| {
        if refusing.load(std::sync::atomic::Ordering::SeqCst) {
            return Answer::Json(json!({ "commands": [{ "type": "deny" }] }));
        }
        let tier = if call["data"]["request"]["grantType"] == "refresh_token" { "platinum" } else { "gold" };
        Answer::Json(json!({ "commands": [{ "type": "claims.set", "value": { "id_token": { "crm_tier": tier } } }] }))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (extra, _) = use_case("inline-crm-tier.toml", &url, &dir);
    let extra = extra.replace(
        "client_id = \"portal\"",
        "client_id = \"portal\"\ngrant_types = [\"authorization_code\", \"refresh_token\"]",
    );
    let server = &TestServer::with(&extra, None).await;
    server.register("ada@example.com", "Ada").await;
    let flow = server.start_with(json!({ "client_id": "portal", "scope": "openid email offline_access" })).await;
    let flow = server.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (code, _) = server.mailed("ada@example.com").await;
    let done = server.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    let code = done.success.unwrap().code.unwrap();
    let first = server
        .post_form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", "portal"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await
        .json();
    assert_eq!(claims(first["id_token"].as_str().unwrap())["crm_tier"], "gold");
    let refresh = |token: String| async move {
        server
            .post_form(
                "/oauth2/v1/token",
                &[("grant_type", "refresh_token"), ("refresh_token", &token), ("client_id", "portal")],
            )
            .await
    };
    let second = refresh(first["refresh_token"].as_str().unwrap().to_owned()).await.json();
    assert_eq!(claims(second["id_token"].as_str().unwrap())["crm_tier"], "platinum");
    refuse.store(true, std::sync::atomic::Ordering::SeqCst);
    let refused = refresh(second["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(refused.error(), (400, "access_denied".to_owned()), "{}", refused.text());
    assert_eq!(receiver.data().len(), 3);
}

/// The README's example receiver (`examples/hooks/registration.mjs`) answers Passway's
/// own calls — signed now, by the real client — and refuses an unsigned one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_registration_hook_in_node_answers_passways_calls() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let secret = secret_file(&dir);
    /// Stops the receiver whatever happens to the test.
    struct Stopped(std::process::Child);
    impl Drop for Stopped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut node = Stopped(
        std::process::Command::new("node")
            .arg(repo().join("examples/hooks/registration.mjs"))
            .env("HOOK_SECRET_FILE", &secret)
            .env("PORT", "0")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("node"),
    );
    let mut line = String::new();
    std::io::BufReader::new(node.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}")).to_owned();
    let url = format!("http://127.0.0.1:{port}/");
    let (extra, _) = use_case("inline-disposable-email.toml", &url, &dir);
    let server = &TestServer::with(&extra, None).await;
    let ask = async |email: &str| {
        let call = passway_server::engine::hook::HookCall {
            point: passway_server::engine::hook::HookPoint::Registration,
            hook: "disposable-email".into(),
            data: json!({ "user": { "email": email }, "profile": { "given_name": "Tim" } }),
        };
        passway_server::hooks::inline::call(&server.app, &call, passway_server::clock::Clock::System.now()).await.reply
    };
    let refused = ask("tim@mailinator.com").await;
    let passway_server::engine::hook::HookReply::Answered(commands) = refused else { panic!("{refused:?}") };
    assert!(commands.deny);
    assert!(commands.error.unwrap().for_locale("fr").starts_with("Les adresses jetables"));
    let allowed = ask("tim@example.com").await;
    assert!(matches!(allowed, passway_server::engine::hook::HookReply::Answered(ref c) if !c.deny), "{allowed:?}");
    // Signed at the server's (test) clock, years from now: out of the receiver's tolerance.
    let late = passway_server::hooks::inline::call(
        &server.app,
        &passway_server::engine::hook::HookCall {
            point: passway_server::engine::hook::HookPoint::Registration,
            hook: "disposable-email".into(),
            data: json!({ "user": { "email": "tim@example.com" } }),
        },
        server.clock.now(),
    )
    .await;
    assert_eq!(late.reply, passway_server::engine::hook::HookReply::Failed("answered HTTP 401".into()));
}
