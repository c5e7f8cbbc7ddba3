//! Whole journeys over HTTP.

use std::time::Duration;

use passway_protocol::Level;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn register_then_sign_in_by_code_on_each_store() {
    on_each_store(|s| async move {
        let done = s.register("ada@example.com", "Ada").await;
        let success = done.success.as_ref().expect("success");
        assert_eq!(success.state.as_deref(), Some("st-1"));
        let tokens = s.exchange(success.code.as_ref().unwrap()).await.json();
        assert_eq!(tokens["token_type"], "Bearer");

        let again = s.sign_in("ada@example.com").await;
        assert!(again.success.as_ref().unwrap().code.is_some());
        let user = s.app.store.user_by_email("ada@example.com").await.unwrap().unwrap();
        assert_eq!(user.profile["given_name"], "Ada");

        // The system log recorded the journey.
        let events: Vec<String> =
            s.app.store.events(0, 100).await.unwrap().into_iter().map(|(_, e)| e.event_type).collect();
        for expected in [
            "user.authentication.challenge.sent",
            "user.registration.create",
            "user.session.start",
            "app.oauth2.token.grant.id_token",
        ] {
            assert!(events.iter().any(|e| e == expected), "{expected} missing from {events:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn identify_answers_the_same_for_known_and_unknown_emails() {
    let s = TestServer::new().await;
    s.register("known@example.com", "K").await;
    let answer = |email: &'static str| {
        let s = &s;
        async move {
            let flow = s.start().await;
            let reply = s.submit(&flow, "identify", json!({ "identifier": email })).await;
            let mut body = reply.json();
            // Only per-flow values may differ.
            for field in ["handle", "binding", "expires_at"] {
                body[field] = json!("…");
            }
            let masked = format!("{}***@example.com", &email[..1]);
            let text = body
                .to_string()
                .replace(&flow.handle, "HANDLE")
                .replace(binding(&flow), "BINDING")
                .replace(&masked, "MASKED");
            (reply.status, text, s.mailed(email).await.0.len())
        }
    };
    assert_eq!(answer("known@example.com").await, answer("unknown@example.com").await);
}

#[tokio::test]
async fn magic_link_in_the_same_browser_moves_the_waiting_tab_on() {
    let s = TestServer::new().await;
    s.register("ada@example.com", "Ada").await;
    // Start with a device cookie, as a browser would.
    let start = s
        .send(
            axum::http::Request::post("/api/v1/flows")
                .header("content-type", "application/json")
                .header("cookie", "pw_device=browser-1")
                .body(axum::body::Body::from(
                    json!({"client_id": "shop", "redirect_uri": REDIRECT, "state": "st-1", "code_challenge": CHALLENGE, "code_challenge_method": "S256"}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert!(start.header("set-cookie").is_none(), "an existing device cookie is kept");
    let flow = start.flow();
    let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let poll = flow.current_authenticator.as_ref().unwrap().poll.clone().unwrap();
    // Browsers open event streams without custom headers: the binding is in the URL.
    assert_eq!(poll.events, format!("{ISSUER}/api/v1/flows/{}/events?binding={}", flow.handle, binding(&flow)));

    // Nothing yet.
    let waiting = s.submit(&flow, "challenge-poll", json!({})).await.flow();
    assert!(waiting.success.is_none());

    let (_, link) = s.mailed("ada@example.com").await;
    let open = |cookie: &'static str| {
        let link = link.clone();
        let s = &s;
        async move {
            s.send(axum::http::Request::get(link).header("cookie", cookie).body(axum::body::Body::empty()).unwrap())
                .await
        }
    };
    let page = open("pw_device=browser-1").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("You are verified"), "{}", page.text());
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));

    let replay = open("pw_device=browser-1").await;
    assert_eq!(replay.status, 410);
    assert!(replay.text().contains("This link was already used"));

    let done = s.submit(&flow, "challenge-poll", json!({})).await.flow();
    assert!(done.success.unwrap().code.is_some(), "the waiting tab completes");
}

#[tokio::test]
async fn magic_link_in_another_browser_shows_who_asked_and_the_code() {
    let s = TestServer::new().await;
    s.register("ada@example.com", "Ada").await;
    let req = axum::http::Request::post("/api/v1/flows")
        .header("content-type", "application/json")
        .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36")
        .body(axum::body::Body::from(
            json!({"client_id": "shop", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE, "code_challenge_method": "S256"}).to_string(),
        ))
        .unwrap();
    let started = s.send(req).await;
    let cookie = started.header("set-cookie").expect("a device cookie is set").to_owned();
    assert!(
        cookie.starts_with("pw_device=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let flow = s.submit(&started.flow(), "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (code, link) = s.mailed("ada@example.com").await;

    let elsewhere = s.get(&link).await;
    assert_eq!(elsewhere.status, 200);
    let html = elsewhere.text();
    assert!(html.contains("Enter this code where you started"));
    assert!(html.contains("Chrome on Linux") && html.contains("Shop"), "names the app and the browser that asked");
    assert!(html.contains(&code), "shows the code");
    assert!(elsewhere.header("content-security-policy").unwrap().contains("script-src 'self'"));

    let still_waiting = s.submit(&flow, "challenge-poll", json!({})).await.flow();
    assert!(still_waiting.success.is_none(), "the other browser did not sign the waiting tab in");
    let done = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    assert!(done.success.is_some());
}

#[tokio::test]
async fn wrong_codes_then_too_many() {
    let s = TestServer::new().await;
    let flow = s.start().await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (code, _) = s.mailed("ada@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let reply = s.submit(&flow, "challenge-authenticator", json!({ "code": wrong })).await.flow();
    let m = &reply.messages[0];
    assert_eq!((m.key.as_str(), m.level, m.field.as_deref()), ("email.code.wrong", Level::Error, Some("code")));
    assert_eq!(m.text, "That code is not right. 4 attempts left.");
    assert!(
        reply.remediation("challenge-authenticator").unwrap().field("code").unwrap().value.is_none(),
        "codes are not echoed"
    );
    for _ in 0..4 {
        s.submit(&flow, "challenge-authenticator", json!({ "code": wrong })).await;
    }
    let over = s.get_flow(&flow).await.flow();
    assert_eq!(names(&over)[0], "identify", "the challenge ended");
    let late = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await;
    assert_eq!(late.error(), (400, "remediation_not_offered".into()));
}

#[tokio::test]
async fn resend_waits_for_the_cooldown_and_replaces_the_code() {
    let s = TestServer::new().await;
    let flow = s.start().await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    assert_eq!(flow.current_authenticator.as_ref().unwrap().resend.as_ref().unwrap().retry_after_seconds, 30);
    let (first, _) = s.mailed("ada@example.com").await;
    s.advance(12);
    let early = s.submit(&flow, "resend", json!({})).await.flow();
    assert_eq!(early.messages[0].text, "Please wait 18 seconds before asking for another email.");
    assert_eq!(early.current_authenticator.as_ref().unwrap().resend.as_ref().unwrap().retry_after_seconds, 18);
    s.advance(18);
    let sent = s.submit(&flow, "resend", json!({})).await.flow();
    assert_eq!(sent.messages[0].key, "email.resend.sent");
    let (second, _) = s.mailed("ada@example.com").await;
    let mails = s.get("/dev/mailbox/messages?to=ada@example.com").await.json();
    assert_eq!(mails.as_array().unwrap().len(), 2);
    if first != second {
        let stale = s.submit(&flow, "challenge-authenticator", json!({ "code": first })).await.flow();
        assert_eq!(stale.messages[0].key, "email.code.wrong", "the first code no longer works");
    }
    let next = s.submit(&flow, "challenge-authenticator", json!({ "code": second })).await.flow();
    assert_eq!(names(&next)[0], "enroll-profile", "the new code proves the email");
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() {
    let s = TestServer::new().await;
    let flow = s.start().await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (code, link) = s.mailed("ada@example.com").await;
    s.advance(600);
    let late = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    assert_eq!(late.messages[0].key, "email.code.expired");
    assert_eq!(s.get(&link).await.status, 410);
}

#[tokio::test]
async fn hosted_flow_redirects_to_the_app_with_code_and_state() {
    let s = TestServer::new().await;
    s.register("ada@example.com", "Ada").await;
    let authorize = format!(
        "/oauth2/v1/authorize?response_type=code&client_id=shop&redirect_uri={REDIRECT}&scope=openid%20email&state=xyz&nonce=n9&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    let browser = Browser::new(&s);
    let r = browser.get(&authorize).await;
    assert_eq!(r.status, 303);
    let location = r.header("location").unwrap().to_owned();
    assert!(location.starts_with("/signin?flow="), "{location}");
    let handle = location.strip_prefix("/signin?flow=").unwrap();

    let page = browser.get(&location).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains(&format!("<passway-signin flow=\"{handle}\"")), "{html}");
    assert!(html.contains("/themes/acme/theme.css"), "branded for the app");
    assert!(page.header("content-security-policy").unwrap().contains("'wasm-unsafe-eval'"));

    // The hosted page's widget: the browser's device cookie binds it to the flow.
    let flow = browser.get(&format!("/api/v1/flows/{handle}")).await.flow();
    let flow = browser.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (code, _) = s.mailed("ada@example.com").await;
    let done = browser.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    let to = done.success.unwrap().redirect_to.unwrap();
    let url = url::Url::parse(&to).unwrap();
    assert_eq!(url.as_str().split('?').next(), Some(REDIRECT));
    let query: std::collections::HashMap<_, _> = url.query_pairs().collect();
    assert_eq!(query["state"], "xyz");
    let tokens = s.exchange(&query["code"]).await.json();
    let claims = crate::oidc::verify_id_token(&s, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["nonce"], "n9");

    let finished = browser.get(&location).await;
    assert_eq!(finished.status, 410, "the hosted page of a finished flow says it has expired");
}

#[tokio::test]
async fn closed_registration_refuses_only_after_the_email_is_proven() {
    let s = TestServer::new().await;
    let flow = s.start_with(json!({ "client_id": "closed" })).await;
    assert_eq!(names(&flow), ["identify"], "no sign-up offered");
    let flow = s.submit(&flow, "identify", json!({ "identifier": "new@example.com" })).await.flow();
    assert_eq!(names(&flow)[0], "challenge-authenticator");
    let (code, _) = s.mailed("new@example.com").await;
    let refused = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    assert_eq!(refused.messages[0].key, "identify.no_account");
    assert!(s.app.store.user_by_email("new@example.com").await.unwrap().is_none());
}

/// Server-sent events reach a real client over a socket when the link is opened.
/// A served test server with a flow waiting for ada's magic link, started by the
/// browser whose device cookie is `pw_device=b1`.
struct WaitingForLink {
    s: TestServer,
    base: String,
    client: reqwest::Client,
    /// The flow's event stream URL, as the server gave it (with the binding secret).
    events_url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl WaitingForLink {
    async fn new() -> WaitingForLink {
        let s = TestServer::new().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(passway_server::serve::serve(listener, s.app.clone(), shutdown, async move {
            let _ = stop_rx.await;
        }));
        let client = reqwest::Client::new();
        let base = format!("http://{addr}");
        let start: serde_json::Value = client
            .post(format!("{base}/api/v1/flows"))
            .header("cookie", "pw_device=b1")
            .json(&json!({"client_id": "shop", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE, "code_challenge_method": "S256"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let handle = start["handle"].as_str().unwrap().to_owned();
        let waiting: serde_json::Value = client
            .post(format!("{base}/api/v1/flows/{handle}/identify"))
            .header("cookie", "pw_device=b1")
            .json(&json!({"identifier": "ada@example.com"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let events = waiting["current_authenticator"]["poll"]["events"].as_str().unwrap();
        let events_url = events.replace(ISSUER, &base);
        WaitingForLink { s, base, client, events_url, stop, server }
    }

    async fn open_link_in_same_browser(&self) {
        let (_, link) = self.s.mailed("ada@example.com").await;
        self.client.get(format!("{}{link}", self.base)).header("cookie", "pw_device=b1").send().await.unwrap();
    }

    async fn events(&self) -> reqwest::Response {
        // Like an EventSource: no custom header, and here no cookie either.
        let events = self.client.get(&self.events_url).send().await.unwrap();
        assert_eq!(events.headers()["content-type"], "text/event-stream");
        events
    }

    async fn stop(self, events: reqwest::Response) {
        let _ = self.stop.send(());
        drop(events);
        tokio::time::timeout(Duration::from_secs(5), self.server).await.expect("the server stops").unwrap().unwrap();
    }
}

/// What the stream sends up to its first `flow-changed` event (at most 5 s).
async fn first_change(events: &mut reqwest::Response) -> String {
    tokio::time::timeout(Duration::from_secs(5), async {
        let mut seen = String::new();
        while !seen.contains("flow-changed") {
            seen.push_str(&String::from_utf8_lossy(&events.chunk().await.unwrap().unwrap()));
        }
        seen
    })
    .await
    .expect("an event within 5 s")
}

#[tokio::test]
async fn event_stream_announces_the_opened_link() {
    let w = WaitingForLink::new().await;
    let mut events = w.events().await;
    w.open_link_in_same_browser().await;
    let chunk = first_change(&mut events).await;
    assert!(chunk.contains("event: flow-changed") && chunk.contains("\"version\":2"), "{chunk}");
    w.stop(events).await;
}

#[tokio::test]
async fn event_stream_opened_after_the_link_announces_it_at_once() {
    // The tab may connect a moment after the link was opened: the change predates the
    // stream, so no later version change would reveal it.
    let w = WaitingForLink::new().await;
    w.open_link_in_same_browser().await;
    let mut events = w.events().await;
    let chunk = first_change(&mut events).await;
    assert!(chunk.contains("event: flow-changed"), "{chunk}");
    w.stop(events).await;
}
