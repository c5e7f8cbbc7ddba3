//! The token endpoint's three grants, refresh rotation, replay handling, client
//! authentication, userinfo, introspection, revocation, RS256 and key rotation.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use passway_server::oidc::client_auth::new_secret;
use serde_json::{Value, json};

use crate::oidc::decode_claims;
use crate::support::*;

/// The API the tests' tokens may be for.
const ORDERS: &str = "https://orders.example/api";

fn secret() -> (String, String) {
    new_secret(&[1; 32])
}

fn extra() -> String {
    let (_, hash) = secret();
    format!(
        r#"{apps}
[[apps]]
client_id = "web"
name = "Web"
redirect_uris = ["https://web.example/cb"]
client_secret_hashes = ["{hash}"]
signing_alg = "RS256"
require_pkce = false
[[apps]]
client_id = "svc"
grant_types = ["client_credentials"]
client_secret_hashes = ["{hash}"]
api_scopes = ["orders:read", "orders:write"]
audience = "{ORDERS}"
[[apps]]
client_id = "orders-api"
grant_types = ["client_credentials"]
client_secret_hashes = ["{hash}"]
resource = "{ORDERS}"
"#,
        apps = crate::sso::APPS
    )
}

/// Signs in to `shop` by the embedded flow with `scope` and exchanges the code.
async fn tokens_for(s: &TestServer, scope: &str) -> Value {
    tokens_for_resource(s, scope, None).await
}

