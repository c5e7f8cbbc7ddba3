//! Which authenticators the person in a flow can prove, and which they could enrol:
//! the app's enrollment policy for their groups, and what their account has. Every
//! step that offers authenticators (identify, step-up, recovery, enrollment) asks
//! here, so the answer cannot differ from one step to the next.

use std::collections::BTreeSet;

use super::{Enrollment, Enrollments, Env, Flow, World};
use crate::authenticators::AuthenticatorKind;

/// The groups of the flow's person: the config file's (by email or domain) and the
/// store's (loaded with the account).
pub(super) fn groups(flow: &Flow, world: &World, env: &Env<'_>) -> BTreeSet<String> {
    let email = flow.subject.as_ref().map_or("", |s| s.email.as_str());
    let mut groups = env.settings.groups.of(email);
    if world.user.as_ref().is_some_and(|u| u.email == email) {
        groups.extend(world.groups.iter().cloned());
    }
    groups
}

/// The enrollment policy that applies to the flow's person (by their groups).
pub(super) fn enrollments<'e>(flow: &Flow, world: &World, env: &'e Env<'_>) -> &'e Enrollments {
    env.app.enrollment.for_groups(&groups(flow, world, env))
}

/// Whether the account has `kind` and this app accepts it. Email always: it is the
/// account's identifier, proven when the account was made.
pub(super) fn usable(kind: AuthenticatorKind, flow: &Flow, world: &World, env: &Env<'_>) -> bool {
    match kind {
        AuthenticatorKind::Email => true,
        AuthenticatorKind::Passkey => env.app.passkeys && world.passkeys > 0,
        AuthenticatorKind::Password => {
            world.password.is_some() && enrollments(flow, world, env).password != Enrollment::Off
        }
        // Whatever the app's policy: once set up, a second factor keeps working.
        AuthenticatorKind::Totp => world.totp.is_some(),
    }
}

/// Whether the person could enrol `kind` with this app.
pub(super) fn enrollable(kind: AuthenticatorKind, flow: &Flow, world: &World, env: &Env<'_>) -> bool {
    let policy = enrollments(flow, world, env).of(kind);
    match kind {
        AuthenticatorKind::Email => false,
        AuthenticatorKind::Passkey => env.app.passkeys && policy != Enrollment::Off,
        AuthenticatorKind::Password | AuthenticatorKind::Totp => policy != Enrollment::Off,
    }
}

/// Whether the account lacks `kind` (not enrolled, nor just made in this flow).
pub(super) fn lacks(kind: AuthenticatorKind, flow: &Flow, world: &World) -> bool {
    let has = match kind {
        AuthenticatorKind::Email => true,
        AuthenticatorKind::Passkey => world.passkeys > 0,
        AuthenticatorKind::Password => world.password.is_some(),
        AuthenticatorKind::Totp => world.totp.is_some(),
    };
    !has && !flow.has_proven(kind)
}
