//! Sign-on policies over HTTP: a denial as the flow API shows it, and the admin API's
//! explanation (the same dry run as `passway policy explain`).

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::json;

use crate::support::{Browser, REDIRECT, SHOP_ORIGIN, TestServer, VERIFIER, authorize_query, names, param};

/// A payroll app reachable only from the office network (requests through the router
/// carry no client address, so they come from "nowhere": outside it), and an admin token.
fn payroll(admin_hash: &str) -> String {
    format!(
        r#"
[admin]
token_hashes = ["{admin_hash}"]
[zones]
office = ["10.0.0.0/8"]
[[apps]]
client_id = "payroll"
name = "Payroll"
redirect_uris = ["{REDIRECT}"]
allowed_origins = ["{SHOP_ORIGIN}"]
[[apps.sign_on]]
name = "Outside the office"
not_zones = ["office"]
access = "deny"
[[apps.sign_on]]
name = "Everyone"
"#
    )
}

#[tokio::test]
async fn a_denied_sign_in_says_so_and_offers_only_to_start_over() {
    let (_, hash) = passway_server::oidc::client_auth::new_secret(&[7; 32]);
    let server = TestServer::with(&payroll(&hash), None).await;
    let email = "ada@example.com";
    server.register(email, "Ada").await;
    let flow = server.start_with(json!({ "client_id": "payroll" })).await;
    let flow = server.submit(&flow, "identify", json!({ "identifier": email })).await.flow();
    let (code, _) = server.mailed(email).await;
    let denied = server.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    assert!(names(&denied).is_empty(), "{:?}", names(&denied));
    assert!(denied.success.is_none());
    assert_eq!(denied.cancel.as_ref().map(|c| c.name.as_str()), Some("cancel"));
    assert_eq!(denied.strings["title"], "You can't sign in to Payroll here");
    // Nothing was issued: the flow cannot be pushed on.
    let again = server.submit(&flow, "challenge-authenticator", json!({ "code": code })).await;
    assert_eq!(again.error().0, 400, "{}", again.text());
    let events: Vec<String> =
        server.app.store.events(0, 100).await.unwrap().into_iter().map(|(_, e)| e.event_type).collect();
    assert!(events.iter().any(|e| e == "policy.evaluate_sign_on"), "{events:?}");
}