/// [`tokens_for`], for the API `resource` (RFC 8707).
async fn tokens_for_resource(s: &TestServer, scope: &str, resource: Option<&str>) -> Value {
    let flow = s.start_with(json!({ "scope": scope, "resource": resource })).await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (code, _) = s.mailed("ada@example.com").await;
    let done = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    let r = s.exchange(done.success.unwrap().code.as_deref().unwrap()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

async fn refresh(s: &TestServer, token: &str) -> Reply {
    s.post_form("/oauth2/v1/token", &[("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", "shop")])
        .await
}

async fn userinfo(s: &TestServer, access_token: &str) -> Reply {
    let req = axum::http::Request::get("/oauth2/v1/userinfo")
        .header("authorization", format!("Bearer {access_token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    s.send(req).await
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

async fn post_basic(s: &TestServer, path: &str, auth: &str, pairs: &[(&str, &str)]) -> Reply {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let req = axum::http::Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", auth)
        .body(axum::body::Body::from(body))
        .unwrap();
    s.send(req).await
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    let s = TestServer::with(&extra(), None).await;
    s.register("ada@example.com", "Ada").await;
    let no_offline = tokens_for(&s, "openid email").await;
    assert!(no_offline.get("refresh_token").is_none(), "only offline_access brings a refresh token");

    let first = tokens_for(&s, "openid email offline_access").await;
    let rt1 = first["refresh_token"].as_str().unwrap();
    let original = decode_claims(first["id_token"].as_str().unwrap());
    s.advance(120);
    let r = refresh(&s, rt1).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let second = r.json();
    let rt2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2, "rotated");
    let refreshed = decode_claims(second["id_token"].as_str().unwrap());
    assert_eq!(
        (&refreshed["sub"], &refreshed["auth_time"], &refreshed["sid"]),
        (&original["sub"], &original["auth_time"], &original["sid"])
    );
    assert!(refreshed.get("nonce").is_none(), "a refreshed ID token carries no nonce");
    assert!(refreshed["iat"].as_i64() > original["iat"].as_i64());
    assert_eq!(userinfo(&s, second["access_token"].as_str().unwrap()).await.status, 200);

    // A narrower scope is allowed; a wider one is not.
    let r = s
        .post_form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt2),
                ("client_id", "shop"),
                ("scope", "openid profile"),
            ],
        )
        .await;
    assert_eq!(r.error(), (400, "invalid_scope".into()));
    let r = s
        .post_form(
            "/oauth2/v1/token",
            &[("grant_type", "refresh_token"), ("refresh_token", rt2), ("client_id", "shop"), ("scope", "openid")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let third = r.json();
    assert_eq!(third["scope"], "openid");
    let rt3 = third["refresh_token"].as_str().unwrap();

    // Another client cannot use it.
    let r = s
        .post_form(
            "/oauth2/v1/token",
            &[("grant_type", "refresh_token"), ("refresh_token", rt3), ("client_id", "portal")],
        )
        .await;
    assert_eq!(r.error(), (400, "invalid_grant".into()));

    // rt1 comes back: the whole family dies, its newest members included.
    let r = refresh(&s, rt1).await;
    assert_eq!(r.error(), (400, "invalid_grant".into()));
    assert!(r.json()["error_description"].as_str().unwrap().contains("already used"));
    assert_eq!(refresh(&s, rt3).await.error(), (400, "invalid_grant".into()));
    assert_eq!(
        userinfo(&s, third["access_token"].as_str().unwrap()).await.status,
        401,
        "access tokens of the family too"
    );
    assert_eq!(userinfo(&s, no_offline["access_token"].as_str().unwrap()).await.status, 200, "other families live on");
    let events = s.app.store.events(0, 500).await.unwrap();
    assert!(events.iter().any(|(_, e)| e.event_type == "app.oauth2.as.token.detect_reuse"));

    // Expiry: 30 days by default.
    let fresh = tokens_for(&s, "openid offline_access").await;
    s.advance(30 * 86400 + 1);
    assert_eq!(refresh(&s, fresh["refresh_token"].as_str().unwrap()).await.error(), (400, "invalid_grant".into()));
}

#[tokio::test]
async fn a_replayed_code_revokes_what_its_first_use_issued() {
    let s = TestServer::with(&extra(), None).await;
    s.register("ada@example.com", "Ada").await;
    let flow = s.start_with(json!({ "scope": "openid offline_access" })).await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (code, _) = s.mailed("ada@example.com").await;
    let done = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    let code = done.success.unwrap().code.unwrap();
    let tokens = s.exchange(&code).await.json();
    assert_eq!(userinfo(&s, tokens["access_token"].as_str().unwrap()).await.status, 200);
    let replay = s.exchange(&code).await;
    assert_eq!(replay.error(), (400, "invalid_grant".into()));
    assert_eq!(userinfo(&s, tokens["access_token"].as_str().unwrap()).await.status, 401);
    assert_eq!(refresh(&s, tokens["refresh_token"].as_str().unwrap()).await.error(), (400, "invalid_grant".into()));
}

#[tokio::test]
async fn client_credentials_for_confidential_clients_only() {
    let s = TestServer::with(&extra(), None).await;
    let (secret, _) = secret();
    let cc = |scope: Option<&'static str>| {
        let mut pairs = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            pairs.push(("scope", scope));
        }
        pairs
    };
    let r = post_basic(&s, "/oauth2/v1/token", &basic("svc", &secret), &cc(None)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.json();
    assert!(t.get("id_token").is_none() && t.get("refresh_token").is_none());
    assert_eq!(t["scope"], "orders:read orders:write");
    let claims = decode_claims(t["access_token"].as_str().unwrap());
    assert_eq!((claims["sub"].as_str(), claims["client_id"].as_str()), (Some("svc"), Some("svc")));
    // client_secret_post works too, with a narrower scope.
    let mut post = cc(Some("orders:read"));
    post.extend([("client_id", "svc"), ("client_secret", secret.as_str())]);
    let r = s.post_form("/oauth2/v1/token", &post).await;
    assert_eq!(r.json()["scope"], "orders:read");

    let r = post_basic(&s, "/oauth2/v1/token", &basic("svc", &secret), &cc(Some("admin"))).await;
    assert_eq!(r.error(), (400, "invalid_scope".into()));
    let r = post_basic(&s, "/oauth2/v1/token", &basic("svc", "wrong"), &cc(None)).await;
    assert_eq!(r.error(), (401, "invalid_client".into()));
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"passway\""));
    let r = s.post_form("/oauth2/v1/token", &[("grant_type", "client_credentials"), ("client_id", "shop")]).await;
    assert_eq!(r.error(), (400, "unauthorized_client".into()), "a public client cannot");
    let mut code_grant = vec![("grant_type", "authorization_code"), ("code", "x")];
    code_grant.extend([("client_id", "svc"), ("client_secret", secret.as_str())]);
    let r = s.post_form("/oauth2/v1/token", &code_grant).await;
    assert_eq!(r.error(), (400, "unauthorized_client".into()), "svc may only use client_credentials");

    // It is for the app's API (its `audience`), or one it names; never for none.
    assert_eq!(claims["aud"], ORDERS);
    let mut named = cc(None);
    named.push(("resource", ORDERS));
    assert_eq!(post_basic(&s, "/oauth2/v1/token", &basic("svc", &secret), &named).await.status, 200);
    named.pop();
    named.push(("resource", "https://elsewhere.example"));
    let r = post_basic(&s, "/oauth2/v1/token", &basic("svc", &secret), &named).await;
    assert_eq!(r.error(), (400, "invalid_target".into()));
    let r = post_basic(&s, "/oauth2/v1/token", &basic("orders-api", &secret), &cc(None)).await;
    assert_eq!(r.error(), (400, "invalid_target".into()), "an app without an audience must name one");

    // Its token names no account: userinfo refuses it (not its audience either); the
    // API it is for introspects it.
    let access = t["access_token"].as_str().unwrap();
    let r = userinfo(&s, access).await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().contains("invalid_token"));
    let r = post_basic(&s, "/oauth2/v1/introspect", &basic("orders-api", &secret), &[("token", access)]).await;
    let i = r.json();
    assert_eq!(
        (i["active"].as_bool(), i["client_id"].as_str(), i["sub"].as_str(), i["aud"].as_str()),
        (Some(true), Some("svc"), Some("svc"), Some(ORDERS))
    );
}

