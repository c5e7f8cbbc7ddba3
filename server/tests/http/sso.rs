//! SSO sessions across apps, prompt and max_age, consent, RP-initiated logout.

use passway_protocol::FlowResponse;
use serde_json::json;

use crate::oidc::decode_claims;
use crate::support::*;

/// Apps besides `shop`: another first-party one, and a partner that asks for consent.
pub const APPS: &str = r#"
[[apps]]
client_id = "portal"
name = "Portal"
brand = "globex"
redirect_uris = ["https://portal.example/cb"]
post_logout_redirect_uris = ["https://portal.example/bye"]
[[apps]]
client_id = "partner"
name = "Partner"
consent = true
redirect_uris = ["https://partner.example/cb"]
"#;

const SHOP: &str = "https://shop.example/cb";
const PORTAL: &str = "https://portal.example/cb";
const PARTNER: &str = "https://partner.example/cb";

/// Exchanges a code for `client` and returns the ID token's claims.
async fn id_claims(s: &TestServer, client: &str, redirect: &str, back: &url::Url) -> serde_json::Value {
    let code = param(back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let r = s
        .post_form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
                ("client_id", client),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    decode_claims(r.json()["id_token"].as_str().unwrap())
}

#[tokio::test]
async fn one_sign_in_serves_every_app_until_it_must_be_repeated() {
    let s = TestServer::with(APPS, None).await;
    s.register("ada@example.com", "Ada").await;
    let b = Browser::new(&s);

    // Signing in to the shop through the hosted page opens a session.
    let back = b.authorize(&authorize_query("shop", SHOP, "openid email", ""), "ada@example.com").await.unwrap();
    let session = b.cookie("pw_session").expect("a session cookie");
    assert!(session.len() >= 43, "256-bit cookie value");
    let first = id_claims(&s, "shop", SHOP, &back).await;
    assert_eq!(param(&back, "state").as_deref(), Some("st"));

    // The portal gets a code at once: no page, same session, same auth_time.
    s.advance(60);
    let r = b.get(&format!("/oauth2/v1/authorize?{}", authorize_query("portal", PORTAL, "openid", ""))).await;
    assert_eq!(r.status, 303);
    let back = url::Url::parse(r.header("location").unwrap()).unwrap();
    assert!(back.as_str().starts_with(PORTAL), "{back}");
    let second = id_claims(&s, "portal", PORTAL, &back).await;
    assert_eq!(second["sub"], first["sub"]);
    assert_eq!(second["sid"], first["sid"]);
    assert_eq!(second["auth_time"], first["auth_time"]);
    assert_eq!(second["nonce"], "no");

    // prompt=none answers from the session too; without it, login_required.
    let quiet = authorize_query("portal", PORTAL, "openid", "&prompt=none");
    let r = b.get(&format!("/oauth2/v1/authorize?{quiet}")).await;
    assert!(param(&url::Url::parse(r.header("location").unwrap()).unwrap(), "code").is_some());
    let r = s.get(&format!("/oauth2/v1/authorize?{quiet}")).await;
    let back = url::Url::parse(r.header("location").unwrap()).unwrap();
    assert_eq!(
        (param(&back, "error").as_deref(), param(&back, "state").as_deref()),
        (Some("login_required"), Some("st"))
    );

    // prompt=login and an exceeded max_age send the person to sign in again.
    for extra in ["&prompt=login", "&max_age=30"] {
        let r = b.get(&format!("/oauth2/v1/authorize?{}", authorize_query("portal", PORTAL, "openid", extra))).await;
        assert!(r.header("location").unwrap().starts_with("/signin?flow="), "{extra}");
    }
    let r =
        b.get(&format!("/oauth2/v1/authorize?{}", authorize_query("portal", PORTAL, "openid", "&max_age=3600"))).await;
    assert!(r.header("location").unwrap().starts_with(PORTAL));
    let r = b
        .get(&format!(
            "/oauth2/v1/authorize?{}",
            authorize_query("portal", PORTAL, "openid", "&max_age=30&prompt=none")
        ))
        .await;
    assert!(r.header("location").unwrap().contains("error=login_required"));

    // Signing in again (prompt=login) replaces the session and moves auth_time.
    s.advance(60);
    let back =
        b.authorize(&authorize_query("portal", PORTAL, "openid", "&prompt=login"), "ada@example.com").await.unwrap();
    let again = id_claims(&s, "portal", PORTAL, &back).await;
    assert_ne!(again["sid"], first["sid"]);
    assert!(again["auth_time"].as_i64() > first["auth_time"].as_i64());
    assert_ne!(b.cookie("pw_session").unwrap(), session);
    let old = Browser::new(&s);
    old.cookies.lock().unwrap().insert("pw_session".into(), session);
    let r = old.get(&format!("/oauth2/v1/authorize?{quiet}")).await;
    assert!(r.header("location").unwrap().contains("error=login_required"), "the replaced session ended");

    // The session records what was proven, with factor types.
    let events = s.app.store.events(0, 500).await.unwrap();
    assert!(events.iter().any(|(_, e)| e.event_type == "user.authentication.sso"));
}

#[tokio::test]
async fn session_cookie_attributes() {
    let s = TestServer::with(APPS, None).await;
    s.register("ada@example.com", "Ada").await;
    let flow = s.start().await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (code, _) = s.mailed("ada@example.com").await;
    let r = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await;
    let set = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("pw_session="));
    let set = set.expect("the completing response opens a session");
    // http issuer in tests: Lax; over https it is SameSite=None; Secure (unit-tested).
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"), "{set}");
    assert!(set.contains("Max-Age=43200"), "12 hours by default: {set}");
}

