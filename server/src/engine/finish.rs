//! The end of a journey, once the person is signed in: the enrollment policy, then
//! consent, then an authorization code bound to the flow's request and an SSO session.

use super::{
    Effect, Env, EventType, Flow, Grant, IssuedCode, LogEntry, LogOutcome, NewSession, Outcome, Reply, Step, Target,
    World,
};
use super::{enroll, profile_update, session_policy, sign_on};
use crate::crypto::{random_token, sha256};
use passway_protocol::Intent;

/// How the person got here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SignIn {
    /// Proved an authenticator in this flow.
    Fresh,
    /// Resumed an SSO session: an optional enrollment offer is not repeated.
    Session,
}

/// After sign-in: the app's sign-on policy (deny, or step up to its assurance), then the
/// profile attributes the app needs and the profile lacks, then the authenticators the
/// enrollment policy wants, then consent or success.
pub(super) fn signed_in(flow: Flow, how: SignIn, world: &World, env: &mut Env<'_>) -> Outcome {
    match sign_on::verdict(&flow, world, env) {
        sign_on::Verdict::Allow => {}
        sign_on::Verdict::Deny { rule } => return sign_on::deny(flow, rule),
        sign_on::Verdict::Deactivated => return sign_on::deactivated(flow),
        sign_on::Verdict::StepUp { rule, required, gap } => {
            return sign_on::step_up(flow, rule, &required, gap, world, env);
        }
    }
    let mut flow = match session_policy::establish(flow, world, env) {
        Ok(flow) => flow,
        Err(ask) => return *ask,
    };
    // The account page asks for nothing more: it is where the person wanted to be.
    if flow.intent == Intent::Account {
        return complete(flow, world, env);
    }
    let attributes = profile_update::to_ask(&flow, world, env);
    if !attributes.is_empty() {
        flow.step = Step::EnrollProfileUpdate { attributes };
        return Outcome::new(flow);
    }
    let pending = enroll::pending(&flow, world, env, how);
    if !pending.is_empty() {
        // Required ones first, alone: `skip` only once all that is left is optional.
        let required = pending.iter().any(|(_, required)| *required);
        let options = pending.iter().filter(|(_, r)| *r == required).map(|(kind, _)| *kind).collect();
        return enroll::offer(flow, required, options, world, env);
    }
    consent_or_complete(flow, world, env)
}

/// Asks for consent when the app wants it and the account has not already allowed
/// every requested scope (or `prompt=consent`); else success.
pub(super) fn consent_or_complete(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    if needs_consent(&flow, world, env) {
        flow.step = Step::Consent;
        return Outcome::new(flow);
    }
    complete(flow, world, env)
}

pub(super) fn needs_consent(flow: &Flow, world: &World, env: &Env<'_>) -> bool {
    if flow.request.prompt.consent {
        return true;
    }
    if !env.app.consent {
        return false;
    }
    let allowed: Vec<&str> = world.consent.as_deref().unwrap_or("").split(' ').collect();
    world.consent.is_none() || !flow.request.scope.split(' ').all(|s| allowed.contains(&s))
}

/// The SSO session a sign-in belongs to, opened or continued.
pub(super) struct Opened {
    /// Ending a replaced session, and opening or touching this one.
    pub effects: Vec<Effect>,
    /// The new session cookie's value, when one was opened.
    pub cookie: Option<String>,
}

/// Opens (or continues) the SSO session of the flow's account. A session that gained
/// proofs here is replaced, not touched: whoever might have learnt the old cookie does
/// not inherit the stronger session (session fixation).
pub(super) fn open_session(flow: &mut Flow, world: &World, env: &mut Env<'_>) -> Opened {
    let user_id = flow.account.clone().expect("an account is proven before a session");
    let stepped_up = flow.session.is_some() && flow.proofs != flow.resumed_proofs;
    let mut effects = vec![];
    if stepped_up && let Some(id) = flow.session.take() {
        effects.push(Effect::EndSession { id, at: env.now });
    }
    let cookie = match &flow.session {
        Some(id) => {
            effects.push(Effect::TouchSession { id: id.clone(), proofs: flow.proofs.clone() });
            None
        }
        None => {
            let secret = random_token(env.rng, 32);
            let id = crate::crypto::ordered_id(env.now.0, env.rng);
            flow.session = Some(id.clone());
            effects.push(Effect::StartSession(NewSession {
                id,
                secret_hash: sha256(secret.as_bytes()),
                user_id: user_id.clone(),
                proofs: flow.proofs.clone(),
                expires_at: env.now.plus(session_policy::rule(flow, world, env).lifetime),
                browser: flow.requester.browser.clone(),
                ip: flow.requester.ip.clone(),
            }));
            Some(secret)
        }
    };
    // What was proven so far is what the session holds from now on.
    flow.resumed_proofs = flow.proofs.clone();
    if let Some(device) = flow.requester.device.filter(|_| env.settings.remember_devices) {
        effects.push(Effect::RememberDevice { user_id, device, at: env.now });
    }
    Opened { effects, cookie }
}

