//! The smaller holes, each closed and kept closed: a session not rotated on step-up,
//! logout clearing what it did not end, refresh tokens without an end, the issuer
//! missing from authorization responses, zones judged on an old address, JSON answers
//! without `nosniff` and `no-store`.

use serde_json::json;

use crate::oidc::decode_claims;
use crate::support::*;

/// A second app asking for two factor types: a password on top of email.
const STEP_UP: &str = r#"
[[apps]]
client_id = "vault"
name = "Vault"
redirect_uris = ["https://vault.example/cb"]
passwords = "optional"
[[apps.sign_on]]
name = "Two factors"
factors = 2
"#;

#[tokio::test]
async fn a_step_up_replaces_the_session_with_a_new_one() {
    let s = TestServer::with(STEP_UP, None).await;
    s.register("ada@example.com", "Ada").await;
    let b = Browser::new(&s);
    b.authorize(&authorize_query("shop", REDIRECT, "openid", ""), "ada@example.com").await.unwrap();
    let before = b.cookie("pw_session").expect("a session");

    // The vault asks for more: Ada sets up a password (knowledge, a second factor type).
    let r = b
        .get(&format!("/oauth2/v1/authorize?{}", authorize_query("vault", "https://vault.example/cb", "openid", "")))
        .await;
    let handle = r.header("location").unwrap().strip_prefix("/signin?flow=").unwrap().to_owned();
    let flow = b.get(&format!("/api/v1/flows/{handle}")).await.flow();
    assert_eq!(flow.current_authenticator, None, "{flow:?}");
    let flow = if names(&flow)[0] == "select-authenticator-enroll" {
        b.submit(&flow, "select-authenticator-enroll", json!({ "authenticator": "password" })).await.flow()
    } else {
        flow
    };
    let done = b.submit(&flow, "enroll-authenticator", json!({ "password": "a brand new passphrase" })).await.flow();
    assert!(done.success.is_some(), "{:?}", done.messages);

    let after = b.cookie("pw_session").expect("a session");
    assert_ne!(before, after, "a new cookie: whoever knew the old one holds nothing");
    let old = s.app.store.session(&passway_server::crypto::sha256(before.as_bytes()), s.clock.now()).await.unwrap();
    assert!(old.is_none(), "the old session ended");
}

#[tokio::test]
async fn logout_for_another_account_leaves_this_browsers_session_and_cookie() {
    let s = TestServer::with(crate::sso::APPS, None).await;
    s.register("ada@example.com", "Ada").await;
    s.register("grace@example.com", "Grace").await;
    // Grace's ID token, from another browser.
    let other = Browser::new(&s);
    let query = authorize_query("portal", "https://portal.example/cb", "openid", "");
    let back = other.authorize(&query, "grace@example.com").await.unwrap();
    let code = param(&back, "code").unwrap();
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://portal.example/cb"),
        ("client_id", "portal"),
        ("code_verifier", VERIFIER),
    ];
    let grace_hint = s.post_form("/oauth2/v1/token", &pairs).await.json()["id_token"].as_str().unwrap().to_owned();

    // Ada's browser is sent to log out with Grace's hint.
    let ada = Browser::new(&s);
    ada.authorize(&authorize_query("shop", REDIRECT, "openid", ""), "ada@example.com").await.unwrap();
    let r = ada.get(&format!("/oauth2/v1/logout?id_token_hint={grace_hint}")).await;
    assert!(r.header("set-cookie").is_none(), "nothing ended, nothing cleared: {:?}", r.header("set-cookie"));
    assert!(ada.cookie("pw_session").is_some());
    let quiet = authorize_query("shop", REDIRECT, "openid", "&prompt=none");
    let location = ada.get(&format!("/oauth2/v1/authorize?{quiet}")).await.header("location").unwrap().to_owned();
    assert!(location.contains("code="), "Ada is still signed in: {location}");
}

#[tokio::test]
async fn refresh_tokens_end_at_the_absolute_lifetime_however_often_rotated() {
    let s = TestServer::with("[tokens]\nrefresh_token_days = 2\nrefresh_token_max_days = 3\n", None).await;
    s.register("ada@example.com", "Ada").await;
    let flow = s.start_with(json!({ "scope": "openid offline_access" })).await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (code, _) = s.mailed("ada@example.com").await;
    let done = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    let mut rt = s.exchange(done.success.unwrap().code.as_deref().unwrap()).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = |token: String| {
        let s = &s;
        async move {
            let pairs = [("grant_type", "refresh_token"), ("refresh_token", token.as_str()), ("client_id", "shop")];
            s.post_form("/oauth2/v1/token", &pairs).await
        }
    };
    // Each rotation alone would keep it alive two more days, forever.
    for _ in 0..2 {
        s.advance(30 * 3600);
        let r = refresh(rt.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text());
        rt = r.json()["refresh_token"].as_str().unwrap().to_owned();
    }
    // 60 hours in; the last token was issued 0 hours ago and would live 48 more.
    s.advance(12 * 3600 + 1);
    assert_eq!(refresh(rt).await.error(), (400, "invalid_grant".into()), "three days after the sign-in: over");
}

