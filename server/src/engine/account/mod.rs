//! The account page (intent `account`): a signed-in person sees and changes their own
//! account — profile attributes, passkeys, authenticator app, password, sessions — or
//! deletes it. Without a live session, the flow signs them in first, through the app's
//! sign-on policy like any sign-in; every proof or enrolment then comes back here
//! ([`arrived`]) instead of ending in a code.
//!
//! Sensitive changes (adding or removing an authenticator, changing the password,
//! deleting the account) need a proof from the last [`FRESH`] minutes: without one the
//! change waits in the flow (`Flow::pending`) while the same step-up as a sign-on policy
//! asks for a proof, and is made once it is given.
//!
//! One file per change: `profile.rs`, `authenticators.rs` (add, remove, rename),
//! `sessions.rs`, `delete.rs`.

mod authenticators;
mod delete;
mod profile;
mod sessions;

use std::collections::BTreeMap;
use std::time::Duration;

use passway_protocol::{Submission, names};
use serde::{Deserialize, Serialize};

use super::{Env, Flow, Outcome, Reply, Step, Timestamp, World, finish, sign_on};
use crate::authenticators::AuthenticatorKind;
use crate::policy::Assurance;

pub use authenticators::removable;
pub use delete::ERASED;

/// How recent a proof must be for a sensitive change.
pub const FRESH: Duration = Duration::from_secs(5 * 60);

/// What the account page shows, as of the step that drew it (what a submission is
/// checked against).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountHome {
    pub passkeys: Vec<PasskeyItem>,
    pub totp: bool,
    pub password: bool,
    /// The account's other live sessions (this browser's is the flow's own).
    pub sessions: Vec<SessionItem>,
    pub profile: BTreeMap<String, String>,
    /// What may be added (the app's enrollment policy).
    pub addable: Vec<AuthenticatorKind>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyItem {
    pub cred_id: String,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    /// Backup eligible (synced to the person's other devices), when known.
    pub synced: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionItem {
    pub id: String,
    /// e.g. "Chrome on Linux".
    pub browser: String,
    pub ip: String,
    pub last_seen_at: Timestamp,
}

/// What the shell loads for an account flow besides the account.
#[derive(Debug, Clone, Default)]
pub struct AccountFacts {
    pub passkeys: Vec<PasskeyItem>,
    /// Its live sessions, this browser's among them while it lasts.
    pub sessions: Vec<SessionItem>,
}

/// A sensitive change waiting for a fresh proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pending {
    Enroll(AuthenticatorKind),
    /// An authenticator by the value offered (a passkey's credential id, `totp`, `password`).
    Remove(String),
    Delete,
}

