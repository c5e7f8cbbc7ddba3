//! Attacks, each written as it would be tried: a second browser holding a flow's
//! handle, racing guesses, floods from one address, guessing emailed codes across
//! flows, mailing someone's inbox full. Every one must fail.

use axum::body::Body;
use axum::http::Request;
use passway_protocol::FlowResponse;
use serde_json::{Value, json};

use crate::support::*;

/// Proves `email` (a new address) on `flow` as its own browser and stops at the
/// registration form: one step from success.
async fn proven_up_to_profile(s: &TestServer, b: &Browser<'_>, flow: FlowResponse, email: &str) -> FlowResponse {
    let flow = b.submit(&flow, "identify", json!({ "identifier": email })).await.flow();
    let (code, _) = s.mailed(email).await;
    let flow = b.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    assert_eq!(names(&flow)[0], "enroll-profile");
    flow
}

#[tokio::test]
async fn login_csrf_a_planted_hosted_page_moves_nothing_in_another_browser() {
    let s = TestServer::new().await;
    let attacker = Browser::new(&s);
    let r = attacker.get(&format!("/oauth2/v1/authorize?{}", authorize_query("shop", REDIRECT, "openid", ""))).await;
    let location = r.header("location").unwrap().to_owned();
    let handle = location.strip_prefix("/signin?flow=").unwrap().to_owned();
    let flow = attacker.get(&format!("/api/v1/flows/{handle}")).await.flow();
    let flow = proven_up_to_profile(&s, &attacker, flow, "mallory@example.com").await;

    // The victim is sent to the hosted page of the attacker's flow.
    let victim = Browser::new(&s);
    let page = victim.get(&location).await;
    assert_eq!(page.status, 403);
    assert!(page.text().contains("This sign-in belongs to another browser"), "{}", page.text());
    assert!(!page.text().contains("passway-signin"), "no widget for a flow that is not theirs");
    assert_eq!(victim.get(&format!("/api/v1/flows/{handle}")).await.error(), (403, "flow_not_bound".into()));
    let finish = victim.submit(&flow, "enroll-profile", json!({ "email": "mallory@example.com", "given_name": "M" }));
    assert_eq!(finish.await.error(), (403, "flow_not_bound".into()));
    assert!(victim.cookie("pw_session").is_none(), "the victim's browser is signed in as nobody");

    // Nothing moved: the attacker's own browser is where it was.
    let still = attacker.get(&format!("/api/v1/flows/{handle}")).await.flow();
    assert_eq!(names(&still)[0], "enroll-profile");
    assert!(s.app.store.user_by_email("mallory@example.com").await.unwrap().is_none());
}

