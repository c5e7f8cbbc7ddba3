//! `consent`: the person allows the app the requested scopes, or does not. Allowing is
//! remembered for the account and app, so the question is asked again only for scopes
//! not yet allowed (or with `prompt=consent`).

use passway_protocol::{Submission, names};

use super::{Effect, Env, EventType, Flow, LogEntry, LogOutcome, Notice, Outcome, Reply, Step, World, finish, text_of};

pub const ALLOW: &str = "allow";
pub const DENY: &str = "deny";

pub(super) fn submit(mut flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let user_id = flow.account.clone().expect("consent follows sign-in");
    let email = flow.subject.as_ref().map(|s| s.email.clone()).unwrap_or_default();
    let log = |event_type, outcome, message: &str| {
        Effect::Log(
            LogEntry::new(event_type, outcome, message)
                .reason(flow.request.scope.clone())
                .actor(user_id.clone(), email.clone())
                .debug("scope", flow.request.scope.clone()),
        )
    };
    match text_of(values, "decision") {
        ALLOW => {
            let remember = Effect::RememberConsent {
                user_id: user_id.clone(),
                client_id: flow.client_id.clone(),
                scope: flow.request.scope.clone(),
            };
            let logged = log(EventType::ConsentGrant, LogOutcome::Success, "Consent granted");
            let mut out = finish::complete(flow, world, env);
            out.effects.splice(0..0, [remember, logged]);
            out
        }
        DENY => {
            let logged = log(EventType::ConsentDeny, LogOutcome::Failure, "Consent refused");
            flow.step = Step::Completed;
            Outcome { effects: vec![logged], reply: Reply::Denied, ..Outcome::new(flow) }
        }
        _ => Outcome::invalid(flow, names::CONSENT, values, vec![Notice::error("field.invalid").on("decision")]),
    }
}
