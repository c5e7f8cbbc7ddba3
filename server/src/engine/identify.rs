//! `identify`: who is signing in. Known and unknown emails are treated alike: both
//! get an email challenge — or, in an app that uses passwords, a password challenge
//! with email as the other way — and only its proof reveals whether an account
//! exists. The exception is an account with passkeys, which gets a passkey challenge,
//! as in every identifier-first passkey design.
//!
//! Also `challenge-webauthn-autofillui-authenticator`: signing in with a passkey
//! without typing the identifier, answered from the identify step.

use passway_protocol::{Submission, names};

use super::ceremony::{self, CeremonyKind, CeremonyOutcome};
use super::hook::{self, Decision, HookPoint};
use super::{AppSettings, Effect, Env, EventType, Flow, LogEntry, LogOutcome, Notice, Outcome, Step, Subject, World};
use super::{challenge, methods, text_of, validate};
use crate::authenticators::AuthenticatorKind;
use crate::authenticators::email::Purpose;
use crate::crypto::Entropy;

pub(super) fn submit(mut flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let email = match validate::email(text_of(values, "identifier")) {
        Ok(email) => email,
        Err(key) => return Outcome::invalid(flow, names::IDENTIFY, values, vec![Notice::error(key).on("identifier")]),
    };
    // A sign-in context hook says how risky this request is (for the sign-on policy), or
    // refuses it.
    let hook_log = match sign_in_hook(&mut flow, world, env) {
        Ok(entry) => entry,
        Err(denied) => return denied.with_form(values),
    };
    set_subject(&mut flow, email);
    flow.autofill = None;
    let mut out = identified(flow, world, env);
    out.effects.extend(hook_log.map(Effect::Log));
    out
}

/// A refusal by a sign-in context hook: the identify step again, with its message.
struct Denied(Box<Outcome>);

impl Denied {
    fn with_form(self, values: &Submission) -> Outcome {
        Outcome { echo: Some((names::IDENTIFY, values.clone())), ..*self.0 }
    }
}

/// Asks the app's sign-in context hook's answer (if it has one): sets the request's
/// risk, or refuses. Returns the call's log entry.
fn sign_in_hook(flow: &mut Flow, world: &World, env: &mut Env<'_>) -> Result<Option<LogEntry>, Denied> {
    let Some(rule) = env.app.hooks.get(&HookPoint::SignIn) else { return Ok(None) };
    let (decision, entry) =
        hook::decide(rule, HookPoint::SignIn, world.hook.as_ref(), &flow.requester.locale, |_| Ok(()));
    match decision {
        Decision::Allow(commands) => {
            flow.requester.risk = commands.risk.unwrap_or_default();
            Ok(Some(entry))
        }
        Decision::Deny(notice) => {
            let mut flow = flow.clone();
            let effects = offer_autofill(&mut flow, env.app, env.rng);
            let mut out = Outcome::new(flow).notice(notice);
            out.effects = effects;
            out.effects.push(Effect::Log(entry));
            Err(Denied(Box::new(out)))
        }
    }
}

/// The identify step's answer once the email is known (the subject set).
fn identified(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    // A passkey challenge says the account exists (as in every identifier-first
    // passkey design); a password challenge says nothing: every address gets it.
    if let Some(user) = world.user.as_ref().filter(|_| methods::usable(AuthenticatorKind::Passkey, &flow, world, env)) {
        let others = [AuthenticatorKind::Password, AuthenticatorKind::Email];
        flow.authenticators = std::iter::once(AuthenticatorKind::Passkey)
            .chain(others.into_iter().filter(|k| methods::usable(*k, &flow, world, env)))
            .collect();
        let user_id = user.id.clone();
        return challenge::begin_passkey(flow, &user_id, env);
    }
    if env.app.enrollment.uses(AuthenticatorKind::Password) {
        flow.authenticators = vec![AuthenticatorKind::Password, AuthenticatorKind::Email];
        return challenge::begin_password(flow);
    }
    flow.authenticators = vec![AuthenticatorKind::Email];
    // Only the email's wording differs; the work and the answer are the same.
    let purpose = if world.user.is_some() { Purpose::SignIn } else { Purpose::Register };
    challenge::send(flow, purpose, world, env)
}

