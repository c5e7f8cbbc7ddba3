//! The policy use cases, one test each: the configuration is the one in
//! `examples/use-cases/`, loaded and validated as `passway serve` would, and the journey
//! runs through the pure engine like every journey test.

use expect_test::expect;
use passway_protocol::Intent;

use super::tests::{Journey, Place, ada_session, asserted, registered};
use super::{AuthRequest, Step};
use crate::config::Config;

/// The journey a browser at `place` starts for `client_id` of the use case `name`.
fn journey(name: &str, client_id: &str, place: Place, intent: Intent, session: Option<super::Session>) -> Journey {
    journey_with(name, client_id, place, intent, session, |_| {})
}

fn journey_with(
    name: &str,
    client_id: &str,
    place: Place,
    intent: Intent,
    session: Option<super::Session>,
    edit: impl FnOnce(&mut AuthRequest),
) -> Journey {
    let config = load(name);
    let app = config.app_settings(config.app(client_id).expect("the use case has the app"));
    Journey::begin_in(place, intent, app, config.engine.clone(), edit, session, &[])
}

#[test]
fn register_with_an_email_only() {
    let mut j = journey("email-only.toml", "newsletter", Place::default(), Intent::Register, None);
    j.submit("enroll-profile", &[("email", "new@example.com")]).type_mailed_code();
    j.check(expect![[r#"
        > enroll-profile email=new@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=new@example.com purpose=Register
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step completed offers []
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect create_user email=new@example.com profile={}
          effect log user.registration.create Success
          effect log user.lifecycle.create Success
          effect start_session id=01a3185c5000quifwPA-KVmuTQ user=f0a0278e-4372-459c-8a61-59cd5e71cfee proofs=["email"]
          effect issue_code user=f0a0278e-4372-459c-8a61-59cd5e71cfee amr=["email"] scope="openid email" sid=01a3185c5000quifwPA-KVmuTQ
          effect log user.session.start Success
          effect notify new@example.com Welcome
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn require_only_email_and_name_at_registration() {
    let mut j = journey("email-and-name.toml", "shop", Place::default(), Intent::Register, None);
    j.submit("enroll-profile", &[("email", "new@example.com"), ("given_name", "Nia")]);
    j.submit("enroll-profile", &[("email", "new@example.com"), ("given_name", "Nia"), ("family_name", "Okafor")]);
    j.type_mailed_code();
    j.check(expect![[r#"
        > enroll-profile email=new@example.com given_name=Nia
          step enroll_profile offers [enroll-profile, select-identify]
          error field.required @family_name
        > enroll-profile email=new@example.com family_name=Okafor given_name=Nia
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=new@example.com purpose=Register
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step completed offers []
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect create_user email=new@example.com profile={"family_name": "Okafor", "given_name": "Nia"}
          effect log user.registration.create Success
          effect log user.lifecycle.create Success
          effect start_session id=01a3185c5000quifwPA-KVmuTQ user=f0a0278e-4372-459c-8a61-59cd5e71cfee proofs=["email"]
          effect issue_code user=f0a0278e-4372-459c-8a61-59cd5e71cfee amr=["email"] scope="openid email" sid=01a3185c5000quifwPA-KVmuTQ
          effect log user.session.start Success
          effect notify new@example.com Welcome
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn sign_in_with_a_magic_link_and_never_enrol_a_password() {
    let mut j = journey("magic-link.toml", "blog", Place::default(), Intent::Login, None);
    j.submit("identify", &[("identifier", "ada@example.com")]).open_link(true).submit("challenge-poll", &[]);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > open link (same browser)
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect log user.authentication.verify Success
          link page: Proven
        > challenge-poll 
          step completed offers []
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["email"]
          effect issue_code user=u-ada amr=["email"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn prompt_users_to_enrol_a_second_factor() {
    let mut j = journey("second-factor.toml", "shop", Place::default(), Intent::Login, None);
    j.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code();
    j.select("select-authenticator-enroll", "passkey").answer("enroll-authenticator", registered("cred-1"));
    let mut skipped = journey("second-factor.toml", "shop", Place::default(), Intent::Login, None);
    skipped.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code().submit("skip", &[]);
    j.check(expect![[r#"
          start effect begin_ceremony Discoverable
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step enroll_select ["passkey"] offers [select-authenticator-enroll, skip]
          effect answer_accepted email
          effect log user.authentication.verify Success
        > select-authenticator-enroll authenticator=passkey
          step enroll_passkey offers [enroll-authenticator, skip]
          effect begin_ceremony Register { user_id: u-ada, email: ada@example.com, display_name: ada@example.com }
        > enroll-authenticator credential=<registered cred-1>
          step completed offers []
          effect save_passkey user=u-ada cred=cred-1 name="Firefox on Linux"
          effect log user.mfa.factor.activate Success
          effect start_session id=01a3185c5000bMFqvXDu-5DcCw user=u-ada proofs=["email", "passkey"]
          effect issue_code user=u-ada amr=["email", "pop"] scope="openid email" sid=01a3185c5000bMFqvXDu-5DcCw
          effect log user.session.start Success
          effect notify ada@example.com AuthenticatorAdded(Passkey)
          SUCCESS new session cookie
    "#]]);
    assert!(skipped.flow.is_finished(), "{}", skipped.trace);
}

#[test]
fn step_up_to_a_passkey_from_an_email_only_session() {
    // Ada signed in to the shop by email ten minutes ago; she has a passkey.
    let with_passkey = Place { passkeys: 1, ..Place::default() };
    let shop = journey(
        "phishing-resistant.toml",
        "shop",
        Place { passkeys: 1, ..Place::default() },
        Intent::Login,
        Some(ada_session(600)),
    );
    assert!(shop.flow.is_finished(), "the shop takes the email session: {}", shop.trace);
    let mut vault = journey("phishing-resistant.toml", "vault", with_passkey, Intent::Login, Some(ada_session(600)));
    vault.answer("challenge-authenticator", asserted("u-ada", "cred-1"));
    vault.check(expect![[r#"
        > start with session sess-1
          step passkey_challenge of u-ada offers [challenge-authenticator, select-identify-recovery]
          start effect log policy.evaluate_sign_on Challenge
          start effect begin_ceremony Authenticate { user_id: u-ada }
        > challenge-authenticator credential=<asserted cred-1 of u-ada>
          step completed offers []
          effect passkey_used cred=cred-1 updated=true
          effect log user.authentication.verify Success
          effect log user.authentication.auth_via_mfa Success
          effect end_session id=sess-1
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["email", "passkey"]
          effect issue_code user=u-ada amr=["email", "pop"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn step_up_creates_a_passkey_when_there_is_none() {
    let mut vault =
        journey("phishing-resistant.toml", "vault", Place::default(), Intent::Login, Some(ada_session(600)));
    vault.select("select-authenticator-enroll", "passkey").answer("enroll-authenticator", registered("cred-1"));
    vault.check(expect![[r#"
        > start with session sess-1
          step enroll_select ["passkey"] (required) offers [select-authenticator-enroll]
          start effect log policy.evaluate_sign_on Challenge
        > select-authenticator-enroll authenticator=passkey
          step enroll_passkey offers [enroll-authenticator]
          effect begin_ceremony Register { user_id: u-ada, email: ada@example.com, display_name: ada@example.com }
        > enroll-authenticator credential=<registered cred-1>
          step completed offers []
          effect save_passkey user=u-ada cred=cred-1 name="Firefox on Linux"
          effect log user.mfa.factor.activate Success
          effect end_session id=sess-1
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["email", "passkey"]
          effect issue_code user=u-ada amr=["email", "pop"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          effect notify ada@example.com AuthenticatorAdded(Passkey)
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn acr_values_ask_for_a_phishing_resistant_sign_in() {
    let place = Place { passkeys: 1, ..Place::default() };
    let mut shop = journey_with("phishing-resistant.toml", "shop", place, Intent::Login, Some(ada_session(600)), |r| {
        r.acr_values = Some("phr".into())
    });
    shop.answer("challenge-authenticator", asserted("u-ada", "cred-1"));
    shop.check(expect![[r#"
        > start with session sess-1
          step passkey_challenge of u-ada offers [challenge-authenticator, select-identify-recovery]
          start effect log policy.evaluate_sign_on Challenge
          start effect begin_ceremony Authenticate { user_id: u-ada }
        > challenge-authenticator credential=<asserted cred-1 of u-ada>
          step completed offers []
          effect passkey_used cred=cred-1 updated=true
          effect log user.authentication.verify Success
          effect log user.authentication.auth_via_mfa Success
          effect end_session id=sess-1
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["email", "passkey"]
          effect issue_code user=u-ada amr=["email", "pop"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn deny_from_outside_a_network_zone() {
    let mut outside =
        journey("network-zone.toml", "payroll", Place { ip: "203.0.113.7", ..Place::default() }, Intent::Login, None);
    outside.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code().submit("cancel", &[]);
    outside.check(expect![[r#"
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step denied by "Outside the office" offers []
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect log policy.evaluate_sign_on Deny
        > cancel 
          step identify offers [identify, select-enroll-profile]
    "#]]);
    let mut office =
        journey("network-zone.toml", "payroll", Place { ip: "10.20.30.40", ..Place::default() }, Intent::Login, None);
    office.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code();
    assert!(office.flow.is_finished(), "{}", office.trace);
    let Step::Denied { .. } = journey(
        "network-zone.toml",
        "payroll",
        Place { ip: "10.20.30.40", ..Place::default() },
        Intent::Login,
        Some(super::Session {
            user: super::User {
                email: "eve@elsewhere.example".into(),
                id: "u-eve".into(),
                profile: Default::default(),
            },
            ..ada_session(60)
        }),
    )
    .flow
    .step
    else {
        panic!("someone outside the staff group is denied even in the office");
    };
}

/// `passway policy explain` for the use case `name`: the dry run's lines.
/// The use case's configuration; the hook secrets it names (kept next to the file by
/// those who run it) are made up in a temporary folder.
fn load(name: &str) -> Config {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/use-cases").join(name);
    let mut text = std::fs::read_to_string(&path).unwrap();
    let secrets = tempfile::tempdir().unwrap();
    for line in text.clone().lines().filter(|l| l.starts_with("secret = { file = ")) {
        let file = secrets.path().join(line.split('"').nth(1).unwrap());
        std::fs::write(&file, crate::hooks::signature::new_secret()).unwrap();
        text = text.replace(line, &format!("secret = {{ file = \"{}\" }}", file.display()));
    }
    Config::parse(&text, &path).unwrap_or_else(|e| panic!("{e}"))
}

fn check_explain(name: &str, client_id: &str, q: super::explain::Question, expect: expect_test::Expect) {
    let config = load(name);
    let app = config.app_settings(config.app(client_id).expect("the use case has the app"));
    let keys = crate::crypto::Keyring::from_master(&[1; 32]);
    let mut rng = crate::crypto::entropy::testing::CountingEntropy(0);
    let now = super::Timestamp::from_unix_seconds(1_800_000_000);
    let e = super::explain::explain(&q, &app, &config.engine, now, &mut rng, &keys);
    expect.assert_eq(&format!("{e}outcome: {}\n", e.outcome));
}

fn ada(passkeys: usize) -> super::explain::Question {
    super::explain::Question {
        email: "ada@example.com".into(),
        account: Some((
            super::User { id: "u-ada".into(), email: "ada@example.com".into(), profile: Default::default() },
            passkeys,
        )),
        password: false,
        totp: false,
        risk: Default::default(),
        groups: vec![],
        ip: None,
        platform: crate::policy::Platform::Linux,
        new_device: None,
        session: vec![],
        acr_values: None,
    }
}

#[test]
fn explain_is_a_dry_run_of_the_engine() {
    use crate::authenticators::AuthenticatorKind::Email;
    check_explain(
        "phishing-resistant.toml",
        "vault",
        super::explain::Question { session: vec![Email], ..ada(1) },
        expect![[r#"
            context: groups [], address unknown, new device, platform linux, risk low
            account: u-ada (1 passkey(s))
            rule "Passkey required" applies: allow with 1 factor type(s), phishing-resistant
            resumes the SSO session (proven: email)
            policy: rule "Passkey required" needs a phishing-resistant authenticator
            → challenges a passkey
            → signs in (proven: email, passkey; acr phr)
            outcome: allowed
        "#]],
    );
    check_explain(
        "stronger-reset.toml",
        "bank",
        super::explain::Question { password: true, risk: crate::policy::RiskLevel::High, ..ada(0) },
        expect![[r#"
            context: groups [], address unknown, new device, platform linux, risk high
            account: u-ada (0 passkey(s), a password)
            rule "Default" applies: allow with 1 factor type(s)
            → asks who it is (identify)
            → challenges the password
            → offers to set up an authenticator app (optional: the dry run skips it)
            → signs in (proven: password; acr urn:passway:loa:1fa)
            outcome: allowed
        "#]],
    );
    check_explain(
        "no-authentication.toml",
        "catalogue",
        ada(0),
        expect![[r#"
        context: groups [], address unknown, new device, platform linux, risk low
        account: u-ada (0 passkey(s))
        rule "Anyone" applies: anyone, without signing in (a guest unless a session is live)
        → lets an anonymous guest in (no sign-in)
        outcome: allowed
    "#]],
    );
    check_explain(
        "network-zone.toml",
        "payroll",
        super::explain::Question { ip: Some("203.0.113.7".into()), ..ada(0) },
        expect![[r#"
            context: groups [staff], address 203.0.113.7, new device, platform linux, risk low
            account: u-ada (0 passkey(s))
            rule "Outside the office" applies: deny
            → asks who it is (identify)
            → challenges the email (magic link or code)
            policy: rule "Outside the office" denies access
            → denies access (rule "Outside the office")
            outcome: denied
        "#]],
    );
    check_explain(
        "network-zone.toml",
        "payroll",
        super::explain::Question {
            email: "eve@elsewhere.example".into(),
            account: None,
            ip: Some("10.0.0.9".into()),
            groups: vec!["staff".into()],
            ..ada(0)
        },
        expect![[r#"
            context: groups [staff], address 10.0.0.9, new device, platform linux, risk low
            account: none yet (a new person)
            rule "Outside the office" does not apply: 10.0.0.9 is in zone office
            rule "Staff in the office" applies: allow with 1 factor type(s)
            → asks who it is (identify)
            → challenges the email (magic link or code)
            → signs in (proven: email; acr urn:passway:loa:1fa)
            outcome: allowed
        "#]],
    );
    check_explain(
        "second-factor.toml",
        "shop",
        super::explain::Question { acr_values: Some("urn:passway:loa:2fa".into()), ..ada(0) },
        expect![[r#"
            context: groups [], address unknown, new device, platform linux, risk low
            account: u-ada (0 passkey(s))
            rule "Default" applies: allow with 1 factor type(s)
            acr_values asks for urn:passway:loa:2fa: the engine requires 2 factor type(s)
            → asks who it is (identify)
            → challenges the email (magic link or code)
            policy: rule "Default" needs 1 more factor type(s)
            → asks to enrol a passkey (required by the policy)
            → creates a passkey
            → signs in (proven: email, passkey; acr phr)
            outcome: allowed
        "#]],
    );
}

#[test]
fn require_a_mailing_address_before_a_purchase() {
    let mut checkout = journey("mailing-address.toml", "checkout", Place::default(), Intent::Login, None);
    checkout.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code();
    checkout.submit("enroll-profile-update", &[("street_address", "12 St James's Square")]);
    checkout.submit(
        "enroll-profile-update",
        &[("street_address", "12 St James's Square"), ("postal_code", "SW1Y 4LB"), ("locality", "London")],
    );
    checkout.check(expect![[r#"
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step enroll_profile_update ["street_address", "postal_code", "locality"] offers [enroll-profile-update]
          effect answer_accepted email
          effect log user.authentication.verify Success
        > enroll-profile-update street_address=12 St James's Square
          step enroll_profile_update ["street_address", "postal_code", "locality"] offers [enroll-profile-update]
          error field.required @postal_code
          error field.required @locality
        > enroll-profile-update locality=London postal_code=SW1Y 4LB street_address=12 St James's Square
          step completed offers []
          effect update_profile user=u-ada profile={"locality": "London", "postal_code": "SW1Y 4LB", "street_address": "12 St James's Square"}
          effect log user.account.update_profile Success
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["email"]
          effect issue_code user=u-ada amr=["email"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
    // Next time, with the address on the account: no question.
    let mut again = journey("mailing-address.toml", "checkout", Place::default(), Intent::Login, None);
    again.users[0].profile = checkout.users[0].profile.clone();
    again.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code();
    assert!(again.flow.is_finished(), "{}", again.trace);
    // The shop needs no address: no question there.
    let mut shop = journey("mailing-address.toml", "shop", Place::default(), Intent::Login, None);
    shop.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code();
    assert!(shop.flow.is_finished(), "{}", shop.trace);
}

#[test]
fn optional_profile_questions_can_be_skipped() {
    let mut blog = journey("mailing-address.toml", "blog", Place::default(), Intent::Login, None);
    blog.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code().submit("skip", &[]);
    blog.check(expect![[r#"
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step enroll_profile_update ["country"] offers [enroll-profile-update, skip]
          effect answer_accepted email
          effect log user.authentication.verify Success
        > skip 
          step completed offers []
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["email"]
          effect issue_code user=u-ada amr=["email"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn ask_more_of_a_new_browser() {
    let known = Place { passkeys: 1, new_device: Some(false), ..Place::default() };
    let mut usual = journey("new-device.toml", "bank", known, Intent::Login, None);
    usual.submit("identify", &[("identifier", "ada@example.com")]);
    usual.select("select-authenticator-authenticate", "email").type_mailed_code();
    assert!(usual.flow.is_finished(), "a known browser: email is enough: {}", usual.trace);
    let new = Place { passkeys: 1, new_device: Some(true), ..Place::default() };
    let mut other = journey("new-device.toml", "bank", new, Intent::Login, None);
    other.submit("identify", &[("identifier", "ada@example.com")]);
    other.select("select-authenticator-authenticate", "email").type_mailed_code();
    other.answer("challenge-authenticator", asserted("u-ada", "cred-1"));
    other.check(expect![[r#"
          start effect begin_ceremony Discoverable
        > identify identifier=ada@example.com
          step passkey_challenge of u-ada offers [challenge-authenticator, select-authenticator-authenticate]
          effect begin_ceremony Authenticate { user_id: u-ada }
        > select-authenticator-authenticate authenticator=email
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend, select-authenticator-authenticate]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step passkey_challenge of u-ada offers [challenge-authenticator, select-identify-recovery]
          info policy.step_up
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect log policy.evaluate_sign_on Challenge
          effect begin_ceremony Authenticate { user_id: u-ada }
        > challenge-authenticator credential=<asserted cred-1 of u-ada>
          step completed offers []
          effect passkey_used cred=cred-1 updated=true
          effect log user.authentication.verify Success
          effect log user.authentication.auth_via_mfa Success
          effect start_session id=01a3185c5000y71fmQxTaE165g user=u-ada proofs=["email", "passkey"]
          effect issue_code user=u-ada amr=["email", "pop"] scope="openid email" sid=01a3185c5000y71fmQxTaE165g
          effect log user.session.start Success
          effect notify ada@example.com NewDevice
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn allow_access_to_an_app_with_no_authentication() {
    let guest = journey("no-authentication.toml", "catalogue", Place::default(), Intent::Login, None);
    // Success as the flow starts: no step at all.
    let trace: Vec<&str> = guest.trace.lines().map(str::trim).collect();
    expect![[r#"
        start effect issue_code user=guest-Shr5ZbEbLyOmwYsYSxJ7Qw amr=[] scope="openid" sid=-
        start effect log user.authentication.anonymous Success
        SUCCESS"#]]
    .assert_eq(&trace.join("\n"));
    // With a live session, the person comes in as themselves.
    let known = journey("no-authentication.toml", "catalogue", Place::default(), Intent::Login, Some(ada_session(60)));
    assert!(known.trace.contains("issue_code user=u-ada"), "{}", known.trace);
    // The other app on the same Passway still asks who it is.
    let checkout = journey("no-authentication.toml", "checkout", Place::default(), Intent::Login, None);
    assert_eq!(checkout.flow.step, Step::Identify);
}

#[test]
fn require_a_stronger_factor_to_reset_a_password() {
    let secret = b"12345678901234567890";
    let mut j = journey("stronger-reset.toml", "bank", Place::default(), Intent::Recover, None);
    j.password("u-ada", "correct horse battery staple").authenticator_app("u-ada", secret);
    let code = j.code_of(secret);
    j.submit("identify-recovery", &[("identifier", "ada@example.com")])
        .type_mailed_code()
        .submit("challenge-authenticator", &[("code", &code)])
        .submit("reset-authenticator", &[("password", "a brand new passphrase")]);
    j.check(expect![[r#"
        > identify-recovery identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend, select-authenticator-authenticate]
          effect log user.account.recovery.start Success
          effect send_email to=ada@example.com purpose=Recover
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step totp_challenge offers [challenge-authenticator]
          info recovery.another_check
          effect answer_accepted email
          effect log user.authentication.verify Success
        > challenge-authenticator code=768147
          attempt totp: Granted { locks: false }
          step reset_password offers [reset-authenticator]
          effect totp_used user=u-ada step=60000000
          effect answer_accepted totp
          effect log user.authentication.verify Success
          effect log user.authentication.auth_via_mfa Success
        > reset-authenticator password=a brand new passphrase
          step completed offers []
          info recovery.done
          effect set_password user=u-ada argon2id=true
          effect log user.mfa.factor.activate Success
          effect revoke_sessions user=u-ada
          effect log user.account.reset_password Success
          effect start_session id=01a3185c5000bMFqvXDu-5DcCw user=u-ada proofs=["email", "totp", "password"]
          effect issue_code user=u-ada amr=["email", "otp", "pwd"] scope="openid email" sid=01a3185c5000bMFqvXDu-5DcCw
          effect log user.session.start Success
          effect notify ada@example.com PasswordChanged
          SUCCESS new session cookie
    "#]]);
    // The email alone, for an account without an authenticator app: no reset.
    let mut j = journey("stronger-reset.toml", "bank", Place::default(), Intent::Recover, None);
    j.password("u-ada", "correct horse battery staple");
    j.submit("identify-recovery", &[("identifier", "ada@example.com")]).type_mailed_code();
    assert_eq!(j.flow.step, Step::CannotRecover, "{}", j.trace);
}

#[test]
fn explain_shows_where_inline_hooks_are_called() {
    check_explain(
        "inline-risk-step-up.toml",
        "bank",
        super::explain::Question { password: true, risk: crate::policy::RiskLevel::High, ..ada(0) },
        expect![[r#"
            context: groups [], address unknown, new device, platform linux, risk high
            account: u-ada (0 passkey(s), a password)
            rule "High risk: two factor types" applies: allow with 2 factor type(s)
            → asks who it is (identify)
            → calls the sign_in inline hook "risk" with app, identifier, request (the dry run takes its answer as allow, risk high)
            → challenges the password
            policy: rule "High risk: two factor types" needs 1 more factor type(s)
            → challenges the email (magic link or code)
            → signs in (proven: password, email; acr urn:passway:loa:2fa)
            outcome: allowed
        "#]],
    );
    check_explain(
        "inline-crm-tier.toml",
        "portal",
        ada(0),
        expect![[r#"
        context: groups [], address unknown, new device, platform linux, risk low
        account: u-ada (0 passkey(s))
        rule "Default" applies: allow with 1 factor type(s)
        → asks who it is (identify)
        → challenges the email (magic link or code)
        → signs in (proven: email; acr urn:passway:loa:1fa)
        → the token endpoint calls the token inline hook "crm-tier" with app, request, user, scope, amr (claims it may add)
        outcome: allowed
    "#]],
    );
}
