//! Passwords, authenticator apps and recovery over HTTP, on each store: what the store
//! must hold across instances (lockouts, spent TOTP steps) and what a reset must end.

use passway_protocol::FlowResponse;
use passway_server::authenticators::totp;
use serde_json::{Value, json};

use crate::oidc::decode_claims;
use crate::support::*;

const APPS: &str = r#"
[lockout]
attempts = 3
minutes = 15
[[apps]]
client_id = "vault"
name = "Vault"
redirect_uris = ["https://shop.example/cb"]
passwords = "required"
[[apps]]
client_id = "bank"
name = "Bank"
redirect_uris = ["https://shop.example/cb"]
passwords = "required"
totp = "required"
[[apps.sign_on]]
name = "Two factors"
factors = 2
"#;

const ADA: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery staple";

/// Exchanges the code of a finished embedded flow of `client`.
async fn tokens(s: &TestServer, client: &str, done: &FlowResponse) -> Value {
    let code = done.success.as_ref().and_then(|x| x.code.as_deref()).unwrap_or_else(|| panic!("no code: {done:?}"));
    let r = s
        .post_form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("client_id", client),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn amr(tokens: &Value) -> Vec<String> {
    let claims = decode_claims(tokens["id_token"].as_str().unwrap());
    claims["amr"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// Identify at `client`, then prove the email by its code.
async fn by_email(s: &TestServer, client: &str, email: &str) -> FlowResponse {
    let flow = s.start_with(json!({ "client_id": client })).await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": email })).await.flow();
    let flow = match flow.remediation("select-authenticator-authenticate") {
        Some(_) => {
            s.submit(&flow, "select-authenticator-authenticate", json!({ "authenticator": "email" })).await.flow()
        }
        None => flow,
    };
    let (code, _) = s.mailed(email).await;
    s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow()
}

fn message_keys(flow: &FlowResponse) -> Vec<&str> {
    flow.messages.iter().map(|m| m.key.as_str()).collect()
}

#[tokio::test]
async fn a_password_is_set_then_signs_in_and_its_lockout_holds_on_every_instance() {
    on_each_store_with(APPS, |s| async move {
        s.register(ADA, "Ada").await;
        // The vault requires a password: asked right after the email.
        let set = by_email(&s, "vault", ADA).await;
        assert_eq!(names(&set), ["enroll-authenticator"], "required: no skip");
        let field = &set.remediations[0].fields[0];
        assert_eq!((field.name.as_str(), field.autocomplete.as_deref()), ("password", Some("new-password")));
        let weak = s.submit(&set, "enroll-authenticator", json!({ "password": "password" })).await.flow();
        assert_eq!(message_keys(&weak), ["password.error.too_short"]);
        let done = s.submit(&set, "enroll-authenticator", json!({ "password": PASSWORD })).await.flow();
        assert_eq!(amr(&tokens(&s, "vault", &done).await), ["email", "pwd"]);
        let stored = s.app.store.password(&done_user(&s).await).await.unwrap().unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$") && !stored.contains(PASSWORD), "{stored}");

        // Signing in with it, identifier first.
        let flow = s.start_with(json!({ "client_id": "vault" })).await;
        let challenge = s.submit(&flow, "identify", json!({ "identifier": ADA })).await.flow();
        assert_eq!(challenge.current_authenticator.as_ref().unwrap().key, "password");
        let done = s.submit(&challenge, "challenge-authenticator", json!({ "password": PASSWORD })).await.flow();
        assert_eq!(amr(&tokens(&s, "vault", &done).await), ["pwd"]);

        // Three wrong answers, on two instances, lock the address on both.
        let twin = s.twin().await;
        let flow = s.start_with(json!({ "client_id": "vault" })).await;
        let challenge = s.submit(&flow, "identify", json!({ "identifier": ADA })).await.flow();
        for server in [&*s, &twin, &*s] {
            let wrong = server.submit(&challenge, "challenge-authenticator", json!({ "password": "wrong" })).await;
            assert_eq!(message_keys(&wrong.flow()), ["password.error.wrong"]);
        }
        let locked = twin.submit(&challenge, "challenge-authenticator", json!({ "password": PASSWORD })).await.flow();
        assert_eq!(message_keys(&locked), ["password.error.locked"]);
        assert!(locked.messages[0].text.contains("15 minutes"), "{}", locked.messages[0].text);
        s.advance(15 * 60);
        let done = s.submit(&challenge, "challenge-authenticator", json!({ "password": PASSWORD })).await.flow();
        assert!(done.success.is_some(), "{:?}", message_keys(&done));
    })
    .await;
}

async fn done_user(s: &TestServer) -> String {
    s.app.store.user_by_email(ADA).await.unwrap().unwrap().id
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_password_challenge_and_answer() {
    on_each_store_with(APPS, |s| async move {
        s.register(ADA, "Ada").await;
        let answer = |email: &'static str| {
            let s = s.clone();
            async move {
                let flow = s.start_with(json!({ "client_id": "vault" })).await;
                let challenge = s.submit(&flow, "identify", json!({ "identifier": email })).await.flow();
                let wrong = s.submit(&challenge, "challenge-authenticator", json!({ "password": "guess" })).await;
                (names(&challenge).join(" "), wrong.status, message_keys(&wrong.flow()).join(" "))
            }
        };
        assert_eq!(answer(ADA).await, answer("nobody@example.com").await);
    })
    .await;
}

#[tokio::test]
async fn an_authenticator_app_is_set_up_by_qr_code_and_its_codes_work_once() {
    on_each_store_with(APPS, |s| async move {
        s.register(ADA, "Ada").await;
        // The bank wants two factor types (a password with the email: possession and
        // knowledge) and an app; then the app's setup comes straight.
        let password = by_email(&s, "bank", ADA).await;
        let setup = s.submit(&password, "enroll-authenticator", json!({ "password": PASSWORD })).await.flow();
        assert_eq!(names(&setup), ["enroll-authenticator"]);
        let activation = setup.current_authenticator.as_ref().and_then(|c| c.activation.clone()).expect("activation");
        assert!(activation.uri.starts_with("otpauth://totp/Bank:ada%40example.com?secret="), "{}", activation.uri);
        assert!(activation.qr_code.size >= 21 && activation.qr_code.path.starts_with('M'));
        let secret_b32 = activation.uri.split("secret=").nth(1).unwrap().split('&').next().unwrap();
        assert_eq!(activation.shared_secret.replace(' ', ""), secret_b32);
        let secret = data_encoding::BASE32_NOPAD.decode(secret_b32.as_bytes()).unwrap();
        let now_code = || totp::code(&secret, totp::step_at(s.clock.now()));

        let wrong = s.submit(&setup, "enroll-authenticator", json!({ "code": "000000" })).await.flow();
        assert_eq!(message_keys(&wrong), ["totp.error.wrong"]);
        let first = now_code();
        let done = s.submit(&setup, "enroll-authenticator", json!({ "code": first })).await.flow();
        assert_eq!(amr(&tokens(&s, "bank", &done).await), ["email", "pwd", "otp"]);
        let stored = s.app.store.totp(&done_user(&s).await).await.unwrap().unwrap();
        assert!(!stored.sealed_secret.windows(secret.len()).any(|w| w == secret), "sealed at rest");

        // The next sign-in: the password, then the app; the code used to set it up is spent.
        let flow = s.start_with(json!({ "client_id": "bank" })).await;
        let flow = s.submit(&flow, "identify", json!({ "identifier": ADA })).await.flow();
        let challenge = s.submit(&flow, "challenge-authenticator", json!({ "password": PASSWORD })).await.flow();
        assert_eq!(challenge.current_authenticator.as_ref().unwrap().key, "totp");
        let spent = s.submit(&challenge, "challenge-authenticator", json!({ "code": first })).await.flow();
        assert_eq!(message_keys(&spent), ["totp.error.wrong"]);
        s.advance(30);
        let done = s.submit(&challenge, "challenge-authenticator", json!({ "code": now_code() })).await.flow();
        assert_eq!(amr(&tokens(&s, "bank", &done).await), ["pwd", "otp"]);
    })
    .await;
}

#[tokio::test]
async fn a_reset_password_ends_every_session_and_refresh_token() {
    on_each_store_with(APPS, |s| async move {
        s.register(ADA, "Ada").await;
        // A browser signed in, and an app holding a refresh token.
        let browser = Browser::new(&s);
        let query = authorize_query("shop", REDIRECT, "openid", "");
        browser.authorize(&query, ADA).await.expect("signed in");
        let flow = s.start_with(json!({ "scope": "openid offline_access" })).await;
        let flow = s.submit(&flow, "identify", json!({ "identifier": ADA })).await.flow();
        let (code, _) = s.mailed(ADA).await;
        let done = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
        let refresh = tokens(&s, "shop", &done).await["refresh_token"].as_str().unwrap().to_owned();

        // Forgot password, from the vault's sign-in.
        let flow = s.start_with(json!({ "client_id": "vault", "intent": "recover" })).await;
        assert_eq!(names(&flow), ["identify-recovery", "select-identify"]);
        let flow = s.submit(&flow, "identify-recovery", json!({ "identifier": ADA })).await.flow();
        let mails: Value = s.get(&format!("/dev/mailbox/messages?to={ADA}")).await.json();
        assert_eq!(mails[0]["subject"], "Reset your password for Vault");
        let (code, _) = s.mailed(ADA).await;
        let reset = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
        assert_eq!(names(&reset), ["reset-authenticator"]);
        let done = s.submit(&reset, "reset-authenticator", json!({ "password": PASSWORD })).await.flow();
        assert!(done.success.is_some(), "{:?}", message_keys(&done));

        let silent = browser
            .get(&format!("/oauth2/v1/authorize?{}", authorize_query("shop", REDIRECT, "openid", "&prompt=none")))
            .await;
        let back = url::Url::parse(silent.header("location").unwrap()).unwrap();
        assert_eq!(param(&back, "error").as_deref(), Some("login_required"), "the old session ended");
        let refreshed = s
            .post_form(
                "/oauth2/v1/token",
                &[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("client_id", "shop")],
            )
            .await;
        assert_eq!(refreshed.error(), (400, "invalid_grant".into()), "the old refresh token ended");
        let events: Vec<String> =
            s.app.store.events(0, 200).await.unwrap().into_iter().map(|(_, e)| e.event_type).collect();
        assert!(events.iter().any(|e| e == "user.account.reset_password"), "{events:?}");
    })
    .await;
}
