//! The account page: changes a signed-in person makes to their own account, sensitive
//! ones only with a fresh proof (the sign-on step-up), the last authenticator a policy
//! requires kept, and deletion.

use expect_test::expect;
use passway_protocol::Intent;

use super::{Journey, NO_ENROLLMENT, ada_session, app, asserted};
use crate::engine::account::{AccountFacts, PasskeyItem, SessionItem};
use crate::engine::{Enrollment, Enrollments, Timestamp};
use crate::policy::{Access, Assurance, Conditions, Rule, SignOnPolicy};

fn facts() -> AccountFacts {
    let key = |id: &str, name: &str| PasskeyItem {
        cred_id: id.into(),
        name: name.into(),
        created_at: Timestamp::from_unix_seconds(1_700_000_000),
        last_used_at: None,
        synced: Some(true),
    };
    let session = |id: &str, browser: &str| SessionItem {
        id: id.into(),
        browser: browser.into(),
        ip: "198.51.100.4".into(),
        last_seen_at: Timestamp::from_unix_seconds(1_799_990_000),
    };
    AccountFacts {
        passkeys: vec![key("k1", "Laptop"), key("k2", "Phone")],
        // This browser's (the journey's session) and another.
        sessions: vec![session("sess-1", "Firefox on Linux"), session("s-phone", "Safari on iOS")],
    }
}

fn with_passkeys() -> crate::engine::AppSettings {
    app(true, Enrollments { passkey: Enrollment::Optional, ..NO_ENROLLMENT })
}

/// Signed in 20 minutes ago: the page opens from the session; the page lists what the
/// shell loaded (a first save draws it again).
fn on_the_page(app: crate::engine::AppSettings) -> Journey {
    let mut j = Journey::begin(Intent::Account, app, |_| {}, Some(ada_session(20 * 60)), &[]);
    j.passkeys.insert("u-ada".into(), 2);
    j.account_facts = facts();
    j.submit("update-profile", &[("given_name", "Ada")]);
    j
}

