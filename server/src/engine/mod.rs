//! The journey engine: a pure state machine over a [`Flow`].
//!
//! Given the flow's state, what the world looks like (the account behind the email
//! in play, loaded beforehand), the instant and a source of randomness, [`step`]
//! returns the new state, messages for the person, and a list of [`Effect`]s (send
//! this email, create this user, issue this code, log this event). It performs none of
//! them: no axum, no SQL, no clock, no RNG it was not handed. The HTTP layer loads,
//! calls, then applies the effects and the new state in one transaction.
//!
//! Invariants:
//! - an unknown email and a known one get the same answer and the same work until the
//!   email is proven (no account enumeration);
//! - an account is created only for an email proven in the same flow;
//! - what the person may submit is exactly what [`forms::offered`] renders.

pub mod account;
pub mod binding;
pub mod ceremony;
mod challenge;
pub mod consent;
mod effect;
mod enroll;
pub mod explain;
mod finish;
mod flow;
pub mod forms;
pub mod hook;
mod identify;
pub mod log;
mod methods;
mod notices;
pub mod profile_change;
mod profile_update;
mod recover;
mod register;
mod session_policy;
mod settings;
pub mod sign_on;
mod start;
mod time;
pub mod validate;
pub mod view;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod use_cases;

use passway_protocol::{Level, Submission, names};

pub use ceremony::{Ceremony, CeremonyFailure, CeremonyKind, CeremonyOutcome};
pub use challenge::poll_would_move_on;
pub use effect::{AccountNotice, Effect, Grant, IssuedCode, NewPasskey, NewSession, NewUser, OutgoingEmail};
pub use finish::{GUEST_PREFIX, is_guest};
pub use flow::{AuthRequest, Challenge, Flow, Origin, Prompt, Proof, Requester, Step, Subject};
pub use log::{AdminActor, EventType, LogEntry, LogOutcome, Severity, Target};
pub use settings::{
    AppAttribute, AppSettings, Attribute, AttributeKind, EngineSettings, Enrollment, EnrollmentPolicy, Enrollments,
    GroupEnrollments, Pattern, ProfileSchema,
};
pub use start::{NewFlow, Session, Started, reusable, start};
pub use time::Timestamp;
pub use view::{Presenter, Texts, render};

use crate::crypto::{Entropy, Keyring};

/// A person's account, as the engine needs to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub profile: std::collections::BTreeMap<String, String>,
}

/// What the engine is handed for one step besides the flow.
pub struct Env<'a> {
    pub now: Timestamp,
    pub rng: &'a mut dyn Entropy,
    pub keys: &'a Keyring,
    pub app: &'a AppSettings,
    pub settings: &'a EngineSettings,
}

/// Facts established before the step: read from the store (see [`lookup`]) and, for
/// an answer to a WebAuthn ceremony, its verified outcome (see [`ceremony_for`]).
#[derive(Debug, Clone, Default)]
pub struct World {
    /// The account that owns the email in play, or the account whose passkey answered.
    pub user: Option<User>,
    /// How many passkeys that account has.
    pub passkeys: usize,
    pub ceremony: Option<CeremonyOutcome>,
    /// The scopes that account allowed the flow's app, when the app asks for consent
    /// and the account was asked before.
    pub consent: Option<String>,
    /// Whether this browser has never signed that account in (`None`: not looked up).
    pub new_device: Option<bool>,
    /// That account's password hash (PHC string), when it has one.
    pub password: Option<String>,
    /// The attempt at a guessable answer the shell reserved for this step (see
    /// [`guessable_answer`]): counted before it is checked, or refused by a lockout.
    pub attempt: crate::authenticators::lockout::Reservation,
    /// While the email in play has had its share of emails (across flows), how long
    /// until another may be sent: set when the store refused one (see `journey`).
    pub email_wait: Option<std::time::Duration>,
    /// That account's TOTP secret (unsealed by the shell), when it has one.
    pub totp: Option<crate::authenticators::totp::TotpSecret>,
    /// How many times that account skipped enrolling each authenticator (loaded for
    /// apps with a skip limit).
    pub skips: std::collections::BTreeMap<crate::authenticators::AuthenticatorKind, u32>,
    /// The answer of the inline hook the step needs (see [`hook::due`]), as the shell got it.
    pub hook: Option<hook::HookAnswer>,
    /// The store groups that account is in (the config file's are in the settings).
    pub groups: std::collections::BTreeSet<String>,
    /// That account was deactivated by an operator: it signs in nowhere.
    pub deactivated: bool,
    /// On the account page: that account's passkeys and sessions, as listed there.
    pub account: account::AccountFacts,
}

/// Something the person (or their mailbox) did.
#[derive(Debug, Clone)]
pub enum Action {
    /// Field values submitted to a remediation.
    Submit { remediation: String, values: Submission },
    /// A magic link was opened; `same_device` when its device cookie matches the flow's.
    OpenLink { secret: String, same_device: bool },
}

