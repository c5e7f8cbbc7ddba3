//! Passkeys over HTTP, answered by a software authenticator.

use passway_protocol::FlowResponse;
use passway_softkey::SoftKey;
use serde_json::{Value, json};

use crate::support::*;

const PASSKEYS: &str =
    "[passkeys]\nrp_id = \"passway.test\"\nrp_name = \"Passway tests\"\norigins = [\"https://shop.example\"]\n";

async fn server() -> TestServer {
    TestServer::with(PASSKEYS, None).await
}

/// The WebAuthn options of remediation `name`: `{"publicKey": …}`.
fn options(flow: &FlowResponse, name: &str) -> Value {
    let r = flow.remediation(name).unwrap_or_else(|| panic!("{name} not offered: {:?}", names(flow)));
    let w = serde_json::to_value(r.webauthn.as_ref().expect("webauthn options")).unwrap();
    w.get("create").or_else(|| w.get("get")).cloned().unwrap()
}

async fn answer(s: &TestServer, flow: &FlowResponse, name: &str, credential: &Value) -> Reply {
    s.submit(flow, name, json!({ "credential": credential.to_string() })).await
}

/// Registers `email` by email code, then creates a passkey with `key`; returns the final response.
async fn register_with_passkey(s: &TestServer, email: &str, key: &mut SoftKey) -> FlowResponse {
    let flow = s.start().await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": email })).await.flow();
    let (code, _) = s.mailed(email).await;
    let flow = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    let flow = s.submit(&flow, "enroll-profile", json!({ "email": email, "given_name": "Ada" })).await.flow();
    assert_eq!(names(&flow), ["select-authenticator-enroll", "skip"], "a passkey is offered after registering");
    let flow = s.submit(&flow, "select-authenticator-enroll", json!({ "authenticator": "passkey" })).await.flow();
    let create = options(&flow, "enroll-authenticator");
    assert_eq!(create["publicKey"]["rp"]["id"], "passway.test");
    assert_eq!(create["publicKey"]["authenticatorSelection"]["residentKey"], "required", "passkeys are discoverable");
    assert_eq!(create["publicKey"]["authenticatorSelection"]["userVerification"], "required");
    let credential = key.register(&create, ISSUER);
    answer(s, &flow, "enroll-authenticator", &credential).await.flow()
}

/// Identify `email`, expecting a passkey challenge.
async fn passkey_challenge(s: &TestServer, email: &str) -> FlowResponse {
    let flow = s.start().await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": email })).await.flow();
    assert_eq!(names(&flow), ["challenge-authenticator", "select-authenticator-authenticate"]);
    assert_eq!(flow.current_authenticator.as_ref().unwrap().key, "passkey");
    flow
}

fn error_key(flow: &FlowResponse) -> &str {
    flow.messages.first().map(|m| m.key.as_str()).unwrap_or("")
}

#[tokio::test]
async fn register_then_sign_in_identifier_first_and_passkey_first_on_each_store() {
    on_each_store_with(PASSKEYS, |s| async move { register_then_sign_in(&s).await }).await;
}

async fn register_then_sign_in(s: &TestServer) {
    let mut key = SoftKey::new();
    let done = register_with_passkey(s, "ada@example.com", &mut key).await;
    let code = done.success.unwrap().code.unwrap();
    let tokens = s.exchange(&code).await.json();
    let claims = crate::oidc::verify_id_token(s, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["amr"], json!(["email", "pop"]));
    let user = s.app.store.user_by_email("ada@example.com").await.unwrap().unwrap();
    let stored = s.app.store.passkeys_of(&user.id).await.unwrap();
    assert_eq!((stored.len(), stored[0].cred_id.clone()), (1, key.cred_id_b64()));
    assert_eq!(
        key.user_handle.as_deref(),
        Some(uuid::Uuid::parse_str(&user.id).unwrap().as_bytes().as_slice()),
        "user handle is the account id"
    );

    // Identifier first: the passkey challenge lists that account's credentials.
    let flow = passkey_challenge(s, "ada@example.com").await;
    let get = options(&flow, "challenge-authenticator");
    assert_eq!(get["publicKey"]["allowCredentials"][0]["id"], key.cred_id_b64());
    let done = answer(s, &flow, "challenge-authenticator", &key.assert(&get, ISSUER)).await.flow();
    let tokens = s.exchange(&done.success.unwrap().code.unwrap()).await.json();
    assert_eq!(crate::oidc::verify_id_token(s, tokens["id_token"].as_str().unwrap()).await["amr"], json!(["pop"]));

    // Passkey first: the identify step carries discoverable options for autofill.
    let flow = s.start().await;
    let autofill = flow.remediation("challenge-webauthn-autofillui-authenticator").expect("autofill offered");
    assert_eq!(
        flow.remediation("identify").unwrap().field("identifier").unwrap().autocomplete.as_deref(),
        Some("username webauthn")
    );
    let w = serde_json::to_value(autofill.webauthn.as_ref().unwrap()).unwrap();
    assert_eq!(w["get"]["mediation"], "conditional");
    assert!(w["get"]["publicKey"].get("allowCredentials").is_none_or(|a| a.as_array().unwrap().is_empty()));
    let done =
        answer(s, &flow, "challenge-webauthn-autofillui-authenticator", &key.assert(&w["get"], ISSUER)).await.flow();
    assert!(done.success.is_some(), "{:?}", done.messages);
    assert!(s.app.store.passkeys_of(&user.id).await.unwrap()[0].last_used_at.is_some(), "last use recorded");

    // The system log has the enrolment and the passkey sign-ins.
    let events: Vec<String> =
        s.app.store.events(0, 500).await.unwrap().into_iter().map(|(_, e)| e.event_type).collect();
    assert!(events.iter().any(|e| e == "user.mfa.factor.activate"));
}

