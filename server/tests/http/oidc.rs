//! The OpenID Provider endpoints, checked with an independent JWT library.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Value, json};

use crate::support::*;

/// Verifies an ID token against the server's JWKS with `jsonwebtoken`.
pub async fn verify_id_token(s: &TestServer, token: &str) -> Value {
    let jwks = s.get("/oauth2/v1/keys").await.json();
    let kid = decode_header(token).unwrap().kid.expect("kid");
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).expect("kid in the JWKS");
    let key = DecodingKey::from_ec_components(jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&["shop"]);
    validation.set_issuer(&[ISSUER]);
    decode::<Value>(token, &key, &validation).unwrap_or_else(|e| panic!("ID token rejected: {e}")).claims
}

/// The claims of a JWT, not verified (for tests that verify elsewhere).
pub fn decode_claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn discovery_and_keys() {
    let s = TestServer::new().await;
    let d = s.get("/.well-known/openid-configuration").await.json();
    assert_eq!(d["issuer"], ISSUER);
    assert_eq!(d["authorization_endpoint"], format!("{ISSUER}/oauth2/v1/authorize"));
    assert_eq!(d["token_endpoint"], format!("{ISSUER}/oauth2/v1/token"));
    assert_eq!(d["jwks_uri"], format!("{ISSUER}/oauth2/v1/keys"));
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["ES256", "RS256"]));
    let keys = s.get("/oauth2/v1/keys").await.json();
    let key = &keys["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str(), key["use"].as_str()),
        (Some("EC"), Some("P-256"), Some("ES256"), Some("sig"))
    );
    assert!(key.get("d").is_none(), "no private part is published");
}

#[tokio::test]
async fn code_exchange_gives_verifiable_tokens() {
    let s = TestServer::new().await;
    let done = s.register("ada@example.com", "Ada").await;
    let r = s.exchange(done.success.unwrap().code.as_ref().unwrap()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let tokens = r.json();
    assert_eq!((tokens["token_type"].as_str(), tokens["expires_in"].as_i64()), (Some("Bearer"), Some(3600)));
    assert_eq!(tokens["scope"], "openid email profile");
    let claims = verify_id_token(&s, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["given_name"], "Ada");
    assert_eq!(claims["amr"], json!(["email"]));
    let user = s.app.store.user_by_email("ada@example.com").await.unwrap().unwrap();
    assert_eq!(claims["sub"], user.id);
    let access = s.app.keys.get().verify(tokens["access_token"].as_str().unwrap(), s.clock.now());
    assert_eq!(access.unwrap().header["typ"], "at+jwt", "the access token is a signed JWT");
}

#[tokio::test]
async fn token_endpoint_refusals() {
    let s = TestServer::new().await;
    let code_of = |r: passway_protocol::FlowResponse| r.success.unwrap().code.unwrap();
    let code = code_of(s.register("ada@example.com", "Ada").await);
    let form = |code: &str, verifier: &str, redirect: &str, client: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", redirect.to_owned()),
            ("client_id", client.to_owned()),
            ("code_verifier", verifier.to_owned()),
        ]
    };
    let post = |pairs: Vec<(&'static str, String)>| {
        let s = &s;
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = s.post_form("/oauth2/v1/token", &pairs).await;
            (r.status.as_u16(), r.json()["error"].as_str().unwrap_or("").to_owned())
        }
    };
    // A wrong verifier (or client, or redirect URI) is refused before the code is spent:
    // whoever stole a code but not its verifier cannot burn it for its owner.
    assert_eq!(
        post(form(&code, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX", REDIRECT, "shop")).await,
        (400, "invalid_grant".into())
    );
    assert_eq!(post(form(&code, VERIFIER, REDIRECT, "closed")).await, (400, "invalid_grant".into()));
    assert_eq!(post(form(&code, VERIFIER, REDIRECT, "shop")).await, (200, String::new()), "still the owner's");
    assert_eq!(post(form(&code, VERIFIER, REDIRECT, "shop")).await, (400, "invalid_grant".into()), "reused code");

    let code = code_of(s.sign_in("ada@example.com").await);
    assert_eq!(
        post(form(&code, VERIFIER, "https://shop.example/other", "shop")).await,
        (400, "invalid_grant".into()),
        "other redirect_uri"
    );
    let code = code_of(s.sign_in("ada@example.com").await);
    assert_eq!(post(form(&code, VERIFIER, REDIRECT, "closed")).await, (400, "invalid_grant".into()), "other client");
    let code = code_of(s.sign_in("ada@example.com").await);
    s.advance(61);
    assert_eq!(post(form(&code, VERIFIER, REDIRECT, "shop")).await, (400, "invalid_grant".into()), "expired code");
    assert_eq!(post(form("made-up", VERIFIER, REDIRECT, "shop")).await, (400, "invalid_grant".into()));
    assert_eq!(post(form("x", VERIFIER, REDIRECT, "nobody")).await, (401, "invalid_client".into()));
    assert_eq!(post(vec![("grant_type", "password".into())]).await, (400, "unsupported_grant_type".into()));
    assert_eq!(post(vec![]).await, (400, "invalid_request".into()));
    let json_body = s.post_json("/oauth2/v1/token", &json!({"grant_type": "authorization_code"})).await;
    assert_eq!(json_body.status, 400);
    assert_eq!(json_body.json()["error"], "invalid_request");
}

#[tokio::test]
async fn authorize_errors_go_where_it_is_safe() {
    let s = TestServer::new().await;
    let q = |params: &str| {
        format!(
            "/oauth2/v1/authorize?response_type=code&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256&state=s1&{params}"
        )
    };
    // Unknown client or unregistered redirect: a page, never a redirect.
    let page = s.get(&q("client_id=nobody&redirect_uri=https://evil.example/cb")).await;
    assert_eq!(page.status, 400);
    assert!(page.text().contains("No app is registered with client_id"));
    assert!(page.header("location").is_none());
    let page = s.get(&q(&format!("client_id=shop&redirect_uri={REDIRECT}/evil"))).await;
    assert_eq!(page.status, 400);
    assert!(page.text().contains("/themes/acme/theme.css"), "branded for the app that was named");
    // Anything else: back to the client with error and state.
    let r = s.get(&format!("/oauth2/v1/authorize?response_type=code&client_id=shop&redirect_uri={REDIRECT}&scope=openid&state=s1&code_challenge={CHALLENGE}&code_challenge_method=plain")).await;
    assert_eq!(r.status, 303);
    let location = url::Url::parse(r.header("location").unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = location.query_pairs().collect();
    assert_eq!((q["error"].as_ref(), q["state"].as_ref()), ("invalid_request", "s1"));
    let r = s
        .get(&format!("/oauth2/v1/authorize?response_type=token&client_id=shop&redirect_uri={REDIRECT}&state=s2"))
        .await;
    assert!(r.header("location").unwrap().contains("error=unsupported_response_type"));
}
