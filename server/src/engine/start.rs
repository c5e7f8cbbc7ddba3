use passway_protocol::Intent;

use super::finish::{self, SignIn};
use super::{AuthRequest, Env, Flow, Origin, Outcome, Proof, Requester, Step, Subject, Timestamp, User, World};
use std::time::Duration;

use super::{identify, recover, session_policy, sign_on, validate};
use crate::crypto::{Digest, random_token, sha256};

/// A validated request to start a flow.
#[derive(Debug, Clone)]
pub struct NewFlow {
    pub client_id: String,
    pub intent: Intent,
    pub origin: Origin,
    pub request: AuthRequest,
    pub requester: Requester,
    /// An operator invited this address (an invitation link): the flow registers it,
    /// and only it, even in an app that takes no sign-ups.
    pub invited: Option<String>,
}

/// A live SSO session of the browser, as the shell loaded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub user: User,
    /// The authenticators proven in it, and when.
    pub proofs: Vec<Proof>,
    pub last_seen_at: Timestamp,
}

/// A new flow and its bearer handle; the handle is given to the client once and only
/// its digest is kept.
#[derive(Debug, Clone)]
pub struct Started {
    pub handle: String,
    pub handle_hash: Digest,
    /// The flow and what starting asks of the world: a passkey autofill ceremony, or —
    /// resumed from a session — consent, enrollment or at once success.
    pub outcome: Outcome,
}

/// Starts a flow. With a `session` the request lets us reuse (`world` then describes
/// its account), the person is not asked to sign in again.
pub fn start(new: NewFlow, session: Option<&Session>, world: &World, env: &mut Env<'_>) -> Started {
    let handle = random_token(env.rng, 32);
    let id = crate::crypto::ordered_id(env.now.0, env.rng);
    let step = match new.intent {
        // An app that takes no sign-ups signs in, whatever the client asked.
        Intent::Register if env.app.self_registration || new.invited.is_some() => Step::EnrollProfile,
        Intent::Register => Step::Identify,
        // Recovery resets a password or a passkey; an app with neither signs in by email.
        Intent::Recover if recover::offered(env.app) => Step::IdentifyRecovery,
        Intent::Login | Intent::Recover | Intent::Account => Step::Identify,
    };
    // The account page signs in first, and stays the account page.
    let intent = if step == Step::Identify && new.intent != Intent::Account { Intent::Login } else { new.intent };
    // A login hint that is an email pre-fills the identifier; it proves nothing.
    let hint = new.invited.as_deref().or(new.request.login_hint.as_deref());
    let subject = hint.and_then(|hint| validate::email(hint).ok()).map(|email| Subject { email });
    let asked = new.intent;
    let mut flow = Flow::new(id, new, step, env.now, env.now.plus(env.settings.flow_lifetime));
    flow.intent = intent;
    flow.subject = subject;
    let handle_hash = sha256(handle.as_bytes());
    let resumes = matches!(asked, Intent::Login | Intent::Account);
    if let Some(s) = session.filter(|s| resumes && reusable(s, &flow, world, env)) {
        flow.subject = Some(Subject { email: s.user.email.clone() });
        flow.account = Some(s.user.id.clone());
        flow.proofs = s.proofs.clone();
        flow.resumed_proofs = s.proofs.clone();
        flow.session = Some(s.id.clone());
        let outcome = finish::signed_in(flow, SignIn::Session, world, env);
        return Started { handle, handle_hash, outcome };
    }
    if asked == Intent::Login
        && !flow.request.prompt.login
        && let Some(rule) = sign_on::lets_anyone_in(&flow, world, env)
    {
        let outcome = finish::guest(flow, rule, env);
        return Started { handle, handle_hash, outcome };
    }
    let effects =
        if flow.step == Step::Identify { identify::offer_autofill(&mut flow, env.app, env.rng) } else { vec![] };
    Started { handle, handle_hash, outcome: Outcome { effects, ..Outcome::new(flow) } }
}

/// Whether `session` may sign the person in for this request without asking: not with
/// `prompt=login`, not once idle longer than the session policy allows, nor longer than
/// the app's inactivity period, not when its last authentication is older than
/// `max_age`, not when `login_hint` names someone else.
pub fn reusable(session: &Session, flow: &Flow, world: &World, env: &Env<'_>) -> bool {
    let request: &AuthRequest = &flow.request;
    let Some(auth_time) = session.proofs.iter().map(|p| p.at).max() else { return false };
    // The policies apply to the session's person.
    let probe = Flow { subject: Some(Subject { email: session.user.email.clone() }), ..flow.clone() };
    let unused = |limit: Duration| env.now >= session.last_seen_at.plus(limit);
    let idle = unused(session_policy::rule(&probe, world, env).idle);
    let inactive = sign_on::inactivity(&probe, world, env).is_some_and(unused);
    let too_old = request.max_age.is_some_and(|max_age| env.now > auth_time.plus(Duration::from_secs(max_age)));
    let someone_else = flow.subject.as_ref().is_some_and(|s| s.email != session.user.email);
    !(request.prompt.login || idle || inactive || too_old || someone_else)
}