/// Builds an answer from Ada's and Bob's keys and the options.
type Answer = Box<dyn Fn(&mut SoftKey, &mut SoftKey, &Value) -> Value>;

#[tokio::test]
async fn refusals_each_offer_a_fresh_ceremony() {
    let s = server().await;
    let mut key = SoftKey::new();
    register_with_passkey(&s, "ada@example.com", &mut key).await;
    let mut bob_key = SoftKey::new();
    register_with_passkey(&s, "bob@example.com", &mut bob_key).await;

    let mut flow = passkey_challenge(&s, "ada@example.com").await;
    let cases: Vec<(&str, Answer)> = vec![
        ("wrong origin", Box::new(|k, _, o| k.assert(o, "https://evil.example"))),
        (
            "wrong RP ID",
            Box::new(|k, _, o| {
                k.rp_id_override = Some("evil.example".into());
                let a = k.assert(o, ISSUER);
                k.rp_id_override = None;
                a
            }),
        ),
        (
            "tampered signature",
            Box::new(|k, _, o| {
                k.tamper_signature = true;
                let a = k.assert(o, ISSUER);
                k.tamper_signature = false;
                a
            }),
        ),
        (
            "no user verification",
            Box::new(|k, _, o| {
                k.skip_uv = true;
                let a = k.assert(o, ISSUER);
                k.skip_uv = false;
                a
            }),
        ),
        ("unknown credential", Box::new(|_, _, o| SoftKey::new().assert(o, ISSUER))),
        ("another account's credential", Box::new(|_, b, o| b.assert(o, ISSUER))),
    ];
    for (case, make) in cases {
        let get = options(&flow, "challenge-authenticator");
        let credential = make(&mut key, &mut bob_key, &get);
        let next = answer(&s, &flow, "challenge-authenticator", &credential).await.flow();
        assert!(next.success.is_none(), "{case} was accepted");
        let expected = if case.contains("credential") { "passkey.error.unknown" } else { "passkey.error.invalid" };
        assert_eq!(error_key(&next), expected, "{case}");
        assert_ne!(
            options(&next, "challenge-authenticator")["publicKey"]["challenge"],
            get["publicKey"]["challenge"],
            "{case}: a new ceremony"
        );
        flow = next;
    }
    // Replaying an earlier (valid) assertion against the new ceremony fails: wrong challenge.
    let stale = key.assert(&options(&flow, "challenge-authenticator"), ISSUER);
    let next = answer(&s, &flow, "challenge-authenticator", &json!({"id": "x", "rawId": "eA", "type": "public-key"}))
        .await
        .flow();
    assert_eq!(error_key(&next), "passkey.error.invalid", "malformed");
    let replayed = answer(&s, &next, "challenge-authenticator", &stale).await.flow();
    assert_eq!(error_key(&replayed), "passkey.error.invalid", "an assertion for another challenge");
    // And the account still signs in.
    let fresh = key.assert(&options(&replayed, "challenge-authenticator"), ISSUER);
    assert!(answer(&s, &replayed, "challenge-authenticator", &fresh).await.flow().success.is_some());
}

#[tokio::test]
async fn passkey_first_with_a_forged_user_handle_is_refused() {
    let s = server().await;
    let mut ada = SoftKey::new();
    register_with_passkey(&s, "ada@example.com", &mut ada).await;
    let mut bob = SoftKey::new();
    register_with_passkey(&s, "bob@example.com", &mut bob).await;
    // Bob's credential, claiming to be Ada (the user handle is not signed).
    bob.user_handle = ada.user_handle.clone();
    let flow = s.start().await;
    let get = options(&flow, "challenge-webauthn-autofillui-authenticator");
    let refused =
        answer(&s, &flow, "challenge-webauthn-autofillui-authenticator", &bob.assert(&get, ISSUER)).await.flow();
    assert_eq!(error_key(&refused), "passkey.error.unknown");
    assert_eq!(names(&refused)[0], "identify");
}

