//! Account recovery (a forgotten password): `select-identify-recovery` ("Forgot
//! password?"), or a flow started with intent `recover`, asks whose account
//! (`identify-recovery`); the recovery policy says which of the account's authenticators
//! must be proven; then `reset-authenticator` sets a new password, ends every SSO
//! session and refresh token of the account, and signs the person in — through the
//! app's sign-on policy like any other sign-in.
//!
//! No enumeration: when email may recover, an unknown address gets the same "check your
//! email" step as a known one, only no email is sent. A policy without email must ask
//! for the account's passkey first, which says that the account has one (as
//! identifier-first passkey sign-in does).

use passway_protocol::{Intent, Submission, names};

use super::{Challenge, Effect, Env, Flow, LogOutcome, Notice, Outcome, Step, World};
use super::{challenge, finish, identify, methods, text_of, validate};
use crate::authenticators::AuthenticatorKind;
use crate::authenticators::email::{EmailChallenge, MAX_EMAILS_PER_FLOW, Purpose};
use crate::authenticators::password;
use crate::policy::RecoveryNext;

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
        None if env.settings.recovery.authenticators.contains(&AuthenticatorKind::Email) => unsent_email(flow, env),
        None => cannot_recover(flow),
    };
    out.effects.insert(
        0,
        challenge::log("user.account.recovery.start", LogOutcome::Success, None, "Account recovery started"),
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
        None => cannot_recover(flow),
    }
}

/// `reset-authenticator`: the new password. Every session and refresh token of the
/// account ends with the old password; then the person is signed in.
pub(super) fn reset(mut flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let Some(user) = world.user.as_ref().filter(|u| flow.account.as_ref() == Some(&u.id)) else {
        return cannot_recover(flow);
    };
    let typed = text_of(values, "password");
    if let Err(refusal) = env.settings.passwords.check(typed, &user.email) {
        let mut notice = Notice::error(refusal.key).on("password");
        notice.params = refusal.params;
        return Outcome::invalid(flow, names::RESET_AUTHENTICATOR, values, vec![notice]);
    }
    let hash = password::hash(typed, env.settings.passwords.cost, env.rng);
    let effects = [
        Effect::SetPassword { user_id: user.id.clone(), hash, at: env.now },
        Effect::RevokeSessions { user_id: user.id.clone(), at: env.now },
        challenge::log("user.account.reset_password", LogOutcome::Success, None, "Password reset by recovery"),
    ];
    flow.intent = Intent::Login;
    // The old sessions are gone; this sign-in starts a new one.
    flow.session = None;
    flow.proofs.push(super::Proof { authenticator: AuthenticatorKind::Password, at: env.now });
    let mut out = finish::signed_in(flow, finish::SignIn::Fresh, world, env);
    out.effects.splice(0..0, effects);
    out.notice(Notice::info("recovery.done"))
}

/// What the recovery policy asks next of the identified account.
fn next(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    let proven: Vec<AuthenticatorKind> = flow.proofs.iter().map(|p| p.authenticator).collect();
    let enrolled: Vec<AuthenticatorKind> =
        AuthenticatorKind::ALL.into_iter().filter(|k| methods::usable(*k, &flow, world, env)).collect();
    match env.settings.recovery.next(&proven, &enrolled) {
        RecoveryNext::Reset => {
            flow.step = Step::ResetPassword;
            Outcome::new(flow)
        }
        RecoveryNext::Prove(kinds) => {
            flow.authenticators = kinds.clone();
            let again = !proven.is_empty();
            let out = match kinds[0] {
                AuthenticatorKind::Passkey => {
                    let user_id = flow.account.clone().or(world.user.as_ref().map(|u| u.id.clone()));
                    challenge::begin_passkey(flow, &user_id.expect("an enrolled passkey has an account"), env)
                }
                AuthenticatorKind::Password => challenge::begin_password(flow),
                AuthenticatorKind::Email => challenge::send(flow, Purpose::Recover, env),
            };
            if again { out.notice(Notice::info("recovery.another_check")) } else { out }
        }
        RecoveryNext::Impossible => cannot_recover(flow),
    }
}

/// The same step as for a known address, but nothing is sent: its code exists nowhere.
pub(super) fn unsent_email(mut flow: Flow, env: &mut Env<'_>) -> Outcome {
    if flow.emails_sent >= MAX_EMAILS_PER_FLOW {
        return Outcome::new(flow).notice(Notice::error("email.send.limit"));
    }
    let email = flow.subject.as_ref().expect("subject set above").email.clone();
    let (unsent, _) = EmailChallenge::issue(&flow.id, &email, Purpose::Recover, env.now, env.rng, env.keys);
    flow.emails_sent += 1;
    flow.authenticators = vec![AuthenticatorKind::Email];
    flow.step = Step::Challenge(Challenge::Email(unsent));
    Outcome::new(flow)
}

fn cannot_recover(mut flow: Flow) -> Outcome {
    flow.step = Step::CannotRecover;
    let mut out = Outcome::new(flow);
    out.effects.push(challenge::log(
        "user.account.recovery.refuse",
        LogOutcome::Deny,
        Some("the recovery policy allows none of the account's authenticators"),
        "Account recovery refused by policy",
    ));
    out
}
