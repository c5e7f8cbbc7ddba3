//! `delete-account`: the person deletes their account, having ticked the confirmation
//! and given a fresh proof. The same erasure as an operator's (GDPR): the account and
//! everything kept about it go, the system log keeps its id but not its address.

use passway_protocol::{FieldValue, Submission, names};

use super::{Pending, owner, sensitive};
use crate::engine::{Effect, Env, EventType, Flow, LogEntry, LogOutcome, Notice, Outcome, Step, Target, World};

/// What the log says in place of an erased account's address.
pub const ERASED: &str = "erased";

pub(super) fn ask(flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    if values.get("confirm") != Some(&FieldValue::Bool(true)) {
        let notices = vec![Notice::error("field.consent_required").on("confirm")];
        return Outcome::invalid(flow, names::DELETE_ACCOUNT, values, notices);
    }
    sensitive(flow, Pending::Delete, world, env)
}

pub(super) fn erase(mut flow: Flow, _world: &World, env: &mut Env<'_>) -> Outcome {
    let (user_id, email) = owner(&flow);
    let entry = LogEntry::new(EventType::UserLifecycleDelete, LogOutcome::Success, "Account deleted by its owner")
        .actor(user_id.clone(), ERASED)
        .target(Target::User { id: user_id.clone(), email: ERASED.into() });
    flow.step = Step::AccountDeleted;
    flow.session = None;
    let mut out = Outcome::new(flow);
    out.effects.push(Effect::EraseAccount { user_id, email, at: env.now });
    out.effects.push(Effect::Log(entry));
    out
}