#[tokio::test]
async fn userinfo_introspection_and_revocation() {
    let s = TestServer::with(&extra(), None).await;
    s.register("ada@example.com", "Ada").await;
    let (secret, _) = secret();
    let t = tokens_for(&s, "openid email profile offline_access").await;
    let access = t["access_token"].as_str().unwrap();
    let rt = t["refresh_token"].as_str().unwrap();

    let r = userinfo(&s, access).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let info = r.json();
    assert_eq!((info["email"].as_str(), info["given_name"].as_str()), (Some("ada@example.com"), Some("Ada")));
    assert_eq!(info["sub"], decode_claims(access)["sub"]);
    // POST with the token in the form (RFC 6750 §2.2).
    assert_eq!(s.post_form("/oauth2/v1/userinfo", &[("access_token", access)]).await.status, 200);
    // Refusals, with the RFC 6750 challenge.
    let r = s.get("/oauth2/v1/userinfo").await;
    assert_eq!((r.status.as_u16(), r.header("www-authenticate")), (401, Some("Bearer realm=\"passway\"")));
    let mut tampered = access.to_owned();
    tampered.insert(tampered.rfind('.').unwrap() - 3, 'x');
    assert!(userinfo(&s, &tampered).await.header("www-authenticate").unwrap().contains("error=\"invalid_token\""));

    // Introspection is for APIs, about tokens for them: the token asked for the orders
    // API names it in `aud` (beside userinfo), and only that API learns about it.
    let for_orders = tokens_for_resource(&s, "openid email", Some(ORDERS)).await;
    let api_token = for_orders["access_token"].as_str().unwrap();
    let aud = decode_claims(api_token)["aud"].clone();
    assert_eq!(aud, json!([ORDERS, format!("{ISSUER}/oauth2/v1/userinfo")]));
    assert_eq!(userinfo(&s, api_token).await.status, 200, "userinfo is among its audiences");
    let introspect = |client: &'static str, token: String| {
        let (s, secret) = (&s, secret.clone());
        async move { post_basic(s, "/oauth2/v1/introspect", &basic(client, &secret), &[("token", &token)]).await }
    };
    let r = introspect("orders-api", api_token.to_owned()).await;
    assert_eq!((r.json()["active"].as_bool(), r.json()["scope"].as_str()), (Some(true), Some("openid email")));
    let r = introspect("orders-api", access.to_owned()).await;
    assert_eq!(r.json(), json!({ "active": false }), "a token not for this API says nothing");
    let r = introspect("orders-api", rt.to_owned()).await;
    assert_eq!(r.json(), json!({ "active": false }), "refresh tokens only by their client");
    let r = introspect("web", api_token.to_owned()).await;
    assert_eq!(r.error(), (403, "unauthorized_client".into()), "a client that is not an API may not introspect");
    let r = s.post_form("/oauth2/v1/introspect", &[("token", access), ("client_id", "shop")]).await;
    assert_eq!(r.error(), (403, "unauthorized_client".into()));
    assert_eq!(
        s.post_form("/oauth2/v1/introspect", &[("token", access)]).await.error(),
        (401, "invalid_client".into())
    );
    // An unknown resource is refused at the start.
    let r = s
        .post_json(
            "/api/v1/flows",
            &json!({"client_id": "shop", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE,
                "code_challenge_method": "S256", "resource": "https://nowhere.example"}),
        )
        .await;
    assert_eq!(r.error(), (400, "invalid_target".into()));

    // Revocation: always 200; only the client's own tokens.
    let r = s.post_form("/oauth2/v1/revoke", &[("token", access), ("client_id", "portal")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(userinfo(&s, access).await.status, 200, "not portal's to revoke");
    assert_eq!(s.post_form("/oauth2/v1/revoke", &[("token", "nonsense"), ("client_id", "shop")]).await.status, 200);
    assert_eq!(s.post_form("/oauth2/v1/revoke", &[("token", access), ("client_id", "shop")]).await.status, 200);
    let r = userinfo(&s, access).await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().contains("revoked"));
    assert_eq!(refresh(&s, rt).await.status, 200, "revoking an access token leaves the refresh token");
    let t2 = tokens_for(&s, "openid offline_access").await;
    assert_eq!(
        s.post_form("/oauth2/v1/revoke", &[("token", t2["refresh_token"].as_str().unwrap()), ("client_id", "shop")])
            .await
            .status,
        200
    );
    assert_eq!(refresh(&s, t2["refresh_token"].as_str().unwrap()).await.error(), (400, "invalid_grant".into()));
    assert_eq!(userinfo(&s, t2["access_token"].as_str().unwrap()).await.status, 401, "with its family's access tokens");

    // Expired access tokens.
    let t3 = tokens_for(&s, "openid").await;
    s.advance(3600);
    assert!(
        userinfo(&s, t3["access_token"].as_str().unwrap())
            .await
            .header("www-authenticate")
            .unwrap()
            .contains("expired")
    );
}

