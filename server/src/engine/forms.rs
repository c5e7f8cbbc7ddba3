//! The remediations offered at each step, with their fields. The same list is what
//! the view renders and what a submission is checked against.

use passway_protocol::{Field, FieldType, FieldValue, Intent, SelectOption, Submission, names};

use super::{AppSettings, AttributeKind, Ceremony, EngineSettings, Flow, Rejection, Step, Timestamp};
use crate::authenticators::{AuthenticatorKind, passkey, password, totp};

/// A remediation before presentation (no URL, labels not yet localised).
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub name: &'static str,
    /// i18n key of the action's label.
    pub label_key: &'static str,
    /// Fields, each with its English label as fallback.
    pub fields: Vec<Field>,
    /// The WebAuthn ceremony this form is answered with (its id), if any.
    pub ceremony: Option<String>,
    /// Scopes to describe before the choice (`consent`).
    pub scopes: Vec<String>,
}

impl Form {
    fn new(name: &'static str, label_key: &'static str, fields: Vec<Field>) -> Form {
        Form { name, label_key, fields, ceremony: None, scopes: vec![] }
    }

    fn answered_by(mut self, ceremony: &Ceremony) -> Form {
        self.ceremony = Some(ceremony.id.clone());
        self
    }
}

pub fn offered(flow: &Flow, app: &AppSettings, settings: &EngineSettings, now: Timestamp) -> Vec<Form> {
    match &flow.step {
        Step::Identify => {
            let mut identifier = Field::new("identifier", FieldType::Email, "field.email", "Email");
            identifier.required = true;
            // With passkey autofill, the browser offers passkeys on this field.
            identifier.autocomplete =
                Some(if flow.autofill.is_some() { "username webauthn" } else { "username" }.into());
            identifier.max_length = Some(254);
            identifier.value = flow.subject.as_ref().map(|s| FieldValue::Text(s.email.clone()));
            let mut forms = vec![Form::new(names::IDENTIFY, "action.next", vec![identifier])];
            if let Some(c) = &flow.autofill {
                let passkey = Form::new(
                    names::CHALLENGE_WEBAUTHN_AUTOFILL,
                    "action.use_passkey",
                    vec![passkey::credential_field()],
                );
                forms.push(passkey.answered_by(c));
            }
            if app.self_registration {
                forms.push(Form::new(names::SELECT_ENROLL_PROFILE, "action.sign_up", vec![]));
            }
            if app.enrollment.uses(AuthenticatorKind::Password) {
                forms.push(Form::new(names::SELECT_IDENTIFY_RECOVERY, "action.forgot_password", vec![]));
            }
            forms
        }
        Step::IdentifyRecovery => {
            let mut identifier = Field::new("identifier", FieldType::Email, "field.email", "Email");
            identifier.required = true;
            identifier.autocomplete = Some("username".into());
            identifier.max_length = Some(254);
            identifier.value = flow.subject.as_ref().map(|s| FieldValue::Text(s.email.clone()));
            vec![
                Form::new(names::IDENTIFY_RECOVERY, "action.next", vec![identifier]),
                Form::new(names::SELECT_IDENTIFY, "action.back_to_sign_in", vec![]),
            ]
        }
        Step::ResetPassword => vec![Form::new(
            names::RESET_AUTHENTICATOR,
            "action.reset_password",
            vec![password::new_password_field(settings.passwords.min_length, settings.passwords.max_length)],
        )],
        Step::CannotRecover => vec![],
        Step::EnrollProfile => {
            let proven = flow.has_proven_subject();
            let fields = settings
                .profile
                .attributes
                .iter()
                .filter(|attr| attr.at_registration)
                .map(|attr| {
                    let mut f = attribute_field(attr, attr.required);
                    if attr.name == "email" {
                        f.value = flow.subject.as_ref().map(|s| FieldValue::Text(s.email.clone()));
                        f.read_only = proven || flow.invited.is_some();
                    } else if let Some(v) = flow.profile.get(&attr.name) {
                        f.value = Some(FieldValue::Text(v.clone()));
                    }
                    f
                })
                .collect();
            vec![
                Form::new(names::ENROLL_PROFILE, "action.sign_up", fields),
                Form::new(names::SELECT_IDENTIFY, "action.back_to_sign_in", vec![]),
            ]
        }
        Step::EnrollProfileUpdate { attributes } => {
            let fields: Vec<Field> = attributes
                .iter()
                .filter_map(|name| super::profile_update::attribute(name, app, &settings.profile))
                .map(|(attr, required)| {
                    let mut f = attribute_field(attr, required);
                    f.value = flow.profile.get(&attr.name).map(|v| FieldValue::Text(v.clone()));
                    f
                })
                .collect();
            let optional = fields.iter().all(|f| !f.required);
            let mut forms = vec![Form::new(names::ENROLL_PROFILE_UPDATE, "action.continue", fields)];
            if optional {
                forms.push(Form::new(names::SKIP, "action.skip", vec![]));
            }
            forms
        }
        Step::Challenge(challenge) => {
            let presentation = challenge.present(now);
            let label = action_for(challenge.kind());
            let mut answer = Form::new(names::CHALLENGE_AUTHENTICATOR, label, challenge.answer_fields());
            if let Some(c) = challenge.ceremony() {
                answer = answer.answered_by(c);
            }
            let mut forms = vec![answer];
            if presentation.out_of_band {
                forms.push(Form::new(names::CHALLENGE_POLL, "action.poll", vec![]));
            }
            if presentation.resend_after.is_some() {
                forms.push(Form::new(names::RESEND, "action.resend", vec![]));
            }
            // Other ways to prove it, when the account has them.
            let others: Vec<AuthenticatorKind> =
                flow.authenticators.iter().copied().filter(|k| *k != challenge.kind()).collect();
            if !others.is_empty() {
                forms.push(Form::new(
                    names::SELECT_AUTHENTICATOR_AUTHENTICATE,
                    "action.another_way",
                    vec![authenticator_choice(&others, "field.authenticator")],
                ));
            }
            // A way out for who forgot the password or lost the passkey.
            match challenge.kind() {
                _ if flow.intent == Intent::Recover => {}
                AuthenticatorKind::Password => {
                    forms.push(Form::new(names::SELECT_IDENTIFY_RECOVERY, "action.forgot_password", vec![]))
                }
                // Only when there is no other way: else that other way is the way out.
                AuthenticatorKind::Passkey if others.is_empty() => {
                    forms.push(Form::new(names::SELECT_IDENTIFY_RECOVERY, "action.lost_passkey", vec![]))
                }
                AuthenticatorKind::Passkey => {}
                AuthenticatorKind::Email | AuthenticatorKind::Totp => {}
            }
            forms
        }
        Step::EnrollSelect { required, .. } => {
            let mut forms = vec![Form::new(
                names::SELECT_AUTHENTICATOR_ENROLL,
                "action.continue",
                vec![authenticator_choice(&enroll_options(&flow.step), "field.enroll")],
            )];
            if !required {
                forms.push(Form::new(names::SKIP, "action.skip", vec![]));
            }
            forms
        }
        Step::EnrollPassword { required } => {
            let choose = Form::new(
                names::ENROLL_AUTHENTICATOR,
                "action.set_password",
                vec![password::new_password_field(settings.passwords.min_length, settings.passwords.max_length)],
            );
            let mut forms = vec![choose];
            if !required {
                forms.push(Form::new(names::SKIP, "action.skip", vec![]));
            }
            forms
        }
        Step::EnrollTotp { required, .. } => {
            let confirm = Form::new(names::ENROLL_AUTHENTICATOR, "action.verify", vec![totp::code_field()]);
            let mut forms = vec![confirm];
            if !required {
                forms.push(Form::new(names::SKIP, "action.skip", vec![]));
            }
            forms
        }
        Step::ResetPasskey { ceremony } => {
            let create =
                Form::new(names::RESET_AUTHENTICATOR, "action.create_passkey", vec![passkey::credential_field()]);
            vec![create.answered_by(ceremony)]
        }
        Step::EnrollPasskey { ceremony, required } => {
            let create =
                Form::new(names::ENROLL_AUTHENTICATOR, "action.create_passkey", vec![passkey::credential_field()]);
            let mut forms = vec![create.answered_by(ceremony)];
            if !required {
                forms.push(Form::new(names::SKIP, "action.skip", vec![]));
            }
            forms
        }
        Step::Consent => {
            let mut decision = Field::new("decision", FieldType::Select, "field.consent", "Allow access");
            decision.required = true;
            decision.options = [(super::consent::ALLOW, "Allow"), (super::consent::DENY, "Don't allow")]
                .map(|(value, label)| SelectOption { value: value.into(), label: label.into() })
                .into();
            let mut consent = Form::new(names::CONSENT, "action.allow", vec![decision]);
            consent.scopes = flow.request.scope.split(' ').map(str::to_owned).collect();
            vec![consent]
        }
        Step::Account(home) => account(home, settings),
        Step::ResetOldPasskeys { .. } => vec![
            Form::new(names::REMOVE_OLD_AUTHENTICATORS, "action.remove_old_passkeys", vec![]),
            Form::new(names::SKIP, "action.keep_old_passkeys", vec![]),
        ],
        Step::Denied { .. } | Step::Completed | Step::AccountDeleted => vec![],
    }
}