#[test]
fn changes_on_the_account_page_and_a_fresh_proof_before_removing_a_passkey() {
    let mut j = on_the_page(with_passkeys());
    j.submit("rename-authenticator", &[("authenticator", "k1"), ("name", "Work laptop")])
        .submit("end-other-sessions", &[])
        .submit("remove-authenticator", &[("authenticator", "k2")])
        .answer("challenge-authenticator", asserted("u-ada", "k1"));
    j.check(expect![[r#"
        > start with session sess-1
          step account passkeys=[] totp=false password=false sessions=0 addable=["passkey"] offers [update-profile, select-authenticator-enroll, delete-account]
          start effect touch_session id=sess-1 proofs=["email"]
        > update-profile given_name=Ada
          step account passkeys=["Laptop", "Phone"] totp=false password=false sessions=1 addable=["passkey"] offers [update-profile, select-authenticator-enroll, remove-authenticator, rename-authenticator, end-session, end-other-sessions, delete-account]
          info account.saved
          effect update_profile user=u-ada profile={"given_name": "Ada"}
          effect log user.account.update_profile Success
        > rename-authenticator authenticator=k1 name=Work laptop
          step account passkeys=["Work laptop", "Phone"] totp=false password=false sessions=1 addable=["passkey"] offers [update-profile, select-authenticator-enroll, remove-authenticator, rename-authenticator, end-session, end-other-sessions, delete-account]
          info account.saved
          effect rename_passkey user=u-ada k1 "Work laptop"
          effect log user.mfa.factor.update Success
        > end-other-sessions 
          step account passkeys=["Laptop", "Phone"] totp=false password=false sessions=0 addable=["passkey"] offers [update-profile, select-authenticator-enroll, remove-authenticator, rename-authenticator, delete-account]
          info account.signed_out_others
          effect end_other_sessions user=u-ada keep=sess-1
          effect log user.session.clear Success
        > remove-authenticator authenticator=k2
          step passkey_challenge of u-ada offers [challenge-authenticator, select-authenticator-authenticate]
          info policy.step_up
          effect log policy.evaluate_sign_on Challenge
          effect begin_ceremony Authenticate { user_id: u-ada }
        > challenge-authenticator credential=<asserted k1 of u-ada>
          step account passkeys=["Laptop"] totp=false password=false sessions=1 addable=["passkey"] offers [update-profile, select-authenticator-enroll, remove-authenticator, rename-authenticator, end-session, end-other-sessions, delete-account]
          info account.removed
          effect passkey_used cred=k1 updated=true
          effect log user.authentication.verify Success
          effect log user.authentication.auth_via_mfa Success
          effect end_session id=sess-1
          effect start_session id=01a3185c50008T7m7VTqKq6fxA user=u-ada proofs=["email", "passkey"]
          effect remove_authenticator user=u-ada passkey k2
          effect log user.mfa.factor.deactivate Success
          effect notify ada@example.com AuthenticatorRemoved(Passkey)
          SIGNED IN new session cookie
    "#]]);
}

#[test]
fn the_last_passkey_a_phishing_resistant_app_requires_stays() {
    let mut strict = with_passkeys();
    strict.sign_on = SignOnPolicy {
        rules: vec![Rule {
            name: "Passkeys only".into(),
            when: Conditions::default(),
            access: Access::Allow(Assurance { phishing_resistant: true, ..Assurance::default() }),
        }],
    };
    // Signed in with her passkey a minute ago.
    let mut session = ada_session(60);
    for p in &mut session.proofs {
        p.authenticator = crate::authenticators::AuthenticatorKind::Passkey;
    }
    let mut j = Journey::begin(Intent::Account, strict, |_| {}, Some(session), &[]);
    j.passkeys.insert("u-ada".into(), 1);
    j.account_facts = AccountFacts { passkeys: facts().passkeys[..1].to_vec(), sessions: facts().sessions };
    j.submit("update-profile", &[("given_name", "Ada")]).submit("remove-authenticator", &[("authenticator", "k1")]);
    assert!(j.trace.ends_with("  error account.required_by_policy\n"), "{}", j.trace);
    assert!(!j.trace.contains("remove_authenticator"), "{}", j.trace);
}

#[test]
fn deleting_the_account_needs_the_box_ticked_and_a_fresh_proof() {
    let mut j = on_the_page(app(false, NO_ENROLLMENT));
    j.submit("delete-account", &[]).tick("delete-account", "confirm").type_mailed_code();
    assert!(j.trace.contains("error field.consent_required"), "{}", j.trace);
    assert!(j.trace.contains("effect erase_account user=u-ada ada@example.com"), "{}", j.trace);
    assert!(j.trace.contains("step account_deleted offers []"), "{}", j.trace);
    assert!(j.flow.is_finished());
}

#[test]
fn without_a_session_the_account_page_signs_in_first() {
    let mut j = Journey::with_app(Intent::Account, app(false, NO_ENROLLMENT));
    j.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code();
    assert!(j.trace.contains("step account passkeys=[] totp=false password=false"), "{}", j.trace);
    assert!(j.trace.ends_with("SIGNED IN new session cookie\n"), "{}", j.trace);
    assert!(!j.trace.contains("issue_code"), "no code for the account page: {}", j.trace);
}

#[test]
fn a_passkey_added_on_the_account_page_comes_back_to_it() {
    let mut j = Journey::begin(Intent::Account, with_passkeys(), |_| {}, Some(ada_session(60)), &[]);
    j.account_facts = facts();
    j.submit("select-authenticator-enroll", &[("authenticator", "passkey")])
        .answer("enroll-authenticator", super::registered("k3"));
    let trace = &j.trace;
    assert!(trace.contains("step enroll_passkey offers [enroll-authenticator, skip]"), "{trace}");
    assert!(trace.contains("effect save_passkey user=u-ada cred=k3"), "{trace}");
    assert!(trace.contains("notify ada@example.com AuthenticatorAdded(Passkey)"), "{trace}");
    assert!(trace.trim_end().lines().rev().any(|l| l.contains("step account")), "back on the page: {trace}");
    assert!(!trace.contains("issue_code"), "{trace}");
}

/// Signed out elsewhere (by its owner on another page, or an operator), or deactivated:
/// the open page changes nothing and signs in again.
#[test]
fn a_page_whose_session_ended_changes_nothing() {
    let mut j = on_the_page(with_passkeys());
    j.account_facts.sessions.retain(|s| s.id != "sess-1");
    j.submit("remove-authenticator", &[("authenticator", "k2")]);
    assert!(j.trace.contains("error account.session_ended"), "{}", j.trace);
    assert!(!j.trace.contains("effect remove_authenticator"), "{}", j.trace);
    assert!(j.trace.contains("step identify"), "{}", j.trace);

    let mut j = on_the_page(with_passkeys());
    j.deactivated.insert("u-ada".into());
    j.submit("end-other-sessions", &[]);
    assert!(!j.trace.contains("effect end_other_sessions"), "{}", j.trace);
}