/// Verifies an RS256 or ES256 token with `jsonwebtoken` against the JWKS.
async fn verify_with_jwks(s: &TestServer, token: &str, audience: &str) -> Value {
    let jwks = s.get("/oauth2/v1/keys").await.json();
    let header = decode_header(token).unwrap();
    let kid = header.kid.expect("kid");
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).expect("kid published");
    let text = |k: &str| jwk[k].as_str().unwrap();
    let key = match text("kty") {
        "RSA" => DecodingKey::from_rsa_components(text("n"), text("e")).unwrap(),
        _ => DecodingKey::from_ec_components(text("x"), text("y")).unwrap(),
    };
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[ISSUER]);
    decode::<Value>(token, &key, &validation).unwrap_or_else(|e| panic!("rejected: {e}")).claims
}

#[tokio::test]
async fn a_confidential_client_without_pkce_gets_rs256_tokens() {
    let s = TestServer::with(&extra(), None).await;
    s.register("ada@example.com", "Ada").await;
    let (secret, _) = secret();
    let b = Browser::new(&s);
    let query =
        "response_type=code&client_id=web&redirect_uri=https://web.example/cb&scope=openid%20email&state=w&nonce=wn";
    let back = b.authorize(query, "ada@example.com").await.unwrap();
    let code = param(&back, "code").unwrap();
    let exchange = |auth: String| {
        let code = code.clone();
        let s = &s;
        async move {
            let pairs = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", "https://web.example/cb"),
            ];
            post_basic(s, "/oauth2/v1/token", &auth, &pairs).await
        }
    };
    assert_eq!(exchange(basic("web", "nope")).await.error(), (401, "invalid_client".into()));
    let r = exchange(basic("web", &secret)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.json();
    let id_token = t["id_token"].as_str().unwrap();
    assert_eq!(decode_header(id_token).unwrap().alg, Algorithm::RS256);
    let claims = verify_with_jwks(&s, id_token, "web").await;
    assert_eq!((claims["nonce"].as_str(), claims["email"].as_str()), (Some("wn"), Some("ada@example.com")));
    assert_eq!(decode_header(t["access_token"].as_str().unwrap()).unwrap().alg, Algorithm::RS256);
    let jwks = s.get("/oauth2/v1/keys").await.json();
    let mut kinds: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kty"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(kinds, ["EC", "RSA"]);
    // The public shop still needs PKCE.
    let r = b.get("/oauth2/v1/authorize?response_type=code&client_id=shop&redirect_uri=https://shop.example/cb&scope=openid&state=x").await;
    assert!(r.header("location").unwrap().contains("code_challenge+is+required"), "{:?}", r.header("location"));
}