#[tokio::test]
async fn consent_is_asked_remembered_and_can_be_refused() {
    let s = TestServer::with(APPS, None).await;
    s.register("ada@example.com", "Ada").await;
    let b = Browser::new(&s);
    b.authorize(&authorize_query("shop", SHOP, "openid", ""), "ada@example.com").await.unwrap();

    // The partner asks, even with a session; prompt=none cannot answer.
    let quiet = authorize_query("partner", PARTNER, "openid email", "&prompt=none");
    let r = b.get(&format!("/oauth2/v1/authorize?{quiet}")).await;
    assert!(r.header("location").unwrap().contains("error=consent_required"));
    let stopped: FlowResponse =
        b.authorize(&authorize_query("partner", PARTNER, "openid email", ""), "ada@example.com").await.unwrap_err();
    assert_eq!(names(&stopped), ["consent"]);
    let consent = stopped.remediation("consent").unwrap();
    let scopes: Vec<&str> = consent.scopes.iter().map(|s| s.description.as_str()).collect();
    assert_eq!(scopes, ["Know who you are when you sign in", "See your email address"]);
    assert_eq!(stopped.strings["title"], "Partner would like to");
    let done = b.submit(&stopped, "consent", json!({ "decision": "allow" })).await.flow();
    let back = url::Url::parse(done.success.unwrap().redirect_to.as_deref().unwrap()).unwrap();
    assert!(param(&back, "code").is_some());

    // Remembered: the next request goes straight through, prompt=none included.
    let r = b.get(&format!("/oauth2/v1/authorize?{quiet}")).await;
    assert!(param(&url::Url::parse(r.header("location").unwrap()).unwrap(), "code").is_some());
    // A new scope, or prompt=consent, asks again; refusing sends access_denied back.
    let asked = b
        .authorize(&authorize_query("partner", PARTNER, "openid email profile", ""), "ada@example.com")
        .await
        .unwrap_err();
    let refused = b.submit(&asked, "consent", json!({ "decision": "deny" })).await.flow();
    let success = refused.success.unwrap();
    assert_eq!(success.error.as_deref(), Some("access_denied"));
    let back = url::Url::parse(success.redirect_to.as_deref().unwrap()).unwrap();
    assert_eq!(
        (param(&back, "error").as_deref(), param(&back, "state").as_deref()),
        (Some("access_denied"), Some("st"))
    );
    assert!(param(&back, "code").is_none());
    let forced =
        b.authorize(&authorize_query("partner", PARTNER, "openid email", "&prompt=consent"), "ada@example.com").await;
    assert!(forced.is_err(), "prompt=consent asks again");
}

