//! Enrolling an authenticator after sign-in: `select-authenticator-enroll` offers what
//! the app's enrollment policy wants and the account lacks, `enroll-authenticator`
//! creates it, and `skip` while all of it is optional. One file per authenticator
//! (`passkey.rs`, `password.rs`, `totp.rs`) makes the new credential; recovery's
//! `reset-authenticator` uses the same.

use passway_protocol::{Submission, names};

mod passkey;
mod password;
mod totp;

pub(super) use passkey::{ceremony as passkey_ceremony, create as create_passkey};
pub(super) use password::create as create_password;
pub(super) use totp::secret as totp_secret;

use super::finish::{self, SignIn};
use super::{Effect, Enrollment, Env, EventType, Flow, LogEntry, LogOutcome, Notice, Outcome, Step, Target, World};
use super::{forms, methods, text_of};
use crate::authenticators::AuthenticatorKind;

/// What the enrollment policy still wants of the signed-in account: (authenticator,
/// required). An optional offer is made once per sign-in, not on a session resume.
pub(super) fn pending(flow: &Flow, world: &World, env: &Env<'_>, how: SignIn) -> Vec<(AuthenticatorKind, bool)> {
    let policy = methods::enrollments(flow, world, env);
    [AuthenticatorKind::Passkey, AuthenticatorKind::Totp, AuthenticatorKind::Password]
        .into_iter()
        .filter(|kind| methods::enrollable(*kind, flow, world, env) && methods::lacks(*kind, flow, world))
        .filter_map(|kind| match policy.of(kind) {
            Enrollment::Required => Some((kind, true)),
            Enrollment::Optional if skips_left(kind, world, env) == Some(0) => Some((kind, true)),
            Enrollment::Optional if how == SignIn::Fresh && !flow.enrollment_offered => Some((kind, false)),
            _ => None,
        })
        .collect()
}

/// How many more times the account may skip `kind`, when the app limits it.
fn skips_left(kind: AuthenticatorKind, world: &World, env: &Env<'_>) -> Option<u32> {
    let limit = env.app.enrollment.skip_limit?;
    Some(limit.saturating_sub(world.skips.get(&kind).copied().unwrap_or(0)))
}

/// The authenticators the current enrolment step offers.
fn on_offer(step: &Step) -> Vec<AuthenticatorKind> {
    match step {
        Step::EnrollSelect { .. } => forms::enroll_options(step),
        Step::EnrollPasskey { .. } => vec![AuthenticatorKind::Passkey],
        Step::EnrollPassword { .. } => vec![AuthenticatorKind::Password],
        Step::EnrollTotp { .. } => vec![AuthenticatorKind::Totp],
        _ => vec![],
    }
}

/// Asks to enrol one of `options`: the choice (`select-authenticator-enroll`), or
/// straight the form of a password or an authenticator app when it is all there is
/// to choose (a passkey keeps its offer page: making one needs a press anyway).
pub(super) fn offer(
    flow: Flow,
    required: bool,
    options: Vec<AuthenticatorKind>,
    world: &World,
    env: &mut Env<'_>,
) -> Outcome {
    // Skippable a limited number of times: say how many are left.
    let left = options.iter().filter_map(|k| skips_left(*k, world, env)).min().filter(|_| !required);
    let mut flow = flow;
    flow.enrollment_offered |= !required;
    let out = offer_step(flow, required, options, world, env);
    match left {
        Some(left) => out.notice(Notice::info("enroll.skips_left").with("count", left.to_string())),
        None => out,
    }
}

fn offer_step(
    mut flow: Flow,
    required: bool,
    options: Vec<AuthenticatorKind>,
    world: &World,
    env: &mut Env<'_>,
) -> Outcome {
    match options.as_slice() {
        [kind @ (AuthenticatorKind::Password | AuthenticatorKind::Totp)] => begin(flow, *kind, required, world, env),
        _ => {
            flow.step = Step::EnrollSelect { required, options };
            Outcome::new(flow)
        }
    }
}

/// `select-authenticator-enroll`: the authenticator chosen from those offered.
pub(super) fn select(flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let Step::EnrollSelect { required, .. } = flow.step else { unreachable!("offered only when offering enrollment") };
    let chosen = forms::enroll_options(&flow.step).into_iter().find(|k| k.key() == text_of(values, "authenticator"));
    match chosen {
        Some(kind) => begin(flow, kind, required, world, env),
        None => Outcome::invalid(
            flow,
            names::SELECT_AUTHENTICATOR_ENROLL,
            values,
            vec![Notice::error("field.invalid").on("authenticator")],
        ),
    }
}

/// The enrolment step of `kind`.
pub(super) fn begin(
    mut flow: Flow,
    kind: AuthenticatorKind,
    required: bool,
    world: &World,
    env: &mut Env<'_>,
) -> Outcome {
    match kind {
        AuthenticatorKind::Passkey => {
            let c = passkey::ceremony(&flow, world, env);
            flow.step = Step::EnrollPasskey { ceremony: c.clone(), required };
            Outcome { effects: vec![Effect::BeginCeremony(c)], ..Outcome::new(flow) }
        }
        AuthenticatorKind::Password => {
            flow.step = Step::EnrollPassword { required };
            Outcome::new(flow)
        }
        AuthenticatorKind::Totp => totp::begin(flow, required, env),
        AuthenticatorKind::Email => unreachable!("email is never enrolled: it is the account's own"),
    }
}

/// `enroll-authenticator`: the new authenticator; once saved, the journey goes on as
/// after any proof.
pub(super) fn submit(flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let created = match flow.step {
        Step::EnrollPassword { .. } => password::create(flow, values, names::ENROLL_AUTHENTICATOR, env),
        Step::EnrollTotp { .. } => totp::create(flow, values, env),
        _ => passkey::create(flow, world, env),
    };
    match created {
        Made::Saved(flow, effects) => {
            let mut out = finish::signed_in(flow, SignIn::Fresh, world, env);
            out.effects.splice(0..0, effects);
            out
        }
        Made::Retry(retry) => retry,
    }
}

/// What making a new authenticator came to.
pub(super) enum Made {
    /// Saved by these effects, and proven in the flow.
    Saved(Flow, Vec<Effect>),
    /// Not made: show this (the step again, with what was wrong).
    Retry(Outcome),
}

/// The system log entry of a new authenticator.
fn activated(user_id: String, email: String, target: Target, kind: AuthenticatorKind, message: &str) -> Effect {
    Effect::Log(
        LogEntry::new(EventType::UserMfaFactorActivate, LogOutcome::Success, message)
            .reason(kind.key())
            .actor(user_id, email)
            .target(target)
            .credential(kind),
    )
}

/// `skip`: no authenticator now. Offered only while everything on offer is optional
/// (and the app's assurance does not need it), so the sign-on policy is already met.
/// Counted when the app limits how often it may be skipped.
pub(super) fn skip(flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    let skipped = on_offer(&flow.step);
    let counted = match (&flow.account, env.app.enrollment.skip_limit) {
        (Some(user_id), Some(_)) => {
            Some(Effect::EnrollmentSkipped { user_id: user_id.clone(), authenticators: skipped })
        }
        _ => None,
    };
    let mut out = finish::consent_or_complete(flow, world, env);
    out.effects.splice(0..0, counted);
    out
}