#[tokio::test]
async fn signing_keys_rotate_with_overlap() {
    let s = TestServer::with(&extra(), None).await;
    s.register("ada@example.com", "Ada").await;
    let kids = |jwks: Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["kty"] == "EC")
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = tokens_for(&s, "openid").await;
    let old_kid = decode_header(before["id_token"].as_str().unwrap()).unwrap().kid.unwrap();
    assert_eq!(kids(s.get("/oauth2/v1/keys").await.json()), std::slice::from_ref(&old_kid));

    // 89 days on (rotation every 90 by default, a day ahead): the successor is
    // published but does not sign yet.
    s.advance(89 * 86400);
    s.app.refresh_keys().await.unwrap();
    let published = kids(s.get("/oauth2/v1/keys").await.json());
    assert_eq!(published.len(), 2);
    let new_kid = published.iter().find(|k| **k != old_kid).unwrap().clone();
    s.advance(86400 - 600);
    let during = tokens_for(&s, "openid").await;
    assert_eq!(decode_header(during["id_token"].as_str().unwrap()).unwrap().kid.unwrap(), old_kid);

    // Ten minutes later the successor signs; the old key stays published while its
    // tokens live.
    s.advance(600);
    s.app.refresh_keys().await.unwrap();
    let after = tokens_for(&s, "openid").await;
    assert_eq!(decode_header(after["id_token"].as_str().unwrap()).unwrap().kid.unwrap(), new_kid);
    assert_eq!(kids(s.get("/oauth2/v1/keys").await.json()), [old_kid.clone(), new_kid.clone()]);
    assert_eq!(
        userinfo(&s, during["access_token"].as_str().unwrap()).await.status,
        200,
        "signed by the old key, still live"
    );
    verify_with_jwks(&s, after["id_token"].as_str().unwrap(), "shop").await;

    // Once the old key's tokens have all expired, it is withdrawn.
    s.advance(3600);
    assert_eq!(kids(s.get("/oauth2/v1/keys").await.json()), std::slice::from_ref(&new_kid));

    // Keys are stored sealed, never in clear.
    for k in s.app.store.signing_keys().await.unwrap() {
        assert!(!k.sealed_private.windows(4).any(|w| w == b"0\x81\x87\x02"), "not a bare PKCS#8 document");
    }
    // Another instance on the same store signs with the same key.
    let twin = s.twin().await;
    twin.app.refresh_keys().await.unwrap();
    let from_twin = twin.get("/oauth2/v1/keys").await.json();
    assert_eq!(kids(from_twin), [new_kid]);
}