#[tokio::test]
async fn authorization_responses_name_their_issuer() {
    let s = TestServer::new().await;
    s.register("ada@example.com", "Ada").await;
    let b = Browser::new(&s);
    let back = b.authorize(&authorize_query("shop", REDIRECT, "openid", ""), "ada@example.com").await.unwrap();
    assert_eq!(param(&back, "iss").as_deref(), Some(ISSUER));
    let error = b.get(&format!("/oauth2/v1/authorize?{}", authorize_query("shop", REDIRECT, "openid nope", ""))).await;
    let location = url::Url::parse(error.header("location").unwrap()).unwrap();
    assert_eq!(param(&location, "iss").as_deref(), Some(ISSUER), "errors too");
    let discovery = s.get("/.well-known/openid-configuration").await.json();
    assert_eq!(discovery["authorization_response_iss_parameter_supported"], true);
    // Embedded flows carry it beside the code.
    let done = s.sign_in("ada@example.com").await;
    assert_eq!(done.success.unwrap().iss.as_deref(), Some(ISSUER));
}

/// Only from the office.
const ZONES: &str = r#"
[rate_limits]
trusted_proxies = ["0.0.0.0/32"]
[zones]
office = ["10.0.0.0/8"]
[[apps]]
client_id = "intranet"
name = "Intranet"
redirect_uris = ["https://intranet.example/cb"]
[[apps.sign_on]]
name = "Outside the office"
not_zones = ["office"]
access = "deny"
[[apps.sign_on]]
name = "Office"
"#;

#[tokio::test]
async fn zones_see_where_each_step_comes_from_not_where_the_flow_began() {
    let s = TestServer::with(ZONES, None).await;
    s.register("ada@example.com", "Ada").await;
    let from = |ip: &'static str, path: String, body: serde_json::Value, binding: Option<String>| {
        let s = &s;
        async move {
            let mut req = axum::http::Request::post(path)
                .header("content-type", "application/json")
                .header("x-forwarded-for", ip);
            if let Some(b) = binding {
                req = req.header(passway_protocol::BINDING_HEADER, b);
            }
            s.send(req.body(axum::body::Body::from(body.to_string())).unwrap()).await
        }
    };
    // Started in the office, finished from a café: denied.
    let start = json!({"client_id": "intranet", "redirect_uri": "https://intranet.example/cb",
        "code_challenge": CHALLENGE, "code_challenge_method": "S256"});
    let flow = from("10.1.2.3", "/api/v1/flows".into(), start, None).await.flow();
    let identify = flow.remediation("identify").unwrap().href.strip_prefix(ISSUER).unwrap().to_owned();
    let flow =
        from("10.1.2.3", identify, json!({ "identifier": "ada@example.com" }), flow.binding.clone()).await.flow();
    let (code, _) = s.mailed("ada@example.com").await;
    let answer = flow.remediation("challenge-authenticator").unwrap().href.strip_prefix(ISSUER).unwrap().to_owned();
    let done = from("203.0.113.9", answer, json!({ "code": code }), flow.binding.clone()).await.flow();
    assert!(done.success.is_none(), "denied outside the office");
    assert_eq!(done.strings["title"], "You can't sign in to Intranet here");
}

#[tokio::test]
async fn json_answers_are_never_sniffed_or_cached() {
    let s = TestServer::new().await;
    let flow = s.start().await;
    for r in [
        s.get_flow(&flow).await,
        s.get("/api/v1/flows/nope").await,
        s.post_form("/oauth2/v1/token", &[("grant_type", "nope")]).await,
        s.get("/dev/mailbox/messages").await,
    ] {
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{}", r.text());
        assert_eq!(r.header("cache-control"), Some("no-store"), "{}", r.text());
    }
    // Public metadata may be cached, but is not sniffed either.
    let keys = s.get("/oauth2/v1/keys").await;
    assert_eq!(keys.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn an_access_token_for_one_api_is_not_taken_by_userinfo_unless_it_names_it() {
    let s = TestServer::new().await;
    let done = s.register("ada@example.com", "Ada").await;
    let tokens = s.exchange(done.success.unwrap().code.as_deref().unwrap()).await.json();
    let aud = decode_claims(tokens["access_token"].as_str().unwrap())["aud"].clone();
    assert_eq!(aud, json!(format!("{ISSUER}/oauth2/v1/userinfo")), "not the issuer: the resource it is for");
}

#[tokio::test]
async fn over_https_cookies_are_host_only_and_browsers_are_told_to_stay() {
    let s = TestServer::with_issuer("", "https://auth.example").await;
    let r = s
        .post_json(
            "/api/v1/flows",
            &json!({"client_id": "shop", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE, "code_challenge_method": "S256"}),
        )
        .await;
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.starts_with("__Host-pw_device="), "{cookie}");
    assert!(cookie.contains("; Path=/;") && cookie.contains("Secure") && !cookie.contains("Domain"), "{cookie}");
    assert_eq!(r.header("strict-transport-security"), Some("max-age=63072000; includeSubDomains"));
    // The prefixed cookie is the one read back: it binds the flow.
    let flow = r.flow();
    let value = cookie.split(';').next().unwrap();
    let req = axum::http::Request::get(format!("/api/v1/flows/{}", flow.handle))
        .header("cookie", value)
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(s.send(req).await.status, 200);
    let plain = value.replacen("__Host-", "", 1);
    let req = axum::http::Request::get(format!("/api/v1/flows/{}", flow.handle))
        .header("cookie", plain)
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(s.send(req).await.status, 403, "an unprefixed cookie (settable by a sibling) binds nothing");
}
