//! Account recovery (a forgotten password, a lost passkey): `select-identify-recovery`
//! ("Forgot password?", "Can't use your passkey?"), or a flow started with intent
//! `recover`, asks whose account (`identify-recovery`); the recovery policy says which
//! of the account's authenticators must be proven (email, passkey, authenticator app);
//! then `reset-authenticator` sets a new password — or, in an app without passwords,
//! creates a new passkey —, ends every SSO session and refresh token of the account,
//! and signs the person in, through the app's sign-on policy like any other sign-in.
//!
//! No enumeration: when email may recover, an unknown address gets the same "check your
//! email" step as a known one, only no email is sent. A policy without email must ask
//! for the account's passkey first, which says that the account has one (as
//! identifier-first passkey sign-in does).

use passway_protocol::{Intent, Submission, names};

use super::{AppSettings, Effect, Env, EventType, Flow, LogEntry, LogOutcome, Notice, Outcome, Step, World};
use super::{challenge, enroll, finish, identify, methods, text_of, validate};
use crate::authenticators::AuthenticatorKind;
use crate::authenticators::email::Purpose;
use crate::policy::RecoveryNext;

/// Whether the app has something to recover: passwords or passkeys (with email alone,
/// signing in is recovering).
pub(super) fn offered(app: &AppSettings) -> bool {
    app.passkeys || app.enrollment.uses(AuthenticatorKind::Password)
}

/// `select-identify-recovery`: to the recovery form, the email typed so far kept.
pub(super) fn select(mut flow: Flow) -> Outcome {
    flow.intent = Intent::Recover;
    flow.autofill = None;
    flow.proofs.clear();
    flow.account = None;
    flow.session = None;
    flow.step = Step::IdentifyRecovery;
    Outcome::new(flow)
}

/// `identify-recovery`: whose account.
pub(super) fn submit(mut flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let email = match validate::email(text_of(values, "identifier")) {
        Ok(email) => email,
        Err(key) => {
            return Outcome::invalid(flow, names::IDENTIFY_RECOVERY, values, vec![Notice::error(key).on("identifier")]);
        }
    };
    identify::set_subject(&mut flow, email);
    flow.proofs.clear();
    flow.intent = Intent::Recover;
    let mut out = match &world.user {
        Some(_) => next(flow, world, env),
        None if env.settings.recovery.authenticators.contains(&AuthenticatorKind::Email) => {
            unsent_email(flow, world, env)
        }
        None => cannot_recover(flow, NOTHING_ALLOWED),
    };
    out.effects.insert(
        0,
        Effect::Log(LogEntry::new(
            EventType::UserAccountRecoveryStart,
            LogOutcome::Success,
            "Account recovery started",
        )),
    );
    out
}

/// An authenticator was proven during recovery: the next one the policy needs, or the
/// reset.
pub(super) fn after_proof(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    match &world.user {
        Some(user) => {
            flow.account = Some(user.id.clone());
            next(flow, world, env)
        }
        // Only an unsent code could have been proven: there is no account.
        None => cannot_recover(flow, NOTHING_ALLOWED),
    }
}

/// `reset-authenticator`: the new password (or passkey). Every session and refresh
/// token of the account ends with the old one; then the person is signed in.
pub(super) fn reset(flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let Some(user) = world.user.as_ref().filter(|u| flow.account.as_ref() == Some(&u.id)) else {
        return cannot_recover(flow, NOTHING_ALLOWED);
    };
    let user_id = user.id.clone();
    let created = match flow.step {
        Step::ResetPasskey { .. } => enroll::create_passkey(flow, world, env),
        _ => enroll::create_password(flow, values, names::RESET_AUTHENTICATOR, env),
    };
    let (mut flow, mut effects) = match created {
        enroll::Made::Saved(flow, effects) => (flow, effects),
        enroll::Made::Retry(retry) => return retry,
    };
    effects.push(Effect::RevokeSessions { user_id, at: env.now });
    effects.push(Effect::Log(LogEntry::new(
        EventType::UserAccountResetPassword,
        LogOutcome::Success,
        "Account recovered",
    )));
    // A new passkey after a lost one: the old ones may be in the wrong hands.
    let new_passkey = effects.iter().find_map(|e| match e {
        Effect::SavePasskey(p) => Some(p.cred_id.clone()),
        _ => None,
    });
    if let Some(keep) = new_passkey.filter(|_| world.passkeys > 0) {
        flow.step = Step::ResetOldPasskeys { keep, old: world.passkeys };
        return Outcome { effects, ..Outcome::new(flow) }.notice(Notice::info("recovery.done"));
    }
    signed_in_after_reset(flow, effects, world, env)
}

