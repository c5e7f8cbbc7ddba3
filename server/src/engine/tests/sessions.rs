//! The global session policy in journeys: which authenticators may start a session,
//! how long it lives per rule, and the app's inactivity period on resuming one.

use std::time::Duration;

use expect_test::expect;
use passway_protocol::Intent;

use super::{Journey, NO_ENROLLMENT, ada_session, app};
use crate::authenticators::AuthenticatorKind;
use crate::engine::{Effect, Enrollment, Enrollments};
use crate::policy::{Access, Assurance, Conditions, RiskLevel, Rule, SessionPolicy, SessionRule, SignOnPolicy};

fn only_passwords_start_sessions(j: &mut Journey) {
    j.settings.sessions.default_rule().establish_with = vec![AuthenticatorKind::Password];
}

#[test]
fn an_email_link_alone_starts_no_session_when_the_policy_says_so() {
    let mut j = Journey::with_passwords(Intent::Login, Enrollment::Optional);
    only_passwords_start_sessions(&mut j);
    j.password("u-ada", "correct horse battery staple");
    j.submit("identify", &[("identifier", "ada@example.com")])
        .select("select-authenticator-authenticate", "email")
        .type_mailed_code()
        .submit("challenge-authenticator", &[("password", "correct horse battery staple")]);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
        > select-authenticator-authenticate authenticator=email
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend, select-authenticator-authenticate]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step password_challenge offers [challenge-authenticator, select-identify-recovery]
          info policy.step_up
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect log policy.evaluate_session Challenge
        > challenge-authenticator password=correct horse battery staple
          attempt password: Granted { locks: false }
          step completed offers []
          effect answer_accepted password
          effect log user.authentication.verify Success
          effect log user.authentication.auth_via_mfa Success
          effect start_session id=01a3185c5000quifwPA-KVmuTQ user=u-ada proofs=["email", "password"]
          effect issue_code user=u-ada amr=["email", "pwd"] scope="openid email" sid=01a3185c5000quifwPA-KVmuTQ
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn without_a_password_yet_one_is_set_before_the_session() {
    let mut j = Journey::with_passwords(Intent::Login, Enrollment::Optional);
    only_passwords_start_sessions(&mut j);
    j.submit("identify", &[("identifier", "ada@example.com")])
        .select("select-authenticator-authenticate", "email")
        .type_mailed_code();
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
        > select-authenticator-authenticate authenticator=email
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend, select-authenticator-authenticate]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step enroll_password (required) offers [enroll-authenticator]
          info policy.step_up
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect log policy.evaluate_session Challenge
    "#]]);

    // An app that takes no passwords cannot start a session under that policy.
    let mut j = Journey::with_app(Intent::Login, app(false, NO_ENROLLMENT));
    only_passwords_start_sessions(&mut j);
    j.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code();
    assert!(j.trace.contains("denied by \"Default\""), "{}", j.trace);
}

#[test]
fn a_session_lives_as_long_as_its_rule_says() {
    let lifetime = |risk| {
        let mut j = Journey::new(Intent::Login);
        j.settings.sessions = SessionPolicy {
            rules: vec![
                SessionRule {
                    name: "Risky".into(),
                    when: Conditions { risk: vec![RiskLevel::High], ..Default::default() },
                    lifetime: Duration::from_secs(3600),
                    idle: Duration::from_secs(600),
                    establish_with: vec![],
                },
                SessionPolicy::default().rules.remove(0),
            ],
        };
        j.flow.requester.risk = risk;
        j.submit("identify", &[("identifier", "ada@example.com")]);
        let code = j.mailed.clone().unwrap().0;
        let values = [("code".to_string(), passway_protocol::FieldValue::Text(code))].into();
        let mut env =
            crate::engine::Env { now: j.now, rng: &mut j.rng, keys: &j.keys, app: &j.app, settings: &j.settings };
        let world = crate::engine::World { user: j.users.first().cloned(), ..Default::default() };
        let action = crate::engine::Action::Submit { remediation: "challenge-authenticator".into(), values };
        let out = crate::engine::step(&j.flow, action, &world, &mut env).unwrap();
        out.effects
            .iter()
            .find_map(|e| match e {
                Effect::StartSession(s) => Some(j.now.until(s.expires_at)),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(lifetime(RiskLevel::High), Duration::from_secs(3600));
    assert_eq!(lifetime(RiskLevel::Low), Duration::from_secs(12 * 3600));
}

#[test]
fn an_app_asks_again_after_its_inactivity_period() {
    let mut timed = app(false, Enrollments { ..NO_ENROLLMENT });
    timed.sign_on = SignOnPolicy {
        rules: vec![Rule {
            name: "Quarter of an hour".into(),
            when: Conditions::default(),
            access: Access::Allow(Assurance { inactivity: Some(Duration::from_secs(15 * 60)), ..Assurance::default() }),
        }],
    };
    let recent = Journey::begin(Intent::Login, timed.clone(), |_| {}, Some(ada_session(10 * 60)), &[]);
    assert!(recent.flow.is_finished(), "used 10 minutes ago: {}", recent.trace);
    let idle = Journey::begin(Intent::Login, timed, |_| {}, Some(ada_session(20 * 60)), &[]);
    assert!(!idle.flow.is_finished() && idle.flow.session.is_none(), "unused for 20 minutes: {}", idle.trace);
}
