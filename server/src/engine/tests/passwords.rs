//! Journeys with passwords: identifier-first sign-in that says nothing about who has an
//! account, the lockout, enrolment against the password policy.

use expect_test::expect;
use passway_protocol::Intent;

use super::Journey;
use crate::engine::Enrollment;

const ADA: &[(&str, &str)] = &[("identifier", "ada@example.com")];

#[test]
fn sign_in_with_a_password() {
    let mut j = Journey::with_passwords(Intent::Login, Enrollment::Optional);
    j.password("u-ada", "correct horse battery staple");
    j.submit("identify", ADA).submit("challenge-authenticator", &[("password", "correct horse battery staple")]);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
        > challenge-authenticator password=correct horse battery staple
          attempt password: Granted { locks: false }
          step completed offers []
          effect answer_accepted password
          effect log user.authentication.verify Success
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["password"]
          effect issue_code user=u-ada amr=["pwd"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

/// The address typed gets the same step and the same answer whether it has an account
/// with a password, an account without one, or no account at all.
#[test]
fn a_password_challenge_says_nothing_about_the_account() {
    let trace = |email: &str, password: Option<&str>| {
        let mut j = Journey::with_passwords(Intent::Login, Enrollment::Optional);
        if let Some(p) = password {
            j.password("u-ada", p);
        }
        j.submit("identify", &[("identifier", email)]).submit("challenge-authenticator", &[("password", "guess")]);
        j.trace.replace(email, "EMAIL")
    };
    let with_password = trace("ada@example.com", Some("correct horse battery staple"));
    assert_eq!(with_password, trace("ada@example.com", None), "an account without a password");
    assert_eq!(with_password, trace("nobody@example.com", None), "no account");
    expect![[r#"
        > identify identifier=EMAIL
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
        > challenge-authenticator password=guess
          attempt password: Granted { locks: false }
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
          error password.error.wrong @password
          effect log user.authentication.verify Failure
    "#]]
    .assert_eq(&with_password);
}

#[test]
fn wrong_passwords_lock_the_address_for_a_while_and_email_still_works() {
    let mut j = Journey::with_passwords(Intent::Login, Enrollment::Optional);
    j.settings.lockout.attempts = 2;
    j.password("u-ada", "correct horse battery staple");
    let right = [("password", "correct horse battery staple")];
    j.submit("identify", ADA)
        .submit("challenge-authenticator", &[("password", "wrong one")])
        .submit("challenge-authenticator", &[("password", "wrong two")])
        // Locked: not even the right one is checked.
        .submit("challenge-authenticator", &right)
        .wait(15 * 60)
        .submit("challenge-authenticator", &right);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
        > challenge-authenticator password=wrong one
          attempt password: Granted { locks: false }
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
          error password.error.wrong @password
          effect log user.authentication.verify Failure
        > challenge-authenticator password=wrong two
          attempt password: Granted { locks: true }
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
          error password.error.wrong @password
          effect log user.authentication.verify Failure
          effect log user.account.lock Failure
          effect notify ada@example.com Locked { kind: Password, minutes: 15 }
        > challenge-authenticator password=correct horse battery staple
          attempt password: Locked { until: 2027-01-15T08:15:00Z }
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
          error password.error.locked @password minutes=15
        … 900s later
        > challenge-authenticator password=correct horse battery staple
          attempt password: Granted { locks: false }
          step completed offers []
          effect answer_accepted password
          effect log user.authentication.verify Success
          effect start_session id=01a3186a0ba0I9f0KxzcHw1JLg user=u-ada proofs=["password"]
          effect issue_code user=u-ada amr=["pwd"] scope="openid email" sid=01a3186a0ba0I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);

    // While locked, email is the other way in.
    let mut j = Journey::with_passwords(Intent::Login, Enrollment::Optional);
    j.settings.lockout.attempts = 1;
    j.password("u-ada", "correct horse battery staple");
    j.submit("identify", ADA)
        .submit("challenge-authenticator", &[("password", "wrong")])
        .select("select-authenticator-authenticate", "email")
        .type_mailed_code();
    assert!(j.flow.is_finished(), "{}", j.trace);
}

#[test]
fn a_right_password_after_wrong_ones_starts_the_count_again() {
    let mut j = Journey::with_passwords(Intent::Login, Enrollment::Optional);
    j.password("u-ada", "correct horse battery staple");
    j.submit("identify", ADA)
        .submit("challenge-authenticator", &[("password", "wrong")])
        .submit("challenge-authenticator", &[("password", "correct horse battery staple")]);
    assert!(j.trace.contains("effect answer_accepted password"), "{}", j.trace);
    assert!(j.lockouts.is_empty());
}

#[test]
fn registration_requires_a_password_that_meets_the_policy() {
    let mut j = Journey::with_passwords(Intent::Register, Enrollment::Required);
    j.submit("enroll-profile", &[("email", "grace@example.com"), ("given_name", "Grace")])
        .type_mailed_code()
        .submit("skip", &[])
        .submit("enroll-authenticator", &[("password", "short")])
        .submit("enroll-authenticator", &[("password", "qwerty123456")])
        .submit("enroll-authenticator", &[("password", "grace@example.com!!")])
        .submit("enroll-authenticator", &[("password", "vq8-Lw2#marrow-tundra")]);
    j.check(expect![[r#"
        > enroll-profile email=grace@example.com given_name=Grace
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=grace@example.com purpose=Register
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step enroll_password (required) offers [enroll-authenticator]
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect create_user email=grace@example.com profile={"given_name": "Grace"}
          effect log user.registration.create Success
          effect log user.lifecycle.create Success
          effect notify grace@example.com Welcome
        > skip 
          rejected: the remediation `skip` is not offered at this step
        > enroll-authenticator password=short
          step enroll_password (required) offers [enroll-authenticator]
          error password.error.too_short @password min=12
        > enroll-authenticator password=qwerty123456
          step enroll_password (required) offers [enroll-authenticator]
          error password.error.common @password
        > enroll-authenticator password=grace@example.com!!
          step enroll_password (required) offers [enroll-authenticator]
          error password.error.contains_email @password
        > enroll-authenticator password=vq8-Lw2#marrow-tundra
          step completed offers []
          effect set_password user=f0a0278e-4372-459c-8a61-59cd5e71cfee argon2id=true
          effect log user.mfa.factor.activate Success
          effect start_session id=01a3185c5000bMFqvXDu-5DcCw user=f0a0278e-4372-459c-8a61-59cd5e71cfee proofs=["email", "password"]
          effect issue_code user=f0a0278e-4372-459c-8a61-59cd5e71cfee amr=["email", "pwd"] scope="openid email" sid=01a3185c5000bMFqvXDu-5DcCw
          effect log user.session.start Success
          effect notify grace@example.com AuthenticatorAdded(Password)
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn an_optional_password_is_offered_once_with_skip() {
    let mut j = Journey::with_passwords(Intent::Login, Enrollment::Optional);
    j.submit("identify", ADA)
        .select("select-authenticator-authenticate", "email")
        .type_mailed_code()
        .submit("skip", &[]);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
        > select-authenticator-authenticate authenticator=email
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend, select-authenticator-authenticate]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step enroll_password offers [enroll-authenticator, skip]
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
fn an_optional_password_skipped_as_often_as_allowed_becomes_required() {
    let mut j = Journey::with_passwords(Intent::Login, Enrollment::Optional);
    j.app.enrollment.skip_limit = Some(2);
    for _ in 0..3 {
        j.flow = Journey::with_passwords(Intent::Login, Enrollment::Optional).flow;
        j.submit("identify", ADA).select("select-authenticator-authenticate", "email").type_mailed_code();
        if j.flow.is_finished()
            || !super::forms::offered(&j.flow, &j.app, &j.settings, j.now).iter().any(|f| f.name == "skip")
        {
            break;
        }
        j.submit("skip", &[]);
    }
    let skips: Vec<&str> = j
        .trace
        .lines()
        .filter(|l| l.contains("enrollment_skipped") || l.contains("skips_left") || l.contains("enroll_password"))
        .map(str::trim)
        .collect();
    expect![[r#"
          step enroll_password offers [enroll-authenticator, skip]
          info enroll.skips_left count=2
          effect enrollment_skipped user=u-ada ["password"]
          step enroll_password offers [enroll-authenticator, skip]
          info enroll.skips_left count=1
          effect enrollment_skipped user=u-ada ["password"]
          step enroll_password (required) offers [enroll-authenticator]"#]]
    .assert_eq(&skips.join("\n"));
}

#[test]
fn one_optional_offer_per_sign_in_whichever_is_chosen() {
    let app = super::app(
        false,
        crate::engine::Enrollments {
            passkey: Enrollment::Off,
            password: Enrollment::Optional,
            totp: Enrollment::Optional,
        },
    );
    let mut j = Journey::with_app(Intent::Login, app);
    j.submit("identify", ADA)
        .select("select-authenticator-authenticate", "email")
        .type_mailed_code()
        .select("select-authenticator-enroll", "password")
        .submit("enroll-authenticator", &[("password", "vq8-Lw2#marrow-tundra")]);
    assert!(j.flow.is_finished(), "the authenticator app is not offered right after: {}", j.trace);
    assert!(
        j.trace.contains(r#"step enroll_select ["totp", "password"] offers [select-authenticator-enroll, skip]"#),
        "{}",
        j.trace
    );
}