/// `remove-old-authenticators` (`remove`) or `skip`: the old passkeys go or stay; then
/// the person is signed in.
pub(super) fn old_passkeys(flow: Flow, remove: bool, world: &World, env: &mut Env<'_>) -> Outcome {
    let (Step::ResetOldPasskeys { keep, .. }, Some(user_id)) = (&flow.step, &flow.account) else {
        return cannot_recover(flow, NOTHING_ALLOWED);
    };
    let mut effects = vec![];
    if remove {
        let email = flow.subject.as_ref().map(|s| s.email.clone()).unwrap_or_default();
        effects.push(Effect::RemoveOldPasskeys { user_id: user_id.clone(), keep: keep.clone() });
        effects.push(Effect::Log(
            LogEntry::new(
                EventType::UserMfaFactorDeactivate,
                LogOutcome::Success,
                "Old passkeys removed after recovery",
            )
            .actor(user_id.clone(), email)
            .credential(AuthenticatorKind::Passkey),
        ));
    }
    signed_in_after_reset(flow, effects, world, env)
}

/// After a reset: every old session is gone; this sign-in starts a new one.
fn signed_in_after_reset(mut flow: Flow, effects: Vec<Effect>, world: &World, env: &mut Env<'_>) -> Outcome {
    flow.intent = Intent::Login;
    flow.session = None;
    let mut out = finish::signed_in(flow, finish::SignIn::Fresh, world, env);
    out.effects.splice(0..0, effects);
    out.notice(Notice::info("recovery.done"))
}

/// What is reset: the password, in an app that uses them; else a new passkey.
fn reset_step(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    if methods::enrollable(AuthenticatorKind::Password, &flow, world, env) || !env.app.passkeys {
        flow.step = Step::ResetPassword;
        return Outcome::new(flow);
    }
    let c = enroll::passkey_ceremony(&flow, world, env);
    flow.step = Step::ResetPasskey { ceremony: c.clone() };
    Outcome { effects: vec![Effect::BeginCeremony(c)], ..Outcome::new(flow) }
}

/// What the recovery policy asks next of the identified account.
fn next(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    let proven: Vec<AuthenticatorKind> = flow.proofs.iter().map(|p| p.authenticator).collect();
    let enrolled: Vec<AuthenticatorKind> =
        AuthenticatorKind::ALL.into_iter().filter(|k| methods::usable(*k, &flow, world, env)).collect();
    match env.settings.recovery.next(&proven, &enrolled) {
        // An app that requires phishing resistance is not recovered by a mailbox alone,
        // unless the recovery policy says so: the account's passkey is asked too.
        RecoveryNext::Reset if needs_phishing_resistance(&proven, env) => {
            if !enrolled.contains(&AuthenticatorKind::Passkey) {
                return cannot_recover(flow, "this app requires phishing resistance, and the account has no passkey");
            }
            flow.authenticators = vec![AuthenticatorKind::Passkey];
            let user_id = world.user.as_ref().map(|u| u.id.clone());
            challenge::begin(flow, AuthenticatorKind::Passkey, user_id.as_deref(), Purpose::Recover, world, env)
                .notice(Notice::info("recovery.another_check"))
        }
        RecoveryNext::Reset => reset_step(flow, world, env),
        RecoveryNext::Prove(kinds) => {
            flow.authenticators = kinds.clone();
            let again = !proven.is_empty();
            let user_id = world.user.as_ref().map(|u| u.id.clone());
            let out = challenge::begin(flow, kinds[0], user_id.as_deref(), Purpose::Recover, world, env);
            if again { out.notice(Notice::info("recovery.another_check")) } else { out }
        }
        // Said only once the email is proven: before, an account that cannot be
        // recovered looks like any other address (and one that does not exist).
        RecoveryNext::Impossible
            if env.settings.recovery.authenticators.contains(&AuthenticatorKind::Email)
                && !proven.contains(&AuthenticatorKind::Email) =>
        {
            flow.authenticators = vec![AuthenticatorKind::Email];
            challenge::send(flow, Purpose::Recover, world, env)
        }
        RecoveryNext::Impossible => cannot_recover(flow, NOTHING_ALLOWED),
    }
}

/// Whether the app wants phishing resistance that nothing proven so far gave.
fn needs_phishing_resistance(proven: &[AuthenticatorKind], env: &Env<'_>) -> bool {
    env.app.sign_on.requires_phishing_resistance()
        && !env.settings.recovery.email_alone_for_phishing_resistant_apps
        && !proven.iter().any(|k| k.characteristics().phishing_resistant)
}

const NOTHING_ALLOWED: &str = "the recovery policy allows none of the account's authenticators";

/// The same step as for a known address, with the same work: an email goes out, but it
/// says that the address has no account here — it carries no link and no code, so the
/// challenge's code exists nowhere. Known and unknown addresses cost the same, to the
/// store, the mailer and the clock.
pub(super) fn unsent_email(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    flow.authenticators = vec![AuthenticatorKind::Email];
    let mut out = challenge::send(flow, Purpose::Recover, world, env);
    for effect in &mut out.effects {
        if let Effect::SendEmail(email) = effect {
            email.purpose = Purpose::NoAccount;
            email.code.clear();
            email.link_token.clear();
        }
    }
    out
}

fn cannot_recover(mut flow: Flow, why: &str) -> Outcome {
    flow.step = Step::CannotRecover;
    let mut out = Outcome::new(flow);
    out.effects.push(Effect::Log(
        LogEntry::new(EventType::UserAccountRecoveryRefuse, LogOutcome::Deny, "Account recovery refused by policy")
            .reason(why),
    ));
    out
}
