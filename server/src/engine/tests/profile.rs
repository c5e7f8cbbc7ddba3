//! The profile schema at registration: validation beyond presence, and consent kept
//! as the instant it was given.

use expect_test::expect;
use passway_protocol::{FieldValue, Intent, Submission};

use super::{Journey, NO_ENROLLMENT, app};
use crate::engine::{Action, Attribute, AttributeKind, Pattern};

fn schema_with_postcode_and_consent(j: &mut Journey) {
    let base = Attribute::email();
    j.settings.profile.attributes.push(Attribute {
        name: "postal_code".into(),
        label: "Postal code".into(),
        kind: AttributeKind::Text,
        required: true,
        min_length: 4,
        max_length: 10,
        pattern: Some(Pattern::new("[0-9]{4,5}").unwrap()),
        ..base.clone()
    });
    j.settings.profile.attributes.push(Attribute {
        name: "privacy_consent".into(),
        label: "I agree that Shop stores my name and address".into(),
        kind: AttributeKind::Consent,
        required: true,
        ..base
    });
}

#[test]
fn answers_are_checked_against_the_schema_and_consent_is_dated() {
    let mut j = Journey::with_app(Intent::Register, app(false, NO_ENROLLMENT));
    schema_with_postcode_and_consent(&mut j);
    let form = |postal: &str, consent: bool| -> Submission {
        [
            ("email".to_string(), FieldValue::Text("grace@example.com".into())),
            ("given_name".to_string(), FieldValue::Text("Grace".into())),
            ("postal_code".to_string(), FieldValue::Text(postal.into())),
            ("privacy_consent".to_string(), FieldValue::Bool(consent)),
        ]
        .into()
    };
    for (postal, consent) in [("123", true), ("12a45", true), ("75001", false), ("75001", true)] {
        j.trace.push_str(&format!("> enroll-profile postal_code={postal} privacy_consent={consent}\n"));
        j.act(Action::Submit { remediation: "enroll-profile".into(), values: form(postal, consent) });
    }
    j.type_mailed_code();
    j.check(expect![[r#"
        > enroll-profile postal_code=123 privacy_consent=true
          step enroll_profile offers [enroll-profile, select-identify]
          error field.too_short @postal_code
        > enroll-profile postal_code=12a45 privacy_consent=true
          step enroll_profile offers [enroll-profile, select-identify]
          error field.invalid @postal_code
        > enroll-profile postal_code=75001 privacy_consent=false
          step enroll_profile offers [enroll-profile, select-identify]
          error field.consent_required @privacy_consent
        > enroll-profile postal_code=75001 privacy_consent=true
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=grace@example.com purpose=Register
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step completed offers []
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect create_user email=grace@example.com profile={"given_name": "Grace", "postal_code": "75001", "privacy_consent": "2027-01-15T08:00:00Z"}
          effect log user.registration.create Success
          effect log user.lifecycle.create Success
          effect start_session id=01a3185c5000quifwPA-KVmuTQ user=f0a0278e-4372-459c-8a61-59cd5e71cfee proofs=["email"]
          effect issue_code user=f0a0278e-4372-459c-8a61-59cd5e71cfee amr=["email"] scope="openid email" sid=01a3185c5000quifwPA-KVmuTQ
          effect log user.session.start Success
          effect notify grace@example.com Welcome
          SUCCESS new session cookie
    "#]]);
}
