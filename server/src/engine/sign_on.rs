//! The app's sign-on policy, applied once the person is known and has proven something:
//! deny, step up (ask only for what the assurance still lacks), or let them through.
//! The same check runs when an SSO session is resumed, so a session too weak for this
//! app gets a step-up rather than a fresh sign-in.

use super::{Effect, Env, EventType, Flow, LogEntry, LogOutcome, Notice, Outcome, Severity, Step, World};
use super::{challenge, enroll, methods};
use crate::authenticators::AuthenticatorKind;
use crate::authenticators::email::Purpose;
use crate::policy::{Access, Acr, Assurance, Context, Gap};

/// What the policy says about the flow as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Deny {
        rule: String,
    },
    /// An operator deactivated the account: whatever the rules say.
    Deactivated,
    StepUp {
        rule: String,
        required: Assurance,
        gap: Gap,
    },
}

/// The facts the app's rules are evaluated against.
pub fn context(flow: &Flow, world: &World, env: &Env<'_>) -> Context {
    Context {
        groups: methods::groups(flow, world, env),
        ip: flow.requester.ip.parse().ok(),
        new_device: world.new_device,
        platform: flow.requester.platform,
        risk: flow.requester.risk,
    }
}

/// The assurance the flow needs: the matching rule's, raised by `acr_values`.
pub fn verdict(flow: &Flow, world: &World, env: &Env<'_>) -> Verdict {
    if world.deactivated {
        return Verdict::Deactivated;
    }
    let decision = env.app.sign_on.decide(&context(flow, world, env), &env.settings.zones);
    let rule = decision.rule.name.clone();
    match &decision.rule.access {
        Access::Deny => Verdict::Deny { rule },
        Access::Anyone => Verdict::Allow,
        Access::Allow(assurance) => {
            let required = required(assurance, flow);
            match required.gap(&flow.proofs, env.now) {
                None => Verdict::Allow,
                Some(gap) => Verdict::StepUp { rule, required, gap },
            }
        }
    }
}

/// Whether the app lets this request in without anyone signing in (the rule that
/// applies before the person is known says `anyone`).
pub fn lets_anyone_in(flow: &Flow, world: &World, env: &Env<'_>) -> Option<String> {
    let decision = env.app.sign_on.decide(&context(flow, world, env), &env.settings.zones);
    (decision.rule.access == Access::Anyone).then(|| decision.rule.name.clone())
}

/// The app's inactivity period for the flow's person, if its rule sets one.
pub fn inactivity(flow: &Flow, world: &World, env: &Env<'_>) -> Option<std::time::Duration> {
    match &env.app.sign_on.decide(&context(flow, world, env), &env.settings.zones).rule.access {
        Access::Allow(assurance) => assurance.inactivity,
        Access::Deny | Access::Anyone => None,
    }
}

/// The rule's assurance and the class the client asked for, whichever is stricter.
pub fn required(rule: &Assurance, flow: &Flow) -> Assurance {
    match Acr::requested(flow.request.acr_values.as_deref()) {
        Some(acr) => rule.and(&acr.assurance()),
        None => rule.clone(),
    }
}

/// The flow ends here for this person: say so, and log it.
pub(super) fn deny(mut flow: Flow, rule: String) -> Outcome {
    let actor = actor(&flow);
    flow.step = Step::Denied { rule: rule.clone() };
    let mut out = Outcome::new(flow);
    let mut entry = LogEntry::new(EventType::PolicyEvaluateSignOn, LogOutcome::Deny, "Sign-on policy denied access")
        .reason(format!("rule \"{rule}\" denies access"))
        .debug("rule", rule.clone());
    entry.actor = actor;
    out.effects.push(Effect::Log(entry));
    out
}

/// The account may not sign in anywhere: the flow ends as a denial (the person sees
/// the same page as for a rule), and the log says why.
pub(super) fn deactivated(mut flow: Flow) -> Outcome {
    let actor = actor(&flow);
    flow.step = Step::Denied { rule: "deactivated".into() };
    let mut out = Outcome::new(flow);
    let mut entry = LogEntry::new(EventType::PolicyEvaluateSignOn, LogOutcome::Deny, "Sign-in refused")
        .reason("the account is deactivated");
    entry.actor = actor;
    out.effects.push(Effect::Log(entry));
    out
}

/// Asks for an authenticator that closes (part of) `gap`: one the account has, else one
/// to enrol (a passkey, a password) when that would do and the app allows it; else
/// access is denied.
pub(super) fn step_up(
    mut flow: Flow,
    rule: String,
    required: &Assurance,
    gap: Gap,
    world: &World,
    env: &mut Env<'_>,
) -> Outcome {
    let fresh = required.fresh(&flow.proofs, env.now);
    let closes = |kind| gap.closed_by(kind, &fresh);
    let available: Vec<AuthenticatorKind> =
        STEP_UP_ORDER.into_iter().filter(|k| methods::usable(*k, &flow, world, env) && closes(*k)).collect();
    // Else one to enrol, when the enrollment policy allows it.
    let enrollable: Vec<AuthenticatorKind> = STEP_UP_ORDER
        .into_iter()
        .filter(|k| methods::enrollable(*k, &flow, world, env) && methods::lacks(*k, &flow, world) && closes(*k))
        .collect();
    let mut entry =
        LogEntry::new(EventType::PolicyEvaluateSignOn, LogOutcome::Challenge, "Sign-on policy asks for more")
            .reason(format!("rule \"{rule}\" needs {}", gap.describe()))
            .severity(Severity::Info)
            .debug("rule", rule.clone());
    entry.actor = actor(&flow);
    let log = Effect::Log(entry);
    let mut out = match available.first() {
        Some(&kind) => {
            flow.authenticators = available.clone();
            let user_id = flow.account.clone().expect("a step-up follows sign-in");
            challenge::begin(flow, kind, Some(&user_id), Purpose::SignIn, world, env)
        }
        None if !enrollable.is_empty() => enroll::offer(flow, true, enrollable, world, env),
        None => return deny(flow, rule),
    };
    out.effects.insert(0, log);
    out.notice(Notice::info("policy.step_up"))
}

/// Strongest first: what a step-up asks for when several would do.
const STEP_UP_ORDER: [AuthenticatorKind; 4] =
    [AuthenticatorKind::Passkey, AuthenticatorKind::Totp, AuthenticatorKind::Password, AuthenticatorKind::Email];

fn actor(flow: &Flow) -> Option<(String, String)> {
    Some((flow.account.clone()?, flow.subject.as_ref()?.email.clone()))
}
