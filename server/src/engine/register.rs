//! `enroll-profile`: self-registration. The answers are kept in the flow, and the
//! account is created only once the email is proven in this same flow.

use std::collections::BTreeMap;

use passway_protocol::{FieldValue, Intent, Submission, names};

use super::hook::{self, HookPoint};
use super::{
    Attribute, AttributeKind, Effect, Env, EventType, Flow, LogEntry, LogOutcome, NewUser, Notice, Outcome, Step,
    Target, World,
};
use super::{challenge, finish, identify, text_of, validate};
use crate::authenticators::email::Purpose;

/// Whether the flow's address may get an account here: the app takes sign-ups, or an
/// operator invited this very address.
pub(super) fn may_sign_up(flow: &Flow, env: &Env<'_>) -> bool {
    env.app.self_registration
        || flow.invited.is_some() && flow.invited.as_deref() == flow.subject.as_ref().map(|s| s.email.as_str())
}

/// `select-enroll-profile`: go to the registration form.
pub(super) fn select(mut flow: Flow) -> Outcome {
    flow.step = Step::EnrollProfile;
    flow.intent = Intent::Register;
    flow.autofill = None;
    Outcome::new(flow)
}

/// The email typed (`None` when the flow proved one already), and the attributes.
pub(super) type Answers = (Option<String>, BTreeMap<String, String>);

/// The registration answers in `values`: the email (unless this flow proved one
/// already) and the attributes; or the notices of what is wrong with them.
pub(super) fn answers(
    flow: &Flow,
    values: &Submission,
    settings: &super::EngineSettings,
    now: super::Timestamp,
) -> Result<Answers, Vec<Notice>> {
    let proven = flow.has_proven_subject();
    let mut answers = BTreeMap::new();
    let mut email = None;
    let mut notices = vec![];
    for attr in settings.profile.attributes.iter().filter(|a| a.at_registration) {
        if attr.name == "email" {
            if !proven {
                match validate::email(text_of(values, "email")) {
                    // An invitation registers the address invited, no other.
                    Ok(e) if flow.invited.as_ref().is_some_and(|i| *i != e) => {
                        notices.push(Notice::error("field.invalid").on("email"))
                    }
                    Ok(e) => email = Some(e),
                    Err(key) => notices.push(Notice::error(key).on("email")),
                }
            }
            continue;
        }
        match check(attr, attr.required, values, now) {
            Ok(v) if !v.is_empty() => {
                answers.insert(attr.name.clone(), v);
            }
            Ok(_) => {}
            Err(key) => notices.push(Notice::error(key).on(attr.name.clone())),
        }
    }
    if notices.is_empty() { Ok((email, answers)) } else { Err(notices) }
}

pub(super) fn submit(mut flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let proven = flow.has_proven_subject();
    let (email, mut answers) = match answers(&flow, values, env.settings, env.now) {
        Ok(a) => a,
        Err(notices) => return Outcome::invalid(flow, names::ENROLL_PROFILE, values, notices),
    };
    // A registration hook may refuse, or change the answers (only registration's own
    // attributes, within the schema), before anything is sent or made.
    let allowed: Vec<&Attribute> =
        env.settings.profile.attributes.iter().filter(|a| a.at_registration && a.name != "email").collect();
    let hook_log = match hook::on_profile(
        HookPoint::Registration,
        &flow,
        names::ENROLL_PROFILE,
        values,
        &mut answers,
        &allowed,
        world,
        env,
    ) {
        Ok(logged) => logged,
        Err(refused) => return *refused,
    };
    flow.profile = answers;
    flow.intent = Intent::Register;
    let mut out = if proven {
        challenge::after_proof(flow, crate::authenticators::AuthenticatorKind::Email, world, env)
    } else {
        identify::set_subject(&mut flow, email.expect("validated above"));
        let purpose = if world.user.is_some() { Purpose::SignIn } else { Purpose::Register };
        challenge::send(flow, purpose, world, env)
    };
    out.effects.extend(hook_log);
    out
}

/// The submitted value of `attr` (empty when not given and not `required`), or the i18n
/// key of what is wrong with it.
pub(super) fn check(
    attr: &Attribute,
    required: bool,
    values: &Submission,
    now: super::Timestamp,
) -> Result<String, &'static str> {
    match &attr.kind {
        AttributeKind::Consent => match values.get(&attr.name) {
            Some(FieldValue::Bool(true)) => Ok(now.rfc3339()),
            _ if required => Err("field.consent_required"),
            _ => Ok(String::new()),
        },
        AttributeKind::Boolean => match values.get(&attr.name) {
            Some(FieldValue::Bool(true)) => Ok("true".to_owned()),
            _ if required => Err("field.required"),
            _ => Ok("false".to_owned()),
        },
        AttributeKind::Select(options) => {
            let v = text_of(values, &attr.name);
            if v.is_empty() && required {
                Err("field.required")
            } else if !v.is_empty() && !options.iter().any(|o| o == v) {
                Err("field.invalid")
            } else {
                Ok(v.to_owned())
            }
        }
        AttributeKind::Email if !required && text_of(values, &attr.name).trim().is_empty() => Ok(String::new()),
        AttributeKind::Email => validate::email(text_of(values, &attr.name)),
        AttributeKind::Text => {
            let v = validate::text(text_of(values, &attr.name), required, attr.max_length)?;
            if v.is_empty() {
                Ok(v)
            } else if v.chars().count() < attr.min_length as usize {
                Err("field.too_short")
            } else if attr.pattern.as_ref().is_some_and(|p| !p.matches(&v)) {
                Err("field.invalid")
            } else {
                Ok(v)
            }
        }
    }
}

/// Whether the profile schema has no attribute but the email.
pub(super) fn nothing_to_ask(env: &Env<'_>) -> bool {
    env.settings.profile.attributes.iter().all(|a| a.name == "email" || !a.at_registration)
}

/// Creates the account for the proven email with the registration answers, and
/// completes the flow as that new user (or offers to enrol an authenticator first).
pub(super) fn create(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    let email = flow.subject.as_ref().expect("proven subject").email.clone();
    let flow_attributes = flow.profile.keys().cloned().collect::<Vec<_>>().join(", ");
    let id = crate::crypto::uuid_v4(env.rng);
    let user = NewUser { id: id.clone(), email: email.clone(), profile: flow.profile.clone(), created_at: env.now };
    flow.account = Some(id.clone());
    // A new account has no passkey and has allowed nothing yet.
    let world = World { passkeys: 0, consent: None, ..world.clone() };
    let mut out = finish::signed_in(flow, finish::SignIn::Fresh, &world, env);
    out.effects.insert(0, Effect::CreateUser(user));
    let new_account = Target::User { id: id.clone(), email: email.clone() };
    let registered =
        LogEntry::new(EventType::UserRegistrationCreate, LogOutcome::Success, "User registered with a verified email")
            .actor(id.clone(), email.clone())
            .target(new_account.clone());
    let created = LogEntry::new(EventType::UserLifecycleCreate, LogOutcome::Success, "Account created")
        .actor(id, email)
        .target(new_account)
        .debug("attributes", flow_attributes);
    out.effects.splice(1..1, [Effect::Log(registered), Effect::Log(created)]);
    out
}
