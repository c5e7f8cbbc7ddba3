//! Interoperability: the `openidconnect` crate — a certified-style relying party
//! nobody here wrote — signs in through Passway over a real socket: discovery,
//! code + PKCE, ID token verification (signature, iss, aud, nonce, expiry), refresh,
//! userinfo; and the refusals it must see.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, TokenResponse, reqwest,
};
use passway_protocol::FlowResponse;
use serde_json::{Value, json};

use crate::support::*;

const PORTAL: &str = "https://portal.example/cb";

fn http() -> reqwest::Client {
    reqwest::ClientBuilder::new().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Plays the person in a browser: follows the authorization URL to the hosted page,
/// signs in by emailed code (registering first when asked), and returns where the
/// browser is sent back.
async fn sign_in(issuer: &str, http: &reqwest::Client, auth_url: &str, email: &str) -> url::Url {
    let r = http.get(auth_url).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    // The browser keeps the device cookie `/authorize` set: the flow is bound to it.
    let handle = location.strip_prefix("/signin?flow=").unwrap_or_else(|| panic!("to the hosted page: {location}"));
    let device = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let flow: FlowResponse = http
        .get(format!("{issuer}/api/v1/flows/{handle}"))
        .header("cookie", &device)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let post = |flow: &FlowResponse, name: &str, body: Value| {
        let href = flow.remediation(name).unwrap_or_else(|| panic!("{name} offered")).href.clone();
        let (http, device) = (http.clone(), device.clone());
        async move {
            let r = http.post(href).header("cookie", device).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<FlowResponse>().await.unwrap()
        }
    };
    let flow = post(&flow, "identify", json!({ "identifier": email })).await;
    let mails: Value =
        http.get(format!("{issuer}/dev/mailbox/messages?to={email}")).send().await.unwrap().json().await.unwrap();
    let text = mails[0]["text"].as_str().unwrap();
    let code = &text.split("code: ").nth(1).unwrap()[..6];
    let mut flow = post(&flow, "challenge-authenticator", json!({ "code": code })).await;
    if flow.remediation("enroll-profile").is_some() {
        flow = post(&flow, "enroll-profile", json!({ "email": email, "given_name": "Ada" })).await;
    }
    url::Url::parse(flow.success.unwrap().redirect_to.as_deref().unwrap()).unwrap()
}

fn param(url: &url::Url, name: &str) -> String {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
}

#[tokio::test]
async fn openidconnect_crate_signs_in_refreshes_and_reads_userinfo() {
    let (_, hash) = passway_server::oidc::client_auth::new_secret(&[3; 32]);
    let secret = passway_server::oidc::client_auth::new_secret(&[3; 32]).0;
    let extra = format!(
        r#"{apps}
[[apps]]
client_id = "web"
redirect_uris = ["https://web.example/cb"]
client_secret_hashes = ["{hash}"]
signing_alg = "RS256"
"#,
        apps = crate::sso::APPS
    );
    let live = Listening::start(&extra).await;
    let http = http();
    let issuer = IssuerUrl::new(live.issuer.clone()).unwrap();
    let meta = CoreProviderMetadata::discover_async(issuer, &http).await.expect("discovery");
    let client = CoreClient::from_provider_metadata(meta.clone(), ClientId::new("portal".into()), None)
        .set_redirect_uri(RedirectUrl::new(PORTAL.into()).unwrap());

    // Code + PKCE through the hosted page.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let back = sign_in(&live.issuer, &http, auth_url.as_str(), "ada@example.com").await;
    assert_eq!(param(&back, "state"), *csrf.secret());
    let code = param(&back, "code");
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).expect("the ID token verifies: signature, iss, aud, nonce, exp");
    assert_eq!(claims.email().map(|e| e.as_str()), Some("ada@example.com"));
    assert_eq!(claims.email_verified(), Some(true));
    let sub = claims.subject().clone();

    // The same code again: refused, and what it issued is revoked.
    let replay = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(43)))
        .request_async(&http)
        .await;
    assert!(replay.is_err());

    // A fresh sign-in (the session answers at once) for refresh and userinfo.
    let fresh = || async {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth_url, _, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("offline_access".into()))
            .set_pkce_challenge(challenge)
            .url();
        let back = sign_in(&live.issuer, &http, auth_url.as_str(), "ada@example.com").await;
        (param(&back, "code"), verifier, nonce)
    };
    let (code, pkce, nonce) = fresh().await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(pkce)
        .request_async(&http)
        .await
        .unwrap();
    tokens.id_token().unwrap().claims(&client.id_token_verifier(), &nonce).unwrap();
    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), Some(sub.clone()))
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("ada@example.com"));

    let rt = tokens.refresh_token().expect("offline_access brings a refresh token").clone();
    let refreshed = client.exchange_refresh_token(&rt).unwrap().request_async(&http).await.expect("refresh");
    let refreshed_id = refreshed.id_token().expect("a refreshed ID token");
    let no_nonce =
        |n: Option<&Nonce>| if n.is_none() { Ok(()) } else { Err("a refreshed ID token has no nonce".to_owned()) };
    assert_eq!(refreshed_id.claims(&client.id_token_verifier(), no_nonce).unwrap().subject(), &sub);
    assert_ne!(refreshed.refresh_token().unwrap().secret(), rt.secret(), "rotated");
    // Reusing the old refresh token: refused, and the family is gone.
    assert!(client.exchange_refresh_token(&rt).unwrap().request_async(&http).await.is_err());
    let newest = refreshed.refresh_token().unwrap().clone();
    assert!(client.exchange_refresh_token(&newest).unwrap().request_async(&http).await.is_err());
    let revoked: Result<CoreUserInfoClaims, _> =
        client.user_info(refreshed.access_token().clone(), None).unwrap().request_async(&http).await;
    assert!(revoked.is_err(), "userinfo refuses a revoked family's access token");

    // Revocation (the crate refuses http revocation endpoints, so a plain POST).
    let (code, pkce, _) = fresh().await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(pkce)
        .request_async(&http)
        .await
        .unwrap();
    let r = http
        .post(format!("{}/oauth2/v1/revoke", live.issuer))
        .form(&[("token", tokens.access_token().secret().as_str()), ("client_id", "portal")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after: Result<CoreUserInfoClaims, _> =
        client.user_info(tokens.access_token().clone(), None).unwrap().request_async(&http).await;
    assert!(after.is_err(), "a revoked access token");

    // A confidential client with client_secret_basic and RS256 (and PKCE: every client).
    let web = CoreClient::from_provider_metadata(meta, ClientId::new("web".into()), Some(ClientSecret::new(secret)))
        .set_redirect_uri(RedirectUrl::new("https://web.example/cb".into()).unwrap())
        .set_auth_type(AuthType::BasicAuth);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _, nonce) = web
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let back = sign_in(&live.issuer, &http, auth_url.as_str(), "ada@example.com").await;
    assert_eq!(param(&back, "iss"), live.issuer, "RFC 9207: the authorization response names its issuer");
    let tokens = web
        .exchange_code(AuthorizationCode::new(param(&back, "code")))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id = tokens.id_token().unwrap();
    assert_eq!(*id.signing_alg().unwrap(), openidconnect::core::CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256);
    id.claims(&web.id_token_verifier(), &nonce).expect("RS256 verifies");
}