/// The account page's forms, over what it shows.
fn account(home: &super::account::AccountHome, settings: &EngineSettings) -> Vec<Form> {
    let choice = |name: &str, label_key: &str, values: Vec<String>| {
        let mut f = Field::new(name, FieldType::Select, label_key, "Choose");
        f.required = true;
        f.options = values.into_iter().map(|v| SelectOption { label: v.clone(), value: v }).collect();
        f
    };
    let mut forms = vec![];
    let editable: Vec<Field> = settings
        .profile
        .attributes
        .iter()
        .filter(|a| !matches!(a.kind, AttributeKind::Email | AttributeKind::Consent))
        .map(|attr| {
            let mut f = attribute_field(attr, attr.required);
            f.value = home.profile.get(&attr.name).map(|v| match attr.kind {
                AttributeKind::Boolean => FieldValue::Bool(v == "true"),
                _ => FieldValue::Text(v.clone()),
            });
            f
        })
        .collect();
    if !editable.is_empty() {
        forms.push(Form::new(names::UPDATE_PROFILE, "action.save", editable));
    }
    if !home.addable.is_empty() {
        forms.push(Form::new(
            names::SELECT_AUTHENTICATOR_ENROLL,
            "action.add",
            vec![authenticator_choice(&home.addable, "field.add")],
        ));
    }
    let removable = super::account::removable(home);
    if !removable.is_empty() {
        let field = choice("authenticator", "field.account_authenticator", removable);
        forms.push(Form::new(names::REMOVE_AUTHENTICATOR, "action.remove", vec![field]));
    }
    if !home.passkeys.is_empty() {
        let passkeys = home.passkeys.iter().map(|p| p.cred_id.clone()).collect();
        let mut name = Field::new("name", FieldType::Text, "field.passkey_name", "New name");
        name.required = true;
        name.max_length = Some(64);
        let fields = vec![choice("authenticator", "field.account_authenticator", passkeys), name];
        forms.push(Form::new(names::RENAME_AUTHENTICATOR, "action.rename", fields));
    }
    if !home.sessions.is_empty() {
        let sessions = home.sessions.iter().map(|s| s.id.clone()).collect();
        forms.push(Form::new(
            names::END_SESSION,
            "action.sign_out",
            vec![choice("session", "field.session", sessions)],
        ));
        forms.push(Form::new(names::END_OTHER_SESSIONS, "action.sign_out_others", vec![]));
    }
    let mut confirm = Field::new("confirm", FieldType::Boolean, "field.delete_confirm", "I understand");
    confirm.required = true;
    forms.push(Form::new(names::DELETE_ACCOUNT, "action.delete_account", vec![confirm]));
    forms
}

