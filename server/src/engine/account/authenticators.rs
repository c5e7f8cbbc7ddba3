//! Authenticators on the account page: add one (`select-authenticator-enroll`: a
//! passkey, the authenticator app — a new one replaces the old —, a password — a new
//! one replaces the old), remove one (`remove-authenticator`), rename a passkey
//! (`rename-authenticator`). Adding and removing need a fresh proof; removing the last
//! of a kind the policy requires is refused, saying why.

use passway_protocol::{Submission, names};

use super::{AccountHome, Pending, home, owner, sensitive, shown};
use crate::authenticators::AuthenticatorKind;
use crate::engine::{
    Effect, Enrollment, Env, EventType, Flow, LogEntry, LogOutcome, Notice, Outcome, Step, Target, World, enroll,
    methods, text_of, validate,
};

/// What can be added here: what the app's enrollment policy allows.
pub(crate) fn addable(flow: &Flow, world: &World, env: &Env<'_>) -> Vec<AuthenticatorKind> {
    [AuthenticatorKind::Passkey, AuthenticatorKind::Totp, AuthenticatorKind::Password]
        .into_iter()
        .filter(|k| methods::enrollable(*k, flow, world, env))
        .collect()
}

pub(super) fn add(flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let chosen = shown(&flow).addable.iter().copied().find(|k| k.key() == text_of(values, "authenticator"));
    match chosen {
        Some(kind) => sensitive(flow, Pending::Enroll(kind), world, env),
        None => Outcome::invalid(
            flow,
            names::SELECT_AUTHENTICATOR_ENROLL,
            values,
            vec![Notice::error("field.invalid").on("authenticator")],
        ),
    }
}

/// The enrolment step of `kind`; made or skipped, the flow comes back to the account.
pub(super) fn begin_enrolment(flow: Flow, kind: AuthenticatorKind, world: &World, env: &mut Env<'_>) -> Outcome {
    enroll::begin(flow, kind, false, world, env)
}

/// The values `remove-authenticator` offers: passkeys by credential id, `totp`, `password`.
pub fn removable(home: &AccountHome) -> Vec<String> {
    let mut all: Vec<String> = home.passkeys.iter().map(|p| p.cred_id.clone()).collect();
    if home.totp {
        all.push(AuthenticatorKind::Totp.key().into());
    }
    if home.password {
        all.push(AuthenticatorKind::Password.key().into());
    }
    all
}

pub(super) fn remove(flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let which = text_of(values, "authenticator").to_owned();
    if !removable(shown(&flow)).contains(&which) {
        return Outcome::invalid(
            flow,
            names::REMOVE_AUTHENTICATOR,
            values,
            vec![Notice::error("field.invalid").on("authenticator")],
        );
    }
    if let Some(why) = refusal(&flow, &which, world, env) {
        let out = home(flow, world, env);
        return out.notice(Notice::error(why));
    }
    sensitive(flow, Pending::Remove(which), world, env)
}

/// Why removing `which` is refused: it is the last of a kind the app requires.
fn refusal(flow: &Flow, which: &str, world: &World, env: &Env<'_>) -> Option<&'static str> {
    let home = shown(flow);
    let kind = kind_of(which);
    let left = match kind {
        AuthenticatorKind::Passkey => home.passkeys.iter().filter(|p| p.cred_id != which).count(),
        _ => 0,
    };
    let required = methods::enrollments(flow, world, env).of(kind) == Enrollment::Required;
    let phishing_resistant = kind == AuthenticatorKind::Passkey && env.app.sign_on.requires_phishing_resistance();
    (left == 0 && (required || phishing_resistant)).then_some("account.required_by_policy")
}

fn kind_of(which: &str) -> AuthenticatorKind {
    match AuthenticatorKind::from_key(which) {
        Some(k @ (AuthenticatorKind::Totp | AuthenticatorKind::Password)) => k,
        _ => AuthenticatorKind::Passkey,
    }
}

/// Removes `which` (proven fresh); refused again if the account changed meanwhile.
pub(super) fn remove_now(flow: Flow, which: &str, world: &World, env: &mut Env<'_>) -> Outcome {
    if !removable(&current(&flow, world, env)).iter().any(|w| w == which) {
        return home(flow, world, env).notice(Notice::error("account.gone"));
    }
    let (user_id, email) = owner(&flow);
    let kind = kind_of(which);
    let target = match kind {
        AuthenticatorKind::Passkey => Target::Passkey { id: which.into(), name: String::new() },
        _ => Target::Authenticator { kind, user_id: user_id.clone() },
    };
    let entry = LogEntry::new(EventType::UserMfaFactorDeactivate, LogOutcome::Success, "Authenticator removed")
        .actor(user_id.clone(), email)
        .target(target)
        .credential(kind);
    let mut out = home(flow, world, env);
    if let Step::Account(h) = &mut out.flow.step {
        match kind {
            AuthenticatorKind::Passkey => h.passkeys.retain(|p| p.cred_id != which),
            AuthenticatorKind::Totp => h.totp = false,
            _ => h.password = false,
        }
    }
    out.effects.push(Effect::RemoveAuthenticator { user_id, kind, cred_id: which.to_owned() });
    out.effects.push(Effect::Log(entry));
    out.notice(Notice::info("account.removed"))
}

/// The account as shown, or as loaded now when the step is elsewhere (a change that
/// waited for a proof).
fn current(flow: &Flow, world: &World, env: &Env<'_>) -> AccountHome {
    match &flow.step {
        Step::Account(h) => (**h).clone(),
        _ => super::snapshot(flow, world, env),
    }
}

pub(super) fn rename(flow: Flow, values: &Submission, world: &World, env: &Env<'_>) -> Outcome {
    let cred_id = text_of(values, "authenticator").to_owned();
    if !shown(&flow).passkeys.iter().any(|p| p.cred_id == cred_id) {
        let notices = vec![Notice::error("field.invalid").on("authenticator")];
        return Outcome::invalid(flow, names::RENAME_AUTHENTICATOR, values, notices);
    }
    let name = match validate::text(text_of(values, "name"), true, 64) {
        Ok(name) => name,
        Err(key) => {
            return Outcome::invalid(flow, names::RENAME_AUTHENTICATOR, values, vec![Notice::error(key).on("name")]);
        }
    };
    let (user_id, email) = owner(&flow);
    let entry = LogEntry::new(EventType::UserMfaFactorUpdate, LogOutcome::Success, "Passkey renamed")
        .actor(user_id.clone(), email)
        .target(Target::Passkey { id: cred_id.clone(), name: name.clone() })
        .credential(AuthenticatorKind::Passkey);
    let mut out = home(flow, world, env);
    if let Step::Account(h) = &mut out.flow.step
        && let Some(p) = h.passkeys.iter_mut().find(|p| p.cred_id == cred_id)
    {
        p.name.clone_from(&name);
    }
    out.effects.push(Effect::RenamePasskey { user_id, cred_id, name });
    out.effects.push(Effect::Log(entry));
    out.notice(Notice::info("account.saved"))
}