#[tokio::test]
async fn openidconnect_crate_refuses_forged_id_tokens() {
    let live = Listening::start(crate::sso::APPS).await;
    let http = http();
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(live.issuer.clone()).unwrap(), &http).await.unwrap();
    let client = CoreClient::from_provider_metadata(meta, ClientId::new("portal".into()), None)
        .set_redirect_uri(RedirectUrl::new(PORTAL.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let back = sign_in(&live.issuer, &http, auth_url.as_str(), "ada@example.com").await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(param(&back, "code")))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let genuine = tokens.id_token().unwrap().to_string();
    let verify = |token: &str| -> Result<(), String> {
        let parsed: CoreIdToken = token.parse().map_err(|e| format!("{e:?}"))?;
        parsed.claims(&client.id_token_verifier(), &nonce).map(|_| ()).map_err(|e| e.to_string())
    };
    verify(&genuine).expect("the genuine token verifies");

    use base64::Engine as _;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let unb64 = |s: &str| -> Value {
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap()
    };
    let parts: Vec<&str> = genuine.split('.').collect();
    let (header, mut claims) = (unb64(parts[0]), unb64(parts[1]));

    claims["sub"] = json!("someone-else");
    let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    assert!(verify(&tampered).is_err(), "tampered claims");
    let none = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT" })), parts[1]);
    assert!(verify(&none).is_err(), "alg none");
    let mut other_kid = header.clone();
    other_kid["kid"] = json!("not-a-published-key");
    assert!(verify(&format!("{}.{}.{}", b64(&other_kid), parts[1], parts[2])).is_err(), "unknown kid");
    let mut hs = header;
    hs["alg"] = json!("HS256");
    assert!(verify(&format!("{}.{}.{}", b64(&hs), parts[1], parts[2])).is_err(), "algorithm swap");
    let wrong_nonce = genuine.parse::<CoreIdToken>().unwrap();
    assert!(wrong_nonce.claims(&client.id_token_verifier(), &Nonce::new("other".into())).is_err(), "nonce");
}

