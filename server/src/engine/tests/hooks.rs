//! Inline hooks in journeys: the engine asks (the trace's `hook … asked` line is the
//! request's `data`), the scripted reply stands for what the shell got, and the engine
//! decides — commands applied, a refusal shown, or `on_failure` followed — and logs
//! the call in the step's own effects.

use expect_test::expect;
use passway_protocol::Intent;

use super::{Journey, NO_ENROLLMENT, app};
use crate::engine::Enrollment;
use crate::engine::hook::{Commands, HookMessage, HookPoint, HookReply, HookRule, IMPORT, OnFailure};
use crate::policy::{Access, Assurance, Conditions, RiskLevel, Rule, SignOnPolicy};

const GRACE: &[(&str, &str)] =
    &[("email", "grace@blocked.example"), ("given_name", "Grace"), ("family_name", "Hopper")];

fn with_hook(j: &mut Journey, point: HookPoint, on_failure: OnFailure) {
    j.app.hooks.insert(point, HookRule { name: format!("{}-check", point.name()), on_failure });
}

fn denied(message: &str, fr: &str) -> HookReply {
    HookReply::Answered(Commands {
        deny: true,
        error: Some(HookMessage { text: message.into(), localized: [("fr".to_owned(), fr.to_owned())].into() }),
        ..Commands::default()
    })
}