/// Issues the authorization code for the flow's account, and opens (or continues)
/// the SSO session it belongs to.
pub(super) fn complete(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    if flow.intent == Intent::Account {
        return super::account::arrived(flow, world, env);
    }
    let user_id = flow.account.clone().expect("an account is proven before completion");
    let email = flow.subject.as_ref().map(|s| s.email.clone()).unwrap_or_default();
    let code = random_token(env.rng, 32);
    let mut amr: Vec<String> = vec![];
    for proof in &flow.proofs {
        let method = proof.authenticator.characteristics().amr.to_owned();
        if !amr.contains(&method) {
            amr.push(method);
        }
    }
    let auth_time = flow.proofs.iter().map(|p| p.at).max().unwrap_or(env.now);
    let opened = open_session(&mut flow, world, env);
    let cookie = opened.cookie;
    let grant = Grant {
        client_id: flow.client_id.clone(),
        user_id: user_id.clone(),
        redirect_uri: flow.request.redirect_uri.clone(),
        scope: flow.request.scope.clone(),
        nonce: flow.request.nonce.clone(),
        code_challenge: flow.request.code_challenge.clone(),
        auth_time,
        amr,
        proofs: flow.proofs.clone(),
        expires_at: env.now.plus(env.settings.code_lifetime),
        session_id: flow.session.clone(),
        acr_values: flow.request.acr_values.clone(),
        resource: flow.request.resource.clone(),
        refresh_until: None,
    };
    let (scope, amr_used, session_id) = (grant.scope.clone(), grant.amr.join(" "), grant.session_id.clone());
    let (event_type, message) = match cookie {
        Some(_) => (EventType::UserSessionStart, "User signed in"),
        None => (EventType::UserAuthenticationSso, "User signed in with an existing session"),
    };
    flow.step = Step::Completed;
    let mut out = Outcome::new(flow);
    out.effects.extend(opened.effects);
    out.effects.push(Effect::IssueCode(Box::new(IssuedCode { code_hash: sha256(code.as_bytes()), grant })));
    let mut entry = LogEntry::new(event_type, LogOutcome::Success, message)
        .actor(user_id, email)
        .debug("scope", scope)
        .debug("amr", amr_used);
    if let Some(session) = session_id {
        entry = entry.target(Target::Session { id: session });
    }
    out.effects.push(Effect::Log(entry));
    out.reply = Reply::Success { code, session: cookie };
    out
}

/// The prefix of a guest's `sub`: tokens for no account.
pub const GUEST_PREFIX: &str = "guest-";

/// Whether `user_id` names an anonymous guest rather than an account.
pub fn is_guest(user_id: &str) -> bool {
    user_id.starts_with(GUEST_PREFIX)
}

/// An app that lets anyone in, and nobody signed in: a code for an anonymous guest at
/// once. Its `sub` is a pseudonym of the browser for this app (the same browser gets
/// the same one, another app another), it has no profile, no session, no refresh
/// token, and the scope is narrowed to `openid`.
pub(super) fn guest(mut flow: Flow, rule: String, env: &mut Env<'_>) -> Outcome {
    let browser = match &flow.requester.device {
        Some(device) => device.0.to_vec(),
        None => flow.id.as_bytes().to_vec(),
    };
    let pseudonym = env.keys.mac(&[b"guest", flow.client_id.as_bytes(), &browser]);
    let user_id = format!("{GUEST_PREFIX}{}", crate::crypto::b64url(&pseudonym.0[..16]));
    let code = random_token(env.rng, 32);
    let grant = Grant {
        client_id: flow.client_id.clone(),
        user_id: user_id.clone(),
        redirect_uri: flow.request.redirect_uri.clone(),
        scope: "openid".into(),
        nonce: flow.request.nonce.clone(),
        code_challenge: flow.request.code_challenge.clone(),
        auth_time: env.now,
        amr: vec![],
        proofs: vec![],
        expires_at: env.now.plus(env.settings.code_lifetime),
        session_id: None,
        acr_values: flow.request.acr_values.clone(),
        resource: flow.request.resource.clone(),
        refresh_until: None,
    };
    flow.account = Some(user_id);
    flow.step = Step::Completed;
    let mut out = Outcome::new(flow);
    out.effects.push(Effect::IssueCode(Box::new(IssuedCode { code_hash: sha256(code.as_bytes()), grant })));
    out.effects.push(Effect::Log(
        LogEntry::new(EventType::UserAuthenticationAnonymous, LogOutcome::Success, "Guest let in without signing in")
            .reason(format!("rule \"{rule}\" lets anyone in"))
            .debug("rule", rule),
    ));
    out.reply = Reply::Success { code, session: None };
    out
}