#[tokio::test]
async fn account_takeover_a_victim_cannot_be_made_to_finish_an_attackers_flow() {
    let s = TestServer::new().await;
    s.register("ada@example.com", "Ada").await;
    // The attacker starts an embedded flow (holding its PKCE verifier) for Ada's address.
    let flow = s.start().await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (code, link) = s.mailed("ada@example.com").await;

    // Ada is lured to the flow: her browser has neither the device cookie nor the binding.
    let ada = Browser::new(&s);
    assert_eq!(ada.get(&format!("/signin?flow={}", flow.handle)).await.status, 403);
    let typed = ada.submit(&flow, "challenge-authenticator", json!({ "code": code }));
    assert_eq!(typed.await.error(), (403, "flow_not_bound".into()));
    let events = ada.get(&format!("/api/v1/flows/{}/events", flow.handle)).await;
    assert_eq!(events.error(), (403, "flow_not_bound".into()));
    assert_eq!(ada.submit(&flow, "challenge-poll", json!({})).await.error(), (403, "flow_not_bound".into()));
    // Her magic link, opened in her browser, proves nothing there: it shows the code.
    let page = ada.get(&link).await;
    assert!(page.text().contains("Enter this code where you started"), "{}", page.text());
    let polled = s.submit(&flow, "challenge-poll", json!({})).await.flow();
    assert!(polled.success.is_none(), "the attacker's flow did not move");

    // A forged or another flow's binding is no better than none.
    let other = s.start().await;
    let req = |binding: &str| {
        Request::get(format!("/api/v1/flows/{}", flow.handle))
            .header(passway_protocol::BINDING_HEADER, binding)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(s.send(req(binding(&other))).await.error(), (403, "flow_not_bound".into()));
    assert_eq!(s.send(req("AAAA")).await.error(), (403, "flow_not_bound".into()));
}

#[tokio::test]
async fn the_browser_that_started_a_flow_completes_it_by_cookie_or_by_binding() {
    let s = TestServer::new().await;
    // By binding alone (a widget whose cookies never reach the server): these requests
    // carry no cookie.
    let done = s.register("grace@example.com", "Grace").await;
    assert!(done.success.is_some());
    // By cookie alone (the hosted page).
    let b = Browser::new(&s);
    let started = b
        .post_json(
            "/api/v1/flows",
            &json!({"client_id": "shop", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE, "code_challenge_method": "S256"}),
        )
        .await
        .flow();
    assert!(b.cookie("pw_device").is_some());
    let flow = proven_up_to_profile(&s, &b, started, "hopper@example.com").await;
    let done = b.submit(&flow, "enroll-profile", json!({ "email": "hopper@example.com", "given_name": "G" })).await;
    assert!(done.flow().success.is_some());
}

/// An app with passwords and a lockout of three.
const PASSWORDS: &str = r#"
[lockout]
attempts = 3
[[apps]]
client_id = "vault"
name = "Vault"
redirect_uris = ["https://shop.example/cb"]
passwords = "optional"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_concurrent_wrong_passwords_is_checked_no_more_than_the_lockout_allows() {
    on_each_store_with(PASSWORDS, |s| async move {
        // Many flows for one address, all at the password step.
        let mut flows = vec![];
        for _ in 0..12 {
            let flow = s.start_with(json!({ "client_id": "vault" })).await;
            let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
            assert_eq!(flow.current_authenticator.as_ref().unwrap().key, "password");
            flows.push(flow);
        }
        let guesses = flows.iter().map(|f| {
            let s = s.clone();
            let f = f.clone();
            async move { s.submit(&f, "challenge-authenticator", json!({ "password": "guess" })).await.flow() }
        });
        let answers = futures_util::future::join_all(guesses).await;
        let keys: Vec<&str> = answers.iter().map(|a| a.messages[0].key.as_str()).collect();
        let checked = keys.iter().filter(|k| **k == "password.error.wrong").count();
        let locked = keys.iter().filter(|k| **k == "password.error.locked").count();
        assert_eq!((checked, locked), (3, 9), "{keys:?}");
    })
    .await;
}

/// Small limits, and the test's requests counted per the address a trusted proxy names.
const LIMITS: &str = r#"
[rate_limits]
trusted_proxies = ["0.0.0.0/32"]
flow_starts_per_minute = 3
emails_per_hour = 2
"#;

fn start_from(ip: &str) -> Request<Body> {
    Request::post("/api/v1/flows")
        .header("content-type", "application/json")
        .header("x-forwarded-for", ip)
        .body(Body::from(
            json!({"client_id": "shop", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE, "code_challenge_method": "S256"})
                .to_string(),
        ))
        .unwrap()
}

#[tokio::test]
async fn a_flood_of_flows_from_one_address_is_refused_and_others_go_on() {
    on_each_store_with(LIMITS, |s| async move {
        for _ in 0..3 {
            assert_eq!(s.send(start_from("198.51.100.7")).await.status, 200);
        }
        let refused = s.send(start_from("198.51.100.7")).await;
        assert_eq!(refused.error(), (429, "rate_limited".into()));
        let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(refused.json()["message"].as_str().unwrap().contains("Too many attempts"), "{}", refused.text());
        assert_eq!(s.send(start_from("198.51.100.7")).await.status, 429);
        assert_eq!(s.send(start_from("203.0.113.9")).await.status, 200, "another address is not held up");
        // Another instance on the same store refuses it too: the counts are in the store
        // (this one's memory of refusals is only a shortcut in front of them).
        let twin = s.twin().await;
        assert_eq!(twin.send(start_from("198.51.100.7")).await.status, 429);

        // One line in the system log per burst, not one per request.
        let events = s.app.store.events(0, 500).await.unwrap();
        let blocked = events.iter().filter(|(_, e)| e.event_type == "security.request.blocked").count();
        assert_eq!(blocked, 1);

        // A minute later the address may start flows again.
        s.advance(120);
        assert_eq!(s.send(start_from("198.51.100.7")).await.status, 200);
    })
    .await;
}

#[tokio::test]
async fn forwarding_headers_from_anyone_but_a_trusted_proxy_change_nothing() {
    // Without trusted proxies, X-Forwarded-For is ignored: every request is the peer.
    let s = TestServer::with("[rate_limits]\nflow_starts_per_minute = 2\n", None).await;
    assert_eq!(s.send(start_from("1.1.1.1")).await.status, 200);
    assert_eq!(s.send(start_from("2.2.2.2")).await.status, 200);
    assert_eq!(s.send(start_from("3.3.3.3")).await.status, 429, "a new header is not a new address");
}

#[tokio::test]
async fn an_inbox_cannot_be_flooded_from_many_flows() {
    on_each_store_with(LIMITS, |s| async move {
        let mut answers = vec![];
        for i in 0..4 {
            let flow = s.send(start_from(&format!("198.51.100.{i}"))).await.flow();
            answers.push(s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow());
        }
        let mails: Value = s.get("/dev/mailbox/messages?to=ada@example.com").await.json();
        assert_eq!(mails.as_array().unwrap().len(), 2, "two emails an hour to one address");
        let refused = &answers[2];
        assert_eq!(refused.messages[0].key, "email.send.address_limit");
        let text = &refused.messages[0].text;
        let minutes: u64 = text.split("Try again in ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        assert!((1..=60).contains(&minutes), "{text}");
        assert_eq!(names(refused)[0], "identify", "no challenge waits for an email that was not sent");
        // Another address is not held up.
        let flow = s.send(start_from("198.51.100.9")).await.flow();
        let other = s.submit(&flow, "identify", json!({ "identifier": "grace@example.com" })).await.flow();
        assert_eq!(names(&other)[0], "challenge-authenticator");
    })
    .await;
}

#[tokio::test]
async fn emailed_codes_guessed_across_flows_lock_the_address_but_the_link_still_works() {
    on_each_store_with("[lockout]\nattempts = 3\n", |s| async move {
        let wrong = |code: &str| if code == "000000" { "111111".to_owned() } else { "000000".to_owned() };
        // Three flows, one wrong guess each (each flow alone would allow five).
        for _ in 0..3 {
            let flow = s.start().await;
            let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
            let (code, _) = s.mailed("ada@example.com").await;
            let r = s.submit(&flow, "challenge-authenticator", json!({ "code": wrong(&code) })).await.flow();
            assert_eq!(r.messages[0].key, "email.code.wrong");
        }
        // Now even the right code is not checked for this address…
        let browser = Browser::new(&s);
        let flow = browser
            .post_json(
                "/api/v1/flows",
                &json!({"client_id": "shop", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE, "code_challenge_method": "S256"}),
            )
            .await
            .flow();
        let flow = browser.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
        let (code, link) = s.mailed("ada@example.com").await;
        let r = browser.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
        assert_eq!(r.messages[0].key, "email.code.locked");
        assert!(r.messages[0].text.contains("Use the link in the email"));
        // …but the link, 256 bits and not guessable, still signs in the browser that asked.
        assert!(browser.get(&link).await.text().contains("You are verified"));
        let done = browser.submit(&flow, "challenge-poll", json!({})).await.flow();
        assert!(done.success.is_some() || names(&done)[0] == "enroll-profile");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_concurrent_wrong_codes_is_checked_no_more_than_the_lockout_allows() {
    // A code's attempt is counted in its step's own commit, on the count read before the
    // check: racing attempts find it changed and run again, so the race changes nothing.
    // (Request limits off: their store writes would space the requests out.)
    on_each_store_with("[lockout]\nattempts = 3\n[rate_limits]\nenabled = false\n", |s| async move {
        let mut guesses = vec![];
        for _ in 0..8 {
            let flow = s.start().await;
            let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
            let (code, _) = s.mailed("ada@example.com").await;
            let wrong = if code == "000000" { "111111" } else { "000000" };
            guesses.push((flow, wrong));
        }
        // Each on a task of its own, so that they run side by side on both threads.
        let burst = guesses.into_iter().map(|(flow, wrong)| {
            let s = s.clone();
            tokio::spawn(
                async move { s.submit(&flow, "challenge-authenticator", json!({ "code": wrong })).await.flow() },
            )
        });
        let answers: Vec<FlowResponse> =
            futures_util::future::join_all(burst).await.into_iter().map(|joined| joined.unwrap()).collect();
        let keys: Vec<&str> = answers.iter().map(|a| a.messages[0].key.as_str()).collect();
        let checked = keys.iter().filter(|k| **k == "email.code.wrong").count();
        let locked = keys.iter().filter(|k| **k == "email.code.locked").count();
        assert_eq!((checked, locked), (3, 5), "{keys:?}");
        // The answer that locked the address knew it would (its count as read was the
        // one its commit changed), so the lock is in the system log, once.
        let types: Vec<String> =
            s.app.store.events(0, 500).await.unwrap().into_iter().map(|(_, e)| e.event_type).collect();
        assert_eq!(types.iter().filter(|t| *t == "user.account.lock").count(), 1, "{types:?}");
    })
    .await;
}

#[tokio::test]
async fn one_flow_keeps_only_so_many_event_streams_open() {
    let l = Listening::start("[rate_limits]\nevent_streams_per_flow = 1\n").await;
    let http = reqwest::Client::new();
    let start: FlowResponse = http
        .post(format!("{}/api/v1/flows", l.issuer))
        .json(&json!({"client_id": "shop", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE, "code_challenge_method": "S256"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let href = start.remediation("identify").unwrap().href.clone();
    let flow: FlowResponse = http
        .post(href)
        .header(passway_protocol::BINDING_HEADER, binding(&start))
        .json(&json!({ "identifier": "ada@example.com" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = flow.current_authenticator.unwrap().poll.unwrap().events;
    let first = http.get(&events).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let second = http.get(&events).send().await.unwrap();
    assert_eq!(second.status(), 429);
    drop(first);
    // Once the first is closed, a new one may open.
    let mut opened = false;
    for _ in 0..50 {
        if http.get(&events).send().await.unwrap().status() == 200 {
            opened = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(opened, "the closed stream's place is free again");
}

#[tokio::test]
async fn slow_and_idle_clients_do_not_hold_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = TestServer::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown, _) = tokio::sync::watch::channel(false);
    let timeouts = passway_server::serve::Timeouts {
        header_read: std::time::Duration::from_millis(300),
        request: std::time::Duration::from_secs(5),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(passway_server::serve::serve_with(
        listener,
        s.app.clone(),
        shutdown,
        async move {
            let _ = stopped.await;
        },
        timeouts,
    ));
    let closed_within = |mut c: tokio::net::TcpStream| async move {
        let mut buf = vec![0u8; 4096];
        let mut seen = Vec::new();
        let waited = tokio::time::timeout(std::time::Duration::from_secs(3), async {
            loop {
                match c.read(&mut buf).await {
                    Ok(0) | Err(_) => return true,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        (waited.unwrap_or(false), String::from_utf8_lossy(&seen).into_owned())
    };
    // Headers that never end (slowloris): the connection is closed.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    assert!(closed_within(slow).await.0, "a half-sent request is dropped");
    // A kept-alive connection that sits idle after its answer is closed too.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let (closed, answer) = closed_within(idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(closed, "an idle kept-alive connection is dropped");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_refusal_is_said_in_the_persons_language() {
    let s = TestServer::with(&format!("{LIMITS}link_opens_per_minute = 1\n"), None).await;
    let start = |lang: &'static str| {
        let mut req = start_from("198.51.100.8");
        req.headers_mut().insert("accept-language", lang.parse().unwrap());
        req
    };
    for _ in 0..3 {
        s.send(start("fr")).await;
    }
    let r = s.send(start("fr")).await;
    assert_eq!(r.status, 429);
    assert!(r.json()["message"].as_str().unwrap().starts_with("Trop de tentatives"), "{}", r.text());
    // A page a person opens answers with a branded page, in their language too.
    let open = || {
        Request::get("/email/verify?t=x.y")
            .header("x-forwarded-for", "198.51.100.9")
            .header("accept-language", "fr")
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(s.send(open()).await.status, 404, "one open is fine (the link is not valid)");
    let page = s.send(open()).await;
    assert_eq!(page.status, 429);
    assert!(page.header("retry-after").is_some());
    assert!(page.text().contains("<title>Trop de tentatives</title>"), "{}", page.text());
}

/// An app that takes no sign-ups (`self_registration = false`) is not opened by a flow
/// started with intent `register`: it signs in, and an unknown address gets no account.
#[tokio::test]
async fn intent_register_does_not_open_a_closed_app() {
    let s = TestServer::new().await;
    let flow = s.start_with(serde_json::json!({ "client_id": "closed", "intent": "register" })).await;
    assert_eq!(names(&flow)[0], "identify", "{:?}", names(&flow));
    let flow = s.submit(&flow, "identify", serde_json::json!({ "identifier": "eve@example.com" })).await.flow();
    let (code, _) = s.mailed("eve@example.com").await;
    let after = s.submit(&flow, "challenge-authenticator", serde_json::json!({ "code": code })).await.flow();
    assert!(after.success.is_none());
    assert!(s.app.store.user_by_email("eve@example.com").await.unwrap().is_none());
}