#[test]
fn a_registration_hook_refuses_with_its_message_and_nothing_is_sent() {
    let mut j = Journey::with_app(Intent::Register, app(false, NO_ENROLLMENT));
    with_hook(&mut j, HookPoint::Registration, OnFailure::Deny);
    j.hook_replies.push_back(denied("Addresses at blocked.example cannot register.", "Pas d'inscription ici."));
    j.submit("enroll-profile", GRACE);
    j.check(expect![[r#"
        > enroll-profile email=grace@blocked.example family_name=Hopper given_name=Grace
          hook registration registration-check asked {"app":{"id":"shop","name":"Shop"},"profile":{"family_name":"Hopper","given_name":"Grace"},"request":{"browser":"Firefox on Linux","flowId":"01a3185c50002G6BEvPExEQhJg","ipAddress":"127.0.0.1","locale":"en","platform":"linux"},"user":{"email":"grace@blocked.example"}}
          step enroll_profile offers [enroll-profile, select-identify]
          error hook.denied message=addresses at blocked.example cannot register.
          effect log inline_hook.executed Deny reason="the hook denied"
    "#]]);
}

#[test]
fn a_registration_hook_changes_the_profile_within_the_schema() {
    let mut j = Journey::with_app(Intent::Register, app(false, NO_ENROLLMENT));
    with_hook(&mut j, HookPoint::Registration, OnFailure::Deny);
    let changed = |name: &str, value: &str| {
        HookReply::Answered(Commands { profile: [(name.to_owned(), value.to_owned())].into(), ..Commands::default() })
    };
    // Outside the schema, or past its limits: the answer is refused, and on_failure denies.
    j.hook_replies.push_back(changed("role", "admin"));
    j.hook_replies.push_back(changed("given_name", &"G".repeat(51)));
    j.hook_replies.push_back(changed("given_name", "Amazing Grace"));
    j.submit("enroll-profile", GRACE).submit("enroll-profile", GRACE).submit("enroll-profile", GRACE);
    j.type_mailed_code();
    j.check(expect![[r#"
        > enroll-profile email=grace@blocked.example family_name=Hopper given_name=Grace
          hook registration registration-check asked {"app":{"id":"shop","name":"Shop"},"profile":{"family_name":"Hopper","given_name":"Grace"},"request":{"browser":"Firefox on Linux","flowId":"01a3185c50002G6BEvPExEQhJg","ipAddress":"127.0.0.1","locale":"en","platform":"linux"},"user":{"email":"grace@blocked.example"}}
          step enroll_profile offers [enroll-profile, select-identify]
          error hook.unavailable
          effect log inline_hook.executed Failure reason="profile.update names \"role\", which this step does not set"
        > enroll-profile email=grace@blocked.example family_name=Hopper given_name=Grace
          hook registration registration-check asked {"app":{"id":"shop","name":"Shop"},"profile":{"family_name":"Hopper","given_name":"Grace"},"request":{"browser":"Firefox on Linux","flowId":"01a3185c50002G6BEvPExEQhJg","ipAddress":"127.0.0.1","locale":"en","platform":"linux"},"user":{"email":"grace@blocked.example"}}
          step enroll_profile offers [enroll-profile, select-identify]
          error hook.unavailable
          effect log inline_hook.executed Failure reason="profile.update gives \"given_name\" a value the schema refuses (field.too_long)"
        > enroll-profile email=grace@blocked.example family_name=Hopper given_name=Grace
          hook registration registration-check asked {"app":{"id":"shop","name":"Shop"},"profile":{"family_name":"Hopper","given_name":"Grace"},"request":{"browser":"Firefox on Linux","flowId":"01a3185c50002G6BEvPExEQhJg","ipAddress":"127.0.0.1","locale":"en","platform":"linux"},"user":{"email":"grace@blocked.example"}}
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=grace@blocked.example purpose=Register
          effect log user.authentication.challenge.sent Success
          effect log inline_hook.executed Success reason=""
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step completed offers []
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect create_user email=grace@blocked.example profile={"family_name": "Hopper", "given_name": "Amazing Grace"}
          effect log user.registration.create Success
          effect log user.lifecycle.create Success
          effect start_session id=01a3185c5000quifwPA-KVmuTQ user=f0a0278e-4372-459c-8a61-59cd5e71cfee proofs=["email"]
          effect issue_code user=f0a0278e-4372-459c-8a61-59cd5e71cfee amr=["email"] scope="openid email" sid=01a3185c5000quifwPA-KVmuTQ
          effect log user.session.start Success
          effect notify grace@blocked.example Welcome
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn a_hook_that_fails_follows_on_failure() {
    for on_failure in [OnFailure::Allow, OnFailure::Deny] {
        let mut j = Journey::with_app(Intent::Register, app(false, NO_ENROLLMENT));
        with_hook(&mut j, HookPoint::Registration, on_failure);
        j.hook_replies.push_back(HookReply::Failed("no answer within 3s".into()));
        j.submit("enroll-profile", GRACE);
        let sent = j.trace.contains("effect send_email");
        assert_eq!(sent, on_failure == OnFailure::Allow, "{}", j.trace);
        assert!(j.trace.contains(r#"log inline_hook.executed Failure reason="no answer within 3s""#), "{}", j.trace);
        assert_eq!(j.trace.contains("error hook.unavailable"), on_failure == OnFailure::Deny, "{}", j.trace);
    }
}

#[test]
fn a_sign_in_context_hook_sets_the_risk_that_steps_up() {
    let mut j = Journey::with_passwords(Intent::Login, Enrollment::Optional);
    j.app.sign_on = SignOnPolicy {
        rules: vec![
            Rule {
                name: "High risk: two factors".into(),
                when: Conditions { risk: vec![RiskLevel::High], ..Conditions::default() },
                access: Access::Allow(Assurance { factors: 2, ..Assurance::default() }),
            },
            Rule { name: "Everyone".into(), when: Conditions::default(), access: Access::Allow(Assurance::default()) },
        ],
    };
    with_hook(&mut j, HookPoint::SignIn, OnFailure::Allow);
    j.password("u-ada", "correct horse battery staple");
    j.hook_replies.push_back(HookReply::Answered(Commands { risk: Some(RiskLevel::High), ..Commands::default() }));
    j.submit("identify", &[("identifier", "ada@example.com")])
        .submit("challenge-authenticator", &[("password", "correct horse battery staple")]);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          hook sign_in sign_in-check asked {"app":{"id":"shop","name":"Shop"},"identifier":"ada@example.com","request":{"browser":"Firefox on Linux","flowId":"01a3185c50002G6BEvPExEQhJg","ipAddress":"127.0.0.1","locale":"en","platform":"linux"}}
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
          effect log inline_hook.executed Success reason=""
        > challenge-authenticator password=correct horse battery staple
          attempt password: Granted { locks: false }
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          info policy.step_up
          effect answer_accepted password
          effect log user.authentication.verify Success
          effect log policy.evaluate_sign_on Challenge
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
    "#]]);
}

#[test]
fn a_migrated_password_is_asked_once_then_stored() {
    let mut j = Journey::with_passwords(Intent::Login, Enrollment::Optional);
    with_hook(&mut j, HookPoint::PasswordImport, OnFailure::Deny);
    j.passwords.insert("u-ada".into(), IMPORT.into());
    let verified = |v| HookReply::Answered(Commands { verified: Some(v), ..Commands::default() });
    j.hook_replies.push_back(HookReply::Failed("answered HTTP 500".into()));
    j.hook_replies.push_back(verified(false));
    j.hook_replies.push_back(verified(true));
    j.submit("identify", &[("identifier", "ada@example.com")])
        .submit("challenge-authenticator", &[("password", "from the old system")])
        .submit("challenge-authenticator", &[("password", "a wrong one")])
        .submit("challenge-authenticator", &[("password", "from the old system")]);
    assert!(j.passwords["u-ada"].starts_with("$argon2id$"), "stored as argon2id");
    // Signing in again checks the stored hash: the hook is not asked (no reply is scripted).
    let mut again = Journey::with_passwords(Intent::Login, Enrollment::Optional);
    with_hook(&mut again, HookPoint::PasswordImport, OnFailure::Deny);
    again.passwords = j.passwords.clone();
    again
        .submit("identify", &[("identifier", "ada@example.com")])
        .submit("challenge-authenticator", &[("password", "from the old system")]);
    assert!(again.trace.contains("SUCCESS"), "{}", again.trace);
    assert!(!again.trace.contains("hook password_import"), "{}", again.trace);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
        > challenge-authenticator password=from the old system
          attempt password: Granted { locks: false }
          hook password_import password_import-check asked {"app":{"id":"shop","name":"Shop"},"credential":{"password":"from the old system"},"request":{"browser":"Firefox on Linux","flowId":"01a3185c50002G6BEvPExEQhJg","ipAddress":"127.0.0.1","locale":"en","platform":"linux"},"user":{"email":"ada@example.com","id":"u-ada"}}
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
          error hook.unavailable @password
          effect log inline_hook.executed Failure reason="answered HTTP 500"
        > challenge-authenticator password=a wrong one
          attempt password: Granted { locks: false }
          hook password_import password_import-check asked {"app":{"id":"shop","name":"Shop"},"credential":{"password":"a wrong one"},"request":{"browser":"Firefox on Linux","flowId":"01a3185c50002G6BEvPExEQhJg","ipAddress":"127.0.0.1","locale":"en","platform":"linux"},"user":{"email":"ada@example.com","id":"u-ada"}}
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
          error password.error.wrong @password
          effect log inline_hook.executed Success reason=""
          effect log user.authentication.verify Failure
        > challenge-authenticator password=from the old system
          attempt password: Granted { locks: false }
          hook password_import password_import-check asked {"app":{"id":"shop","name":"Shop"},"credential":{"password":"from the old system"},"request":{"browser":"Firefox on Linux","flowId":"01a3185c50002G6BEvPExEQhJg","ipAddress":"127.0.0.1","locale":"en","platform":"linux"},"user":{"email":"ada@example.com","id":"u-ada"}}
          step completed offers []
          effect set_password user=u-ada argon2id=true
          effect log inline_hook.executed Success reason=""
          effect answer_accepted password
          effect log user.authentication.verify Success
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["password"]
          effect issue_code user=u-ada amr=["pwd"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}