#[tokio::test]
async fn openidconnect_crate_refuses_an_expired_id_token() {
    // A server whose clock is two hours behind issues ID tokens that expired an hour ago.
    let two_hours_ago = passway_server::clock::Clock::System.now().0 - 2 * 3600 * 1000;
    let live = Listening::start_at(crate::sso::APPS, passway_server::engine::Timestamp(two_hours_ago)).await;
    let http = http();
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(live.issuer.clone()).unwrap(), &http).await.unwrap();
    let client = CoreClient::from_provider_metadata(meta, ClientId::new("portal".into()), None)
        .set_redirect_uri(RedirectUrl::new(PORTAL.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let back = sign_in(&live.issuer, &http, auth_url.as_str(), "ada@example.com").await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(param(&back, "code")))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let error = tokens.id_token().unwrap().claims(&client.id_token_verifier(), &nonce).unwrap_err();
    assert!(error.to_string().to_lowercase().contains("expired"), "{error}");
}

#[tokio::test]
async fn server_side_refusals_over_the_wire() {
    let live = Listening::start(crate::sso::APPS).await;
    let http = http();
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(live.issuer.clone()).unwrap(), &http).await.unwrap();
    let client = CoreClient::from_provider_metadata(meta, ClientId::new("portal".into()), None)
        .set_redirect_uri(RedirectUrl::new(PORTAL.into()).unwrap());

    // Wrong redirect_uri: an error page, never a redirect.
    let evil = client.clone().set_redirect_uri(RedirectUrl::new("https://evil.example/cb".into()).unwrap());
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _, _) = evil
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let r = http.get(url.as_str()).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());

    let code_for = || async {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _, _) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge)
            .url();
        (param(&sign_in(&live.issuer, &http, url.as_str(), "ada@example.com").await, "code"), verifier)
    };
    // Wrong verifier.
    let (code, _) = code_for().await;
    let wrong = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new("w".repeat(43)))
        .request_async(&http)
        .await;
    assert!(format!("{:?}", wrong.unwrap_err()).contains("invalid_grant"));
    // Expired code (60 s).
    let (code, verifier) = code_for().await;
    live.server.advance(61);
    let late = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await;
    assert!(format!("{:?}", late.unwrap_err()).contains("expired"));
    // An unknown refresh token.
    let unknown = client.exchange_refresh_token(&RefreshToken::new("nope".into())).unwrap().request_async(&http).await;
    assert!(format!("{:?}", unknown.unwrap_err()).contains("invalid_grant"));
}
