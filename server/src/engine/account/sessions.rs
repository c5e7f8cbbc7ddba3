//! Sessions on the account page: sign out one other browser (`end-session`), or every
//! one but this (`end-other-sessions`). Signing out protects the account, so it needs
//! no fresh proof.

use passway_protocol::{Submission, names};

use super::{home, owner, shown};
use crate::engine::{
    Effect, Env, EventType, Flow, LogEntry, LogOutcome, Notice, Outcome, Step, Target, World, text_of,
};

pub(super) fn end_one(flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let id = text_of(values, "session").to_owned();
    if !shown(&flow).sessions.iter().any(|s| s.id == id) {
        return Outcome::invalid(flow, names::END_SESSION, values, vec![Notice::error("field.invalid").on("session")]);
    }
    let (user_id, email) = owner(&flow);
    let entry =
        LogEntry::new(EventType::UserSessionClear, LogOutcome::Success, "Signed out a session on the account page")
            .actor(user_id, email)
            .target(Target::Session { id: id.clone() });
    let mut out = home(flow, world, env);
    if let Step::Account(h) = &mut out.flow.step {
        h.sessions.retain(|s| s.id != id);
    }
    out.effects.push(Effect::EndSession { id, at: env.now });
    out.effects.push(Effect::Log(entry));
    out.notice(Notice::info("account.signed_out"))
}

pub(super) fn end_others(flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    let (user_id, email) = owner(&flow);
    let entry = LogEntry::new(EventType::UserSessionClear, LogOutcome::Success, "Signed out everywhere else")
        .actor(user_id.clone(), email);
    let keep = flow.session.clone();
    let mut out = home(flow, world, env);
    if let Step::Account(h) = &mut out.flow.step {
        h.sessions.clear();
    }
    out.effects.push(Effect::EndOtherSessions { user_id, keep, at: env.now });
    out.effects.push(Effect::Log(entry));
    out.notice(Notice::info("account.signed_out_others"))
}