#[tokio::test]
async fn a_counter_going_backwards_is_refused_as_a_possible_clone() {
    let s = server().await;
    let mut key = SoftKey::new();
    register_with_passkey(&s, "ada@example.com", &mut key).await;
    key.counter = 10;
    let flow = passkey_challenge(&s, "ada@example.com").await;
    let ok =
        answer(&s, &flow, "challenge-authenticator", &key.assert(&options(&flow, "challenge-authenticator"), ISSUER))
            .await
            .flow();
    assert!(ok.success.is_some());
    key.counter = 3;
    let flow = passkey_challenge(&s, "ada@example.com").await;
    let cloned =
        answer(&s, &flow, "challenge-authenticator", &key.assert(&options(&flow, "challenge-authenticator"), ISSUER))
            .await
            .flow();
    assert_eq!(error_key(&cloned), "passkey.error.possible_clone");
    let events = s.app.store.events(0, 500).await.unwrap();
    assert!(events.iter().any(|(_, e)| e.body.contains("possible cloned passkey")), "logged");
}

#[tokio::test]
async fn a_ceremony_is_finished_once_even_when_raced() {
    let s = server().await;
    let mut key = SoftKey::new();
    register_with_passkey(&s, "ada@example.com", &mut key).await;
    let flow = passkey_challenge(&s, "ada@example.com").await;
    let credential = key.assert(&options(&flow, "challenge-authenticator"), ISSUER);
    let (a, b) = tokio::join!(
        answer(&s, &flow, "challenge-authenticator", &credential),
        answer(&s, &flow, "challenge-authenticator", &credential)
    );
    let successes = [&a, &b].iter().filter(|r| r.status == 200 && r.json().get("success").is_some()).count();
    assert_eq!(successes, 1, "{} / {}", a.text(), b.text());
}

#[tokio::test]
async fn a_ceremony_started_on_one_instance_finishes_on_another() {
    let a = server().await;
    let b = a.twin().await;
    let mut key = SoftKey::new();
    register_with_passkey(&a, "ada@example.com", &mut key).await;
    let flow = passkey_challenge(&a, "ada@example.com").await;
    let credential = key.assert(&options(&flow, "challenge-authenticator"), ISSUER);
    let done = answer(&b, &flow, "challenge-authenticator", &credential).await.flow();
    assert!(done.success.is_some(), "{:?}", done.messages);
}

#[tokio::test]
async fn enrollment_can_be_skipped_and_well_known_lists_related_origins() {
    let s = server().await;
    let flow = s.start().await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "kim@example.com" })).await.flow();
    let (code, _) = s.mailed("kim@example.com").await;
    let flow = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    let flow =
        s.submit(&flow, "enroll-profile", json!({ "email": "kim@example.com", "given_name": "Kim" })).await.flow();
    let done = s.submit(&flow, "skip", json!({})).await.flow();
    assert!(done.success.is_some());

    let well_known = s.get("/.well-known/webauthn").await;
    assert_eq!(well_known.status, 200);
    assert_eq!(well_known.json(), json!({ "origins": ["https://shop.example"] }));
}

#[tokio::test]
async fn without_passkeys_configured_nothing_changes() {
    let s = TestServer::new().await;
    let flow = s.start().await;
    assert!(flow.remediation("challenge-webauthn-autofillui-authenticator").is_none());
    assert_eq!(s.get("/.well-known/webauthn").await.status, 404);
}

/// The autofill ceremony the flow waits on now (from its stored state).
async fn autofill_ceremony(s: &TestServer, flow: &FlowResponse) -> String {
    let stored = s.app.store.flow_by_handle(&passway_server::crypto::sha256(flow.handle.as_bytes())).await.unwrap();
    let state: Value = serde_json::from_str(&stored.unwrap().state).unwrap();
    state["autofill"]["id"].as_str().expect("an autofill ceremony").to_owned()
}

#[tokio::test]
async fn a_flow_keeps_only_the_ceremonies_it_waits_on() {
    let s = server().await;
    let mut flow = s.start().await;
    let mut seen = vec![];
    for _ in 0..5 {
        seen.push(autofill_ceremony(&s, &flow).await);
        // Each start over begins a new autofill ceremony; the one before is dropped.
        flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
        let cancel = flow.cancel.as_ref().expect("cancel").href.strip_prefix(ISSUER).unwrap().to_owned();
        flow = s.post_bound(&flow, &cancel, &json!({})).await.flow();
    }
    let now = s.clock.now();
    let current = autofill_ceremony(&s, &flow).await;
    assert!(s.app.store.ceremony_options(&current, now).await.unwrap().is_some());
    for old in seen {
        assert_ne!(old, current);
        assert!(s.app.store.ceremony_options(&old, now).await.unwrap().is_none(), "ceremony {old} was left behind");
    }
}