/// A message for the person, by stable key; the view resolves its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub key: &'static str,
    pub level: Level,
    pub field: Option<String>,
    pub params: Vec<(&'static str, String)>,
}

impl Notice {
    pub fn error(key: &'static str) -> Notice {
        Notice { key, level: Level::Error, field: None, params: vec![] }
    }
    pub fn info(key: &'static str) -> Notice {
        Notice { key, level: Level::Info, field: None, params: vec![] }
    }
    pub fn on(mut self, field: impl Into<String>) -> Notice {
        self.field = Some(field.into());
        self
    }
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Notice {
        self.params.push((name, value.into()));
        self
    }
}

/// The answer to a step.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub flow: Flow,
    pub effects: Vec<Effect>,
    pub notices: Vec<Notice>,
    /// Values to show again in the form after a validation problem.
    pub echo: Option<(&'static str, Submission)>,
    pub reply: Reply,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Render the flow.
    Flow,
    /// Render the flow (the account page); the browser now holds this new SSO session.
    SignedIn { session: Option<String> },
    /// The flow ended: hand this authorization code to the client; `session` is the
    /// value of a new SSO session cookie for the browser.
    Success { code: String, session: Option<String> },
    /// The flow ended without access: the person refused consent (`access_denied`).
    Denied,
    /// A magic link was opened: say what happened, in that tab.
    Link(LinkReply),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkReply {
    Proven,
    OtherDevice { code: String },
    AlreadyUsed,
    Expired,
    Invalid,
}

/// Protocol misuse: answered 4xx, and the flow is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the remediation `{0}` is not offered at this step")]
    NotOffered(String),
    #[error("`{remediation}` has no field `{field}`")]
    UnknownField { remediation: String, field: String },
    #[error("field `{field}` must be {expected}")]
    WrongType { field: String, expected: &'static str },
    #[error("this flow has finished")]
    Finished,
    #[error("this flow has expired")]
    Expired,
}

impl Outcome {
    fn new(flow: Flow) -> Outcome {
        Outcome { flow, effects: vec![], notices: vec![], echo: None, reply: Reply::Flow }
    }

    /// Whether the step mails a challenge (which the store counts per address).
    pub fn sends_email(&self) -> bool {
        self.effects.iter().any(|e| matches!(e, Effect::SendEmail(_)))
    }

    /// The flow as it is, nothing to do (for presenting it).
    pub fn unchanged(flow: Flow) -> Outcome {
        Outcome::new(flow)
    }
    fn notice(mut self, n: Notice) -> Outcome {
        self.notices.push(n);
        self
    }

    /// A validation problem: the flow is unchanged, the form is shown again with what
    /// was typed and the notices bound to its fields.
    fn invalid(flow: Flow, form: &'static str, values: &Submission, notices: Vec<Notice>) -> Outcome {
        Outcome { echo: Some((form, values.clone())), notices, ..Outcome::new(flow) }
    }
}

/// The text submitted for `name`, or empty.
fn text_of<'v>(values: &'v Submission, name: &str) -> &'v str {
    values.get(name).and_then(|v| v.as_text()).unwrap_or("")
}

/// The email whose account the step needs to see, so the caller can load it.
pub fn lookup(flow: &Flow, action: &Action) -> Option<String> {
    if let Action::Submit { remediation, values } = action {
        let typed = |name| values.get(name).and_then(|v| v.as_text()).and_then(|s| validate::email(s).ok());
        match remediation.as_str() {
            names::IDENTIFY => return typed("identifier"),
            names::ENROLL_PROFILE if flow.subject.is_none() || !flow.has_proven_subject() => {
                return typed("email");
            }
            names::IDENTIFY_RECOVERY => return typed("identifier"),
            _ => {}
        }
    }
    flow.subject.as_ref().map(|s| s.email.clone())
}

/// The WebAuthn ceremony a submission to `remediation` answers, if it answers one:
/// the shell takes and verifies it before the step.
pub fn ceremony_for<'f>(flow: &'f Flow, remediation: &str) -> Option<&'f Ceremony> {
    match (remediation, &flow.step) {
        (names::CHALLENGE_WEBAUTHN_AUTOFILL, Step::Identify) => flow.autofill.as_ref(),
        (names::CHALLENGE_AUTHENTICATOR, Step::Challenge(c)) => c.ceremony(),
        (names::ENROLL_AUTHENTICATOR, Step::EnrollPasskey { ceremony, .. }) => Some(ceremony),
        (names::RESET_AUTHENTICATOR, Step::ResetPasskey { ceremony }) => Some(ceremony),
        _ => None,
    }
}

/// The authenticator whose guessable answer (a password, a code) `action` submits, when
/// it is one that would be checked: the shell reserves the attempt for the email in
/// play (see `authenticators::lockout`) before the step checks it.
pub fn guessable_answer(
    flow: &Flow,
    action: &Action,
    now: Timestamp,
) -> Option<crate::authenticators::AuthenticatorKind> {
    match (action, &flow.step) {
        (Action::Submit { remediation, values }, Step::Challenge(c))
            if remediation == names::CHALLENGE_AUTHENTICATOR && c.locks_out() && c.is_attempt(values, now) =>
        {
            Some(c.kind())
        }
        _ => None,
    }
}