/// The person is signed in (just now, or by a session): open or keep the session, make
/// the change that waited for this proof, and show the account.
pub(super) fn arrived(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    let opened = finish::open_session(&mut flow, world, env);
    let pending = flow.pending.take();
    let mut out = match pending {
        Some(change) if fresh(&flow, env) => apply(flow, change, world, env),
        _ => home(flow, world, env),
    };
    // A session this proof replaced is not one of "the others".
    let ended: Vec<&str> = opened
        .effects
        .iter()
        .filter_map(|e| match e {
            super::Effect::EndSession { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    if let Step::Account(h) = &mut out.flow.step {
        h.sessions.retain(|s| !ended.contains(&s.id.as_str()));
    }
    out.effects.splice(0..0, opened.effects);
    if opened.cookie.is_some() {
        out.reply = Reply::SignedIn { session: opened.cookie };
    }
    out
}

/// What the step just added (an authenticator made in an enrolment that came back to
/// the page) is on the page it shows: the shell loaded the account before the step.
pub(super) fn reflect(out: &mut Outcome) {
    let Step::Account(home) = &mut out.flow.step else { return };
    for effect in &out.effects {
        match effect {
            super::Effect::SavePasskey(p) => {
                home.passkeys.push(PasskeyItem {
                    cred_id: p.cred_id.clone(),
                    name: p.name.clone(),
                    created_at: p.created_at,
                    last_used_at: None,
                    synced: crate::authenticators::passkey::synced(&p.passkey),
                });
            }
            super::Effect::SaveTotp { .. } => home.totp = true,
            super::Effect::SetPassword { .. } => home.password = true,
            _ => {}
        }
    }
}

/// The account page, drawn from what the shell loaded.
pub(super) fn home(mut flow: Flow, world: &World, env: &Env<'_>) -> Outcome {
    flow.step = Step::Account(Box::new(snapshot(&flow, world, env)));
    Outcome::new(flow)
}

fn snapshot(flow: &Flow, world: &World, env: &Env<'_>) -> AccountHome {
    AccountHome {
        addable: authenticators::addable(flow, world, env),
        passkeys: world.account.passkeys.clone(),
        totp: world.totp.is_some(),
        password: world.password.is_some(),
        sessions: world.account.sessions.iter().filter(|s| flow.session.as_ref() != Some(&s.id)).cloned().collect(),
        profile: world.user.as_ref().map(|u| u.profile.clone()).unwrap_or_default(),
    }
}

/// A submission on the account page. Only while the session it was opened with lasts
/// and the account may sign in: signed out elsewhere (by its owner or an operator) or
/// deactivated, the page signs in again first.
pub(super) fn submit(flow: Flow, remediation: &str, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let live = flow.session.as_ref().is_some_and(|id| world.account.sessions.iter().any(|s| &s.id == id));
    if !live || world.deactivated {
        return super::identify::restart(flow, env).notice(super::Notice::error("account.session_ended"));
    }
    match remediation {
        names::UPDATE_PROFILE => profile::update(flow, values, world, env),
        names::SELECT_AUTHENTICATOR_ENROLL => authenticators::add(flow, values, world, env),
        names::REMOVE_AUTHENTICATOR => authenticators::remove(flow, values, world, env),
        names::RENAME_AUTHENTICATOR => authenticators::rename(flow, values, world, env),
        names::END_SESSION => sessions::end_one(flow, values, world, env),
        names::END_OTHER_SESSIONS => sessions::end_others(flow, world, env),
        names::DELETE_ACCOUNT => delete::ask(flow, values, world, env),
        other => unreachable!("the account page offers no `{other}`"),
    }
}

/// Whether the flow holds a proof from the last [`FRESH`] minutes.
fn fresh(flow: &Flow, env: &Env<'_>) -> bool {
    flow.proofs.iter().any(|p| env.now < p.at.plus(FRESH))
}

/// Makes `change` now if the last proof is fresh; else keeps it and asks for a proof
/// (the sign-on step-up, with freshness as the assurance).
fn sensitive(mut flow: Flow, change: Pending, world: &World, env: &mut Env<'_>) -> Outcome {
    if fresh(&flow, env) {
        return apply(flow, change, world, env);
    }
    let required = Assurance { reauthenticate_after: Some(FRESH), ..Assurance::default() };
    let Some(gap) = required.gap(&flow.proofs, env.now) else { return apply(flow, change, world, env) };
    flow.pending = Some(change);
    sign_on::step_up(flow, "account: a recent proof".into(), &required, gap, world, env)
}

fn apply(flow: Flow, change: Pending, world: &World, env: &mut Env<'_>) -> Outcome {
    match change {
        Pending::Enroll(kind) => authenticators::begin_enrolment(flow, kind, world, env),
        Pending::Remove(which) => authenticators::remove_now(flow, &which, world, env),
        Pending::Delete => delete::erase(flow, world, env),
    }
}

/// The signed-in account's id and email (an account flow is past sign-in).
fn owner(flow: &Flow) -> (String, String) {
    let id = flow.account.clone().expect("the account page is signed in");
    let email = flow.subject.as_ref().map(|s| s.email.clone()).unwrap_or_default();
    (id, email)
}

/// The home snapshot the flow shows.
fn shown(flow: &Flow) -> &AccountHome {
    match &flow.step {
        Step::Account(home) => home,
        _ => unreachable!("offered on the account page only"),
    }
}
