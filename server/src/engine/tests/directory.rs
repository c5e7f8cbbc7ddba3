//! What operators change in the store, as journeys see it: a deactivated account signs
//! in nowhere (after its proof, so its address says nothing), and store groups count in
//! sign-on rules like the config file's.

use expect_test::expect;
use passway_protocol::Intent;

use super::{Journey, NO_ENROLLMENT, app};
use crate::engine::{Enrollment, Enrollments};
use crate::policy::{Access, Assurance, Conditions, Rule, SignOnPolicy};

#[test]
fn a_deactivated_account_proves_its_email_and_is_refused() {
    let mut j = Journey::new(Intent::Login);
    j.deactivated.insert("u-ada".into());
    j.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code();
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step denied by "deactivated" offers []
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect log policy.evaluate_sign_on Deny
    "#]]);
}

#[test]
fn a_store_group_meets_a_rules_group_condition() {
    let mut shop = app(false, Enrollments { password: Enrollment::Optional, ..NO_ENROLLMENT });
    shop.sign_on = SignOnPolicy {
        rules: vec![
            Rule {
                name: "Admins: two factors".into(),
                when: Conditions { groups: vec!["admins".into()], ..Conditions::default() },
                access: Access::Allow(Assurance { factors: 2, ..Assurance::default() }),
            },
            Rule { name: "Everyone".into(), when: Conditions::default(), access: Access::Allow(Assurance::default()) },
        ],
    };
    let sign_in = |groups: &[&str]| {
        let mut j = Journey::with_app(Intent::Login, shop.clone());
        j.store_groups.insert("u-ada".into(), groups.iter().map(|g| g.to_string()).collect());
        j.submit("identify", &[("identifier", "ada@example.com")])
            .select("select-authenticator-authenticate", "email")
            .type_mailed_code();
        j
    };
    let step_up = "policy.evaluate_sign_on Challenge";
    let other = sign_in(&["staff"]);
    assert!(!other.trace.contains(step_up), "one factor is enough for everyone else: {}", other.trace);
    let admin = sign_in(&["admins"]);
    assert!(admin.trace.contains(step_up), "an admin is asked for more: {}", admin.trace);
}

/// The attack: a flow started with intent `register` for an app that takes no sign-ups
/// (its form is shown at once) must not make an account.
#[test]
fn a_closed_app_makes_no_account_whatever_the_intent() {
    let mut j = Journey::new(Intent::Register).closed();
    j.submit("enroll-profile", &[("email", "new@example.com"), ("given_name", "Eve")]).type_mailed_code();
    assert!(!j.trace.contains("create_user"), "{}", j.trace);
}

/// An operator's invitation opens a closed app to the address invited, and only it.
#[test]
fn an_invitation_registers_the_address_invited_and_no_other() {
    let invited = |j: &mut Journey| {
        j.flow.invited = Some("grace@example.com".into());
        j.flow.intent = Intent::Register;
        j.flow.step = crate::engine::Step::EnrollProfile;
    };
    let mut j = Journey::new(Intent::Register).closed();
    invited(&mut j);
    j.submit("enroll-profile", &[("email", "eve@example.com"), ("given_name", "Eve")]);
    assert!(j.trace.contains("error field.invalid @email"), "{}", j.trace);
    j.submit("enroll-profile", &[("email", "grace@example.com"), ("given_name", "Grace")]).type_mailed_code();
    assert!(j.trace.contains("effect create_user email=grace@example.com"), "{}", j.trace);
}