/// Whether a submission to `remediation` hashes or verifies a password: tens of
/// milliseconds of CPU, which the shell runs off its async threads.
pub fn hashes_password(flow: &Flow, remediation: &str) -> bool {
    matches!(
        (remediation, &flow.step),
        (names::CHALLENGE_AUTHENTICATOR, Step::Challenge(Challenge::Password(_)))
            | (names::ENROLL_AUTHENTICATOR, Step::EnrollPassword { .. })
            | (names::RESET_AUTHENTICATOR, Step::ResetPassword)
    )
}

/// The ceremonies whose browser options the current step shows.
pub fn pending_ceremonies(flow: &Flow) -> Vec<&Ceremony> {
    match &flow.step {
        Step::Identify => flow.autofill.iter().collect(),
        Step::Challenge(c) => c.ceremony().into_iter().collect(),
        Step::EnrollPasskey { ceremony, .. } | Step::ResetPasskey { ceremony } => vec![ceremony],
        _ => vec![],
    }
}

/// Advances `flow` by `action`.
pub fn step(flow: &Flow, action: Action, world: &World, env: &mut Env<'_>) -> Result<Outcome, Rejection> {
    if flow.is_finished() {
        return Err(Rejection::Finished);
    }
    if env.now >= flow.expires_at {
        return Err(Rejection::Expired);
    }
    let before = flow.step.clone();
    let mut out = answer(flow.clone(), action, world, env)?;
    account::reflect(&mut out);
    let lockout_minutes = env.settings.lockout.duration.as_secs().div_ceil(60);
    let notices = notices::due(&before, &out, world, lockout_minutes);
    out.effects.extend(notices);
    Ok(out)
}

/// The step itself: the action handed to what handles it.
fn answer(flow: Flow, action: Action, world: &World, env: &mut Env<'_>) -> Result<Outcome, Rejection> {
    match action {
        Action::OpenLink { secret, same_device } => Ok(challenge::open_link(flow, &secret, same_device, world, env)),
        Action::Submit { remediation, values } => {
            let form = forms::offered(&flow, env.app, env.settings, env.now)
                .into_iter()
                .chain(forms::cancel(&flow))
                .find(|f| f.name == remediation)
                .ok_or_else(|| Rejection::NotOffered(remediation.clone()))?;
            forms::check_shape(&form, &values)?;
            Ok(match form.name {
                names::CANCEL => identify::restart(flow, env),
                name if matches!(flow.step, Step::Account(_)) => account::submit(flow, name, &values, world, env),
                names::IDENTIFY => identify::submit(flow, &values, world, env),
                names::CHALLENGE_WEBAUTHN_AUTOFILL => identify::passkey_first(flow, world, env),
                names::SELECT_AUTHENTICATOR_AUTHENTICATE => challenge::select(flow, &values, world, env),
                names::SELECT_AUTHENTICATOR_ENROLL => enroll::select(flow, &values, world, env),
                names::ENROLL_AUTHENTICATOR => enroll::submit(flow, &values, world, env),
                names::SELECT_IDENTIFY_RECOVERY => recover::select(flow),
                names::IDENTIFY_RECOVERY => recover::submit(flow, &values, world, env),
                names::RESET_AUTHENTICATOR => recover::reset(flow, &values, world, env),
                names::REMOVE_OLD_AUTHENTICATORS => recover::old_passkeys(flow, true, world, env),
                names::SKIP if matches!(flow.step, Step::ResetOldPasskeys { .. }) => {
                    recover::old_passkeys(flow, false, world, env)
                }
                names::SKIP if matches!(flow.step, Step::EnrollProfileUpdate { .. }) => {
                    profile_update::skip(flow, world, env)
                }
                names::SKIP => enroll::skip(flow, world, env),
                names::ENROLL_PROFILE_UPDATE => profile_update::submit(flow, &values, world, env),
                names::SELECT_ENROLL_PROFILE => register::select(flow),
                names::SELECT_IDENTIFY => identify::select(flow, env),
                names::ENROLL_PROFILE => register::submit(flow, &values, world, env),
                names::CHALLENGE_AUTHENTICATOR => challenge::submit_answer(flow, &values, world, env),
                names::CHALLENGE_POLL => challenge::poll(flow, world, env),
                names::RESEND => challenge::resend(flow, world, env),
                names::CONSENT => consent::submit(flow, &values, world, env),
                other => unreachable!("offered form `{other}` has no handler"),
            })
        }
    }
}

impl Flow {
    /// Whether the current subject's email was proven in this flow.
    pub fn has_proven_subject(&self) -> bool {
        self.subject.is_some() && self.has_proven(crate::authenticators::AuthenticatorKind::Email)
    }
}