/// A passkey answered the autofill ceremony (or the "sign in with a passkey" button).
pub(super) fn passkey_first(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    match (&world.ceremony, &world.user) {
        (Some(CeremonyOutcome::Asserted { user_id, cred_id, updated }), Some(user)) if user.id == *user_id => {
            let hook_log = match sign_in_hook(&mut flow, world, env) {
                Ok(entry) => entry,
                Err(Denied(out)) => return *out,
            };
            set_subject(&mut flow, user.email.clone());
            flow.autofill = None;
            flow.authenticators = vec![AuthenticatorKind::Passkey, AuthenticatorKind::Email];
            let used = Effect::PasskeyUsed { cred_id: cred_id.clone(), updated: updated.clone(), at: env.now };
            let mut out = challenge::after_proof(flow, AuthenticatorKind::Passkey, world, env);
            out.effects.insert(0, used);
            out.effects.extend(hook_log.map(Effect::Log));
            out
        }
        (Some(CeremonyOutcome::Failed(failure)), _) => {
            let effects = offer_autofill(&mut flow, env.app, env.rng);
            let mut out = Outcome::new(flow).notice(Notice::error(failure.key()));
            out.effects = effects;
            out.effects.push(Effect::Log(
                LogEntry::new(EventType::UserAuthenticationVerify, LogOutcome::Failure, "Passkey sign-in refused")
                    .reason(failure.reason())
                    .credential(AuthenticatorKind::Passkey),
            ));
            out
        }
        _ => Outcome::new(flow).notice(Notice::error("passkey.error.missing")),
    }
}

/// `select-identify`: back from the registration form to sign-in.
pub(super) fn select(mut flow: Flow, env: &mut Env<'_>) -> Outcome {
    flow.intent = flow.intent.signing_in();
    let effects = to_identify(&mut flow, env);
    Outcome { effects, ..Outcome::new(flow) }
}

/// `cancel`: forget everything learnt and start at `identify` again. The count of
/// emails sent is kept, so cancelling does not lift the cap.
pub(super) fn restart(mut flow: Flow, env: &mut Env<'_>) -> Outcome {
    flow.intent = flow.intent.signing_in();
    flow.subject = None;
    flow.account = None;
    flow.authenticators.clear();
    flow.profile.clear();
    flow.proofs.clear();
    flow.session = None;
    let effects = to_identify(&mut flow, env);
    Outcome { effects, ..Outcome::new(flow) }
}

/// Puts the flow at `identify`, with a fresh autofill ceremony when passkeys are on.
pub(super) fn to_identify(flow: &mut Flow, env: &mut Env<'_>) -> Vec<Effect> {
    flow.step = Step::Identify;
    offer_autofill(flow, env.app, env.rng)
}

/// A new discoverable ceremony for passkey autofill, if the app has passkeys.
pub(super) fn offer_autofill(flow: &mut Flow, app: &AppSettings, rng: &mut dyn Entropy) -> Vec<Effect> {
    if !app.passkeys {
        flow.autofill = None;
        return vec![];
    }
    let c = ceremony::new(CeremonyKind::Discoverable, rng);
    flow.autofill = Some(c.clone());
    vec![Effect::BeginCeremony(c)]
}

/// Changing the email in play voids what was proven about the previous one.
pub(super) fn set_subject(flow: &mut Flow, email: String) {
    if flow.subject.as_ref().map(|s| &s.email) != Some(&email) {
        flow.proofs.clear();
        flow.account = None;
        flow.session = None;
    }
    flow.subject = Some(Subject { email });
}