/// The authenticators `select-authenticator-enroll` offers (a passkey in flows stored
/// before there was a choice).
pub fn enroll_options(step: &Step) -> Vec<AuthenticatorKind> {
    match step {
        Step::EnrollSelect { options, .. } if !options.is_empty() => options.clone(),
        _ => vec![AuthenticatorKind::Passkey],
    }
}

/// `cancel` starts the journey over; offered once there is something to cancel, and
/// not once the person is signed in and only enrolment remains.
pub fn cancel(flow: &Flow) -> Option<Form> {
    let offered = match flow.step {
        Step::Identify => !flow.proofs.is_empty(),
        // Denied: another account may be allowed.
        Step::EnrollProfile
        | Step::Challenge(_)
        | Step::Denied { .. }
        | Step::ResetPassword
        | Step::ResetPasskey { .. }
        | Step::CannotRecover => true,
        // It offers `select-identify`.
        Step::IdentifyRecovery => false,
        Step::EnrollSelect { .. }
        | Step::EnrollPasskey { .. }
        | Step::EnrollPassword { .. }
        | Step::EnrollTotp { .. }
        | Step::EnrollProfileUpdate { .. }
        | Step::Consent
        | Step::Completed
        | Step::Account(_)
        | Step::AccountDeleted
        | Step::ResetOldPasskeys { .. } => false,
    };
    offered.then(|| Form::new(names::CANCEL, "action.cancel", vec![]))
}

