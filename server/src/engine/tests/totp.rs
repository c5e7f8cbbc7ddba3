//! Journeys with an authenticator app (TOTP): set up with a first code, then a second
//! factor whose codes work once.

use expect_test::expect;
use passway_protocol::Intent;

use super::{Journey, NO_ENROLLMENT, app};
use crate::engine::{Enrollment, Enrollments};
use crate::policy::{Access, Assurance, Conditions, Rule, SignOnPolicy};

const SECRET: &[u8] = b"12345678901234567890";

/// An app that asks for two factor types and offers an authenticator app.
fn two_factor_app(totp: Enrollment) -> crate::engine::AppSettings {
    let mut shop = app(false, Enrollments { password: Enrollment::Optional, totp, ..NO_ENROLLMENT });
    shop.sign_on = SignOnPolicy {
        rules: vec![Rule {
            name: "Two factors".into(),
            when: Conditions::default(),
            access: Access::Allow(Assurance { factors: 2, ..Assurance::default() }),
        }],
    };
    shop
}

#[test]
fn a_password_then_a_code_from_the_app() {
    let mut j = Journey::with_app(Intent::Login, two_factor_app(Enrollment::Optional));
    j.password("u-ada", "correct horse battery staple").authenticator_app("u-ada", SECRET);
    let code = j.code_of(SECRET);
    j.submit("identify", &[("identifier", "ada@example.com")])
        .submit("challenge-authenticator", &[("password", "correct horse battery staple")])
        .submit("challenge-authenticator", &[("code", "000000")])
        .submit("challenge-authenticator", &[("code", &code)]);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
        > challenge-authenticator password=correct horse battery staple
          attempt password: Granted { locks: false }
          step totp_challenge offers [challenge-authenticator, select-authenticator-authenticate]
          info policy.step_up
          effect answer_accepted password
          effect log user.authentication.verify Success
          effect log policy.evaluate_sign_on Challenge
        > challenge-authenticator code=000000
          attempt totp: Granted { locks: false }
          step totp_challenge offers [challenge-authenticator, select-authenticator-authenticate]
          error totp.error.wrong @code
          effect log user.authentication.verify Failure
        > challenge-authenticator code=768147
          attempt totp: Granted { locks: false }
          step completed offers []
          effect totp_used user=u-ada step=60000000
          effect answer_accepted totp
          effect log user.authentication.verify Success
          effect log user.authentication.auth_via_mfa Success
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["password", "totp"]
          effect issue_code user=u-ada amr=["pwd", "otp"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn a_code_works_once_even_within_its_window() {
    let run = |j: &mut Journey, code: &str| {
        j.flow = Journey::with_app(Intent::Login, two_factor_app(Enrollment::Optional)).flow;
        j.submit("identify", &[("identifier", "ada@example.com")])
            .submit("challenge-authenticator", &[("password", "correct horse battery staple")])
            .submit("challenge-authenticator", &[("code", code)]);
        j.flow.is_finished()
    };
    let mut j = Journey::with_app(Intent::Login, two_factor_app(Enrollment::Optional));
    j.password("u-ada", "correct horse battery staple").authenticator_app("u-ada", SECRET);
    let code = j.code_of(SECRET);
    assert!(run(&mut j, &code), "{}", j.trace);
    assert!(!run(&mut j, &code), "the same code again, seconds later: {}", j.trace);
    assert!(j.trace.ends_with("effect log user.authentication.verify Failure\n"), "{}", j.trace);
    j.wait(30);
    let next = j.code_of(SECRET);
    assert!(run(&mut j, &next), "the next step's code works: {}", j.trace);
}

#[test]
fn a_required_app_is_set_up_with_a_first_code_before_success() {
    let mut j = Journey::with_app(Intent::Login, two_factor_app(Enrollment::Required));
    j.password("u-ada", "correct horse battery staple");
    j.submit("identify", &[("identifier", "ada@example.com")])
        .submit("challenge-authenticator", &[("password", "correct horse battery staple")])
        // The second factor type, by email; then the enrollment policy wants the app.
        .type_mailed_code()
        .submit("enroll-authenticator", &[("code", "12345")]);
    let secret = crate::engine::enroll::totp_secret(&j.flow, &j.keys).unwrap_or_else(|| panic!("{}", j.trace));
    let code = j.code_of(&secret);
    j.submit("enroll-authenticator", &[("code", &code)]);
    expect![[r#"
        > identify identifier=ada@example.com
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
        > challenge-authenticator password=correct horse battery staple
          attempt password: Granted { locks: false }
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          info policy.step_up
          effect answer_accepted password
          effect log user.authentication.verify Success
          effect log policy.evaluate_sign_on Challenge
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step enroll_totp (required) offers [enroll-authenticator]
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect log user.authentication.auth_via_mfa Success
        > enroll-authenticator code=12345
          step enroll_totp (required) offers [enroll-authenticator]
          error totp.error.malformed @code
        > enroll-authenticator code=<code>
          step completed offers []
          effect save_totp user=u-ada last_step=60000000
          effect log user.mfa.factor.activate Success
          effect start_session id=01a3185c5000bMFqvXDu-5DcCw user=u-ada proofs=["password", "email", "totp"]
          effect issue_code user=u-ada amr=["pwd", "email", "otp"] scope="openid email" sid=01a3185c5000bMFqvXDu-5DcCw
          effect log user.session.start Success
          effect notify ada@example.com AuthenticatorAdded(Totp)
          SUCCESS new session cookie
    "#]]
    .assert_eq(&j.trace.replace(&code, "<code>"));
    assert_eq!(j.totps["u-ada"].secret, secret, "the secret shown is the one saved");
}