#[tokio::test]
async fn ui_locales_choose_the_language() {
    let s = TestServer::with(APPS, None).await;
    let b = Browser::new(&s);
    let r = b
        .get(&format!("/oauth2/v1/authorize?{}", authorize_query("shop", SHOP, "openid", "&ui_locales=tlh%20fr-CA")))
        .await;
    let handle = r.header("location").unwrap().strip_prefix("/signin?flow=").unwrap().to_owned();
    let flow = b.get(&format!("/api/v1/flows/{handle}")).await.flow();
    // The shop's brand (acme) words its French title its own way.
    assert_eq!(flow.strings["title"], "Bienvenue chez Shop");
    assert_eq!(flow.remediation("identify").unwrap().label, "Suivant");
    let page = b.get(&format!("/signin?flow={handle}")).await.text();
    assert!(page.contains("<html lang=\"fr\""), "{page}");
}

#[tokio::test]
async fn logout_ends_the_session_and_returns_to_the_app() {
    let s = TestServer::with(APPS, None).await;
    s.register("ada@example.com", "Ada").await;
    let b = Browser::new(&s);
    let back = b.authorize(&authorize_query("portal", PORTAL, "openid", ""), "ada@example.com").await.unwrap();
    let code = param(&back, "code").unwrap();
    let tokens = s
        .post_form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", PORTAL),
                ("client_id", "portal"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await
        .json();
    let hint = tokens["id_token"].as_str().unwrap();

    // Refusals: a redirect that is not registered, a forged hint, a client mismatch.
    let bad =
        b.get(&format!("/oauth2/v1/logout?id_token_hint={hint}&post_logout_redirect_uri=https://evil.example/")).await;
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("post_logout_redirect_uri is not registered"));
    assert!(bad.header("location").is_none());
    let forged = b.get("/oauth2/v1/logout?id_token_hint=eyJhbGciOiJub25lIn0.e30.").await;
    assert_eq!(forged.status, 400);
    let mismatch = b.get(&format!("/oauth2/v1/logout?id_token_hint={hint}&client_id=shop")).await;
    assert_eq!(mismatch.status, 400);
    assert!(b.cookie("pw_session").is_some(), "nothing ended yet");

    // With the hint: ended at once, back to the app with state.
    s.advance(5);
    let r = b
        .get(&format!(
            "/oauth2/v1/logout?id_token_hint={hint}&post_logout_redirect_uri=https://portal.example/bye&state=s9"
        ))
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("https://portal.example/bye?state=s9"));
    assert!(b.cookie("pw_session").is_none(), "the cookie is deleted");
    let quiet = authorize_query("portal", PORTAL, "openid", "&prompt=none");
    assert!(
        b.get(&format!("/oauth2/v1/authorize?{quiet}")).await.header("location").unwrap().contains("login_required")
    );
    let events = s.app.store.events(0, 500).await.unwrap();
    assert!(events.iter().any(|(_, e)| e.event_type == "user.session.end"));
}

#[tokio::test]
async fn logout_without_a_hint_asks_first() {
    let s = TestServer::with(APPS, None).await;
    s.register("ada@example.com", "Ada").await;
    let b = Browser::new(&s);
    b.authorize(&authorize_query("portal", PORTAL, "openid", ""), "ada@example.com").await.unwrap();
    let page = b.get("/oauth2/v1/logout?client_id=portal&post_logout_redirect_uri=https://portal.example/bye").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("Sign out?") && html.contains("method=\"post\""), "{html}");
    assert!(b.cookie("pw_session").is_some(), "a GET alone ends nothing");
    let token = html.split("name=\"confirm\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    // Another site cannot forge the answer.
    let forged = b.post_form("/oauth2/v1/logout", &[("confirm", "forged"), ("client_id", "portal")]).await;
    assert_eq!(forged.status, 200);
    assert!(b.cookie("pw_session").is_some());
    let r = b
        .post_form(
            "/oauth2/v1/logout",
            &[("confirm", &token), ("client_id", "portal"), ("post_logout_redirect_uri", "https://portal.example/bye")],
        )
        .await;
    assert_eq!(r.header("location"), Some("https://portal.example/bye"));
    assert!(b.cookie("pw_session").is_none());

    // Signed out already: a page that says so.
    let done = b.get("/oauth2/v1/logout").await;
    assert_eq!(done.status, 200);
    assert!(done.text().contains("You are signed out"));
}
