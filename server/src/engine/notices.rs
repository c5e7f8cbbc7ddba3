//! Notices about an account — welcome, a sign-in from a new browser, a password
//! changed, an authenticator added or removed, sign-in paused by a lockout — decided from what a
//! step did, in one place, after the step. The shell sends the email when the app has
//! that notice on (`[[apps]] emails`), in the step's own commit.

use super::{AccountNotice, Effect, EventType, Outcome, Step, World};
use crate::authenticators::AuthenticatorKind;

/// The notices `out` calls for, a step that started at `before` having made it.
pub(super) fn due(before: &Step, out: &Outcome, world: &World, lockout_minutes: u64) -> Vec<Effect> {
    let to = |email: Option<&str>| email.map(str::to_owned);
    let subject = to(out.flow.subject.as_ref().map(|s| s.email.as_str()));
    let mut notices = vec![];
    let mut notify = |to: Option<String>, notice| {
        if let Some(to) = to {
            notices.push(Effect::Notify { to, notice });
        }
    };
    let mut signed_in = false;
    for effect in &out.effects {
        match effect {
            Effect::CreateUser(user) => notify(Some(user.email.clone()), AccountNotice::Welcome),
            Effect::SavePasskey(_) => {
                notify(subject.clone(), AccountNotice::AuthenticatorAdded(AuthenticatorKind::Passkey))
            }
            Effect::SaveTotp { .. } => {
                notify(subject.clone(), AccountNotice::AuthenticatorAdded(AuthenticatorKind::Totp))
            }
            // A password chosen or reset; not one an old system verified (an import).
            Effect::SetPassword { .. } => match before {
                // Reset, or replaced on the account page.
                Step::ResetPassword => notify(subject.clone(), AccountNotice::PasswordChanged),
                Step::EnrollPassword { .. } if world.password.is_some() => {
                    notify(subject.clone(), AccountNotice::PasswordChanged)
                }
                Step::EnrollPassword { .. } => {
                    notify(subject.clone(), AccountNotice::AuthenticatorAdded(AuthenticatorKind::Password))
                }
                _ => {}
            },
            Effect::RemoveAuthenticator { kind, .. } => {
                notify(subject.clone(), AccountNotice::AuthenticatorRemoved(*kind))
            }
            Effect::RemoveOldPasskeys { .. } => {
                notify(subject.clone(), AccountNotice::AuthenticatorRemoved(AuthenticatorKind::Passkey))
            }
            Effect::StartSession(_) => signed_in = true,
            // Only an account hears of it: an address without one gets nothing.
            Effect::Log(entry) if entry.event_type == EventType::UserAccountLock && world.user.is_some() => {
                if let Some(kind) = entry.credential {
                    notify(subject.clone(), AccountNotice::Locked { kind, minutes: lockout_minutes });
                }
            }
            _ => {}
        }
    }
    // A new sign-in (not a session reused) from a browser the account had not used; not
    // the sign-in that created the account.
    let created = out.effects.iter().any(|e| matches!(e, Effect::CreateUser(_)));
    if signed_in && !created && world.new_device == Some(true) {
        notify(subject, AccountNotice::NewDevice);
    }
    notices
}
