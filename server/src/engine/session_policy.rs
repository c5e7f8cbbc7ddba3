//! The global session policy, applied: how long the flow's session lives and idles,
//! and, before a new session starts, that it is started with an authenticator the
//! policy allows (e.g. `establish_with = ["passkey", "password"]`: an email link alone
//! signs no one in) — otherwise the person is asked for one, as in a step-up.

use super::{Effect, Env, EventType, Flow, LogEntry, LogOutcome, Notice, Outcome, Severity, World};
use super::{challenge, enroll, methods, sign_on};
use crate::authenticators::AuthenticatorKind;
use crate::authenticators::email::Purpose;
use crate::policy::SessionRule;

/// The rule for the flow's person and request.
pub(super) fn rule<'e>(flow: &Flow, world: &World, env: &'e Env<'_>) -> &'e SessionRule {
    env.settings.sessions.decide(&sign_on::context(flow, world, env), &env.settings.zones)
}

/// The flow, when its proofs may start a session; else what to ask for first.
pub(super) fn establish(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Result<Flow, Box<Outcome>> {
    let rule = rule(&flow, world, env);
    if flow.session.is_some() || rule.established_by(&flow.proofs) {
        return Ok(flow);
    }
    let (name, allowed) = (rule.name.clone(), rule.establish_with.clone());
    let usable: Vec<AuthenticatorKind> =
        allowed.iter().copied().filter(|k| methods::usable(*k, &flow, world, env)).collect();
    let enrollable: Vec<AuthenticatorKind> = allowed
        .iter()
        .copied()
        .filter(|k| methods::enrollable(*k, &flow, world, env) && methods::lacks(*k, &flow, world))
        .collect();
    let log = |outcome, message: &str| {
        let mut entry = LogEntry::new(EventType::PolicyEvaluateSession, outcome, message)
            .reason(format!("session rule \"{name}\" starts sessions only with {}", keys(&allowed)))
            .severity(if outcome == LogOutcome::Deny { Severity::Warn } else { Severity::Info })
            .debug("rule", name.to_string());
        entry.actor = flow.account.clone().zip(flow.subject.as_ref().map(|s| s.email.clone()));
        Effect::Log(entry)
    };
    let log = if usable.is_empty() && enrollable.is_empty() {
        log(LogOutcome::Deny, "Session policy refused to start a session")
    } else {
        log(LogOutcome::Challenge, "Session policy asks for another authenticator")
    };
    let mut out = match usable.first() {
        Some(&kind) => {
            flow.authenticators = usable.clone();
            let user_id = flow.account.clone();
            challenge::begin(flow, kind, user_id.as_deref(), Purpose::SignIn, world, env)
        }
        None if !enrollable.is_empty() => enroll::offer(flow, true, enrollable, world, env),
        None => sign_on::deny(flow, name.clone()),
    };
    out.effects.insert(0, log);
    Err(Box::new(out.notice(Notice::info("policy.step_up"))))
}

fn keys(kinds: &[AuthenticatorKind]) -> String {
    kinds.iter().map(|k| k.key()).collect::<Vec<_>>().join(" or ")
}