#[tokio::test]
async fn admin_explains_a_decision_with_a_token_only() {
    let (token, hash) = passway_server::oidc::client_auth::new_secret(&[7; 32]);
    let server = TestServer::with(&payroll(&hash), None).await;
    server.register("ada@example.com", "Ada").await;
    let path = "/api/v1/admin/policy/explain?app=payroll&user=ada@example.com&ip=203.0.113.9";
    let get = |path: &str, token: Option<&str>| {
        let mut req = Request::get(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        server.send(req.body(Body::empty()).unwrap())
    };
    assert_eq!(get(path, None).await.error(), (401, "unauthorized".into()));
    assert_eq!(get(path, Some("not-the-token")).await.error(), (401, "unauthorized".into()));

    let outside = get(path, Some(&token)).await.json();
    assert_eq!(outside["outcome"], "denied", "{outside}");
    assert!(outside["lines"].to_string().contains(r#"rule \"Outside the office\" applies: deny"#), "{outside}");
    let inside = get(&path.replace("203.0.113.9", "10.1.2.3"), Some(&token)).await.json();
    assert_eq!(inside["outcome"], "allowed", "{inside}");

    assert_eq!(get(&path.replace("payroll", "nope"), Some(&token)).await.error(), (404, "not_found".into()));
    assert_eq!(get(&path.replace("203.0.113.9", "somewhere"), Some(&token)).await.error().0, 400);
    assert_eq!(get("/api/v1/admin/policy/explain?app=payroll", Some(&token)).await.error().0, 400);

    // Without an admin token configured, there is no admin API.
    let plain = TestServer::new().await;
    let req = Request::get(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
    assert_eq!(plain.send(req.body(Body::empty()).unwrap()).await.status.as_u16(), 404);
}

#[tokio::test]
async fn a_rule_can_tell_a_known_browser_from_a_new_one() {
    let extra = format!(
        r#"
[[apps]]
client_id = "guarded"
name = "Guarded"
redirect_uris = ["{REDIRECT}"]
[[apps.sign_on]]
name = "New browsers"
device = "new"
access = "deny"
[[apps.sign_on]]
name = "Everyone"
"#
    );
    let server = TestServer::with(&extra, None).await;
    let email = "ada@example.com";
    server.register(email, "Ada").await;
    // Ada signs in to the shop in her usual browser: it becomes known.
    let usual = Browser::new(&server);
    let shop = usual.authorize(&authorize_query("shop", REDIRECT, "openid", ""), email).await;
    assert!(shop.is_ok(), "{shop:?}");
    let guarded = usual.authorize(&authorize_query("guarded", REDIRECT, "openid", "&prompt=login"), email).await;
    assert!(guarded.as_ref().is_ok_and(|u| param(u, "code").is_some()), "{guarded:?}");
    // Another browser is new to her: denied.
    let other = Browser::new(&server);
    let denied = other.authorize(&authorize_query("guarded", REDIRECT, "openid", ""), email).await.unwrap_err();
    assert_eq!(denied.strings["title"], "You can't sign in to Guarded here");
}

#[tokio::test]
async fn an_app_without_authentication_lets_a_guest_in_with_a_pseudonym() {
    let extra = format!(
        r#"
[[apps]]
client_id = "catalogue"
name = "Catalogue"
redirect_uris = ["{REDIRECT}"]
[[apps.sign_on]]
name = "Anyone"
access = "anyone"
"#
    );
    let server = TestServer::with(&extra, None).await;
    let browser = Browser::new(&server);
    let query = authorize_query("catalogue", REDIRECT, "openid email profile", "");
    let back = browser.authorize(&query, "unused@example.com").await.expect("straight back, no page");
    let exchange = |back: url::Url| {
        let server = &server;
        async move {
            let code = param(&back, "code").unwrap();
            let pairs = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("client_id", "catalogue"),
                ("code_verifier", VERIFIER),
            ];
            server.post_form("/oauth2/v1/token", &pairs).await.json()
        }
    };
    let tokens = exchange(back).await;
    let claims = crate::oidc::decode_claims(tokens["id_token"].as_str().unwrap());
    let sub = claims["sub"].as_str().unwrap().to_owned();
    assert!(sub.starts_with("guest-"), "{claims}");
    assert!(claims.get("email").is_none() && claims.get("amr").is_none() && claims.get("acr").is_none(), "{claims}");
    assert!(tokens.get("refresh_token").is_none());
    let req = Request::get("/oauth2/v1/userinfo")
        .header(header::AUTHORIZATION, format!("Bearer {}", tokens["access_token"].as_str().unwrap()))
        .body(Body::empty())
        .unwrap();
    assert_eq!(server.send(req).await.json(), serde_json::json!({ "sub": sub }));
    // The same browser is the same guest; another one another.
    let sub_of = |tokens: serde_json::Value| {
        crate::oidc::decode_claims(tokens["id_token"].as_str().unwrap())["sub"].as_str().unwrap().to_owned()
    };
    assert_eq!(sub_of(exchange(browser.authorize(&query, "-").await.unwrap()).await), sub);
    let other = Browser::new(&server);
    assert_ne!(sub_of(exchange(other.authorize(&query, "-").await.unwrap()).await), sub);
    let events: Vec<String> =
        server.app.store.events(0, 100).await.unwrap().into_iter().map(|(_, e)| e.event_type).collect();
    assert!(events.iter().any(|e| e == "user.authentication.anonymous"), "{events:?}");
    assert!(server.app.store.user_by_email("unused@example.com").await.unwrap().is_none(), "no account made");
}