/// Refuses submissions that do not match the form: unknown names or wrong types.
pub fn check_shape(form: &Form, values: &Submission) -> Result<(), Rejection> {
    for (name, value) in values {
        let Some(field) = form.fields.iter().find(|f| &f.name == name) else {
            return Err(Rejection::UnknownField { remediation: form.name.into(), field: name.clone() });
        };
        let ok = match field.kind {
            FieldType::Boolean => matches!(value, FieldValue::Bool(_)),
            _ => matches!(value, FieldValue::Text(_)),
        };
        if !ok {
            let expected = if field.kind == FieldType::Boolean { "true or false" } else { "a string" };
            return Err(Rejection::WrongType { field: name.clone(), expected });
        }
    }
    Ok(())
}

/// The label of the action that answers a challenge.
fn action_for(kind: AuthenticatorKind) -> &'static str {
    match kind {
        AuthenticatorKind::Email | AuthenticatorKind::Totp => "action.verify",
        AuthenticatorKind::Passkey => "action.use_passkey",
        AuthenticatorKind::Password => "action.sign_in",
    }
}

/// A select field `authenticator` offering `kinds`, labelled `{label_key}.{kind}`
/// (`field.authenticator.*` to prove one, `field.enroll.*` to set one up).
fn authenticator_choice(kinds: &[AuthenticatorKind], label_key: &str) -> Field {
    let mut f = Field::new("authenticator", FieldType::Select, label_key, "Authenticator");
    f.required = true;
    f.options = kinds
        .iter()
        .map(|k| SelectOption { value: k.key().into(), label: format!("{label_key}.{}", k.key()) })
        .collect();
    f
}

/// The input for a profile attribute.
fn attribute_field(attr: &super::Attribute, required: bool) -> Field {
    let kind = match attr.kind {
        AttributeKind::Text => FieldType::Text,
        AttributeKind::Email => FieldType::Email,
        AttributeKind::Boolean | AttributeKind::Consent => FieldType::Boolean,
        AttributeKind::Select(_) => FieldType::Select,
    };
    let mut f = Field::new(&attr.name, kind, &attr.label_key(), &attr.label);
    f.required = required;
    f.max_length = (kind != FieldType::Boolean).then_some(attr.max_length);
    f.min_length = (attr.min_length > 0).then_some(attr.min_length);
    f.pattern = attr.pattern.as_ref().map(|p| p.source.clone());
    f.autocomplete = autocomplete_for(&attr.name).map(str::to_owned);
    if let AttributeKind::Select(options) = &attr.kind {
        f.options = options.iter().map(|o| SelectOption { value: o.clone(), label: o.clone() }).collect();
    }
    f
}

/// HTML autofill tokens for well-known profile attributes.
fn autocomplete_for(attribute: &str) -> Option<&'static str> {
    Some(match attribute {
        "email" => "email",
        "given_name" => "given-name",
        "family_name" => "family-name",
        "name" => "name",
        "phone_number" => "tel",
        "street_address" => "street-address",
        "postal_code" => "postal-code",
        "locality" => "address-level2",
        "country" => "country-name",
        _ => return None,
    })
}
