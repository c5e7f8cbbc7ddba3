//! Inline hooks, the engine's side. Like a WebAuthn ceremony, a hook is asked for by
//! the engine, called by the shell, and decided on by the engine:
//! - [`due`] says, before a step, which hook the step needs answered and with what
//!   (`data`: the app, the request, the person so far, what they submitted);
//! - the shell calls it (`hooks::inline`) and hands the checked answer in
//!   ([`super::World::hook`]), or the reason it failed;
//! - the step decides ([`decide`]): the hook's commands, or its `on_failure`, and it
//!   logs the call (`inline_hook.executed`, with its duration and outcome) in its commit.
//!
//! Hook points: `registration` (before an account is made), `progressive_profile`,
//! `sign_in` (the request's risk, before the sign-on policy), `password_import` (an
//! account migrated without a password hash) and `token` (claims; asked by the token
//! endpoint, not by a step).

use std::collections::BTreeMap;

use passway_protocol::{Submission, names};
use serde_json::{Map, Value, json};

use super::{
    Action, AppSettings, Challenge, EngineSettings, EventType, Flow, LogEntry, LogOutcome, Notice, Step, Target,
    Timestamp, World, forms, profile_update, register,
};
use crate::policy::RiskLevel;

/// Where in a journey (or at the token endpoint) an inline hook is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HookPoint {
    Registration,
    ProgressiveProfile,
    SignIn,
    PasswordImport,
    Token,
}

impl HookPoint {
    pub const ALL: [HookPoint; 5] = [
        HookPoint::Registration,
        HookPoint::ProgressiveProfile,
        HookPoint::SignIn,
        HookPoint::PasswordImport,
        HookPoint::Token,
    ];

    /// The configuration's name (`type = "registration"`).
    pub fn name(self) -> &'static str {
        match self {
            HookPoint::Registration => "registration",
            HookPoint::ProgressiveProfile => "progressive_profile",
            HookPoint::SignIn => "sign_in",
            HookPoint::PasswordImport => "password_import",
            HookPoint::Token => "token",
        }
    }

    pub fn from_name(name: &str) -> Option<HookPoint> {
        HookPoint::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The commands a hook at this point may answer with.
    pub fn commands(self) -> &'static [&'static str] {
        match self {
            HookPoint::Registration | HookPoint::ProgressiveProfile => &["allow", "deny", "profile.update"],
            HookPoint::SignIn => &["allow", "deny", "risk"],
            HookPoint::PasswordImport => &["password.verified"],
            HookPoint::Token => &["allow", "deny", "claims.set"],
        }
    }
}

/// What to do when a hook cannot be called or answers nonsense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Go on as if it had allowed, with no changes.
    Allow,
    /// Refuse, with a message that says to try again later.
    Deny,
}

impl OnFailure {
    pub fn name(self) -> &'static str {
        match self {
            OnFailure::Allow => "allow",
            OnFailure::Deny => "deny",
        }
    }
}

/// The inline hook an app calls at a point, as far as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookRule {
    pub name: String,
    pub on_failure: OnFailure,
}

/// An app's inline hooks, by point.
pub type InlineHooks = BTreeMap<HookPoint, HookRule>;

/// A call the shell must make before the step.
#[derive(Debug, Clone, PartialEq)]
pub struct HookCall {
    pub point: HookPoint,
    pub hook: String,
    /// The request's `data`.
    pub data: Value,
}

/// What came of a call, as the shell checked it.
#[derive(Debug, Clone, PartialEq)]
pub struct HookAnswer {
    pub hook: String,
    pub point: HookPoint,
    /// Milliseconds from the first request to the answer (retry included).
    pub took_ms: u64,
    pub reply: HookReply,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HookReply {
    Answered(Commands),
    /// Not called, no answer in time, not 2xx, not JSON, or a command that is unknown
    /// or not for this point: why.
    Failed(String),
}

/// A hook's commands, gathered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commands {
    pub deny: bool,
    /// `profile.update`: attributes to set.
    pub profile: BTreeMap<String, String>,
    /// `risk`.
    pub risk: Option<RiskLevel>,
    /// `password.verified`.
    pub verified: Option<bool>,
    /// `claims.set`: claims for the ID token and for the access token.
    pub id_token: Map<String, Value>,
    pub access_token: Map<String, Value>,
    /// The message shown when the hook denies.
    pub error: Option<HookMessage>,
}

/// A message from a hook, with translations by language tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookMessage {
    pub text: String,
    pub localized: BTreeMap<String, String>,
}

impl HookMessage {
    /// The text for `locale` (`fr-CA` takes `fr-CA`, then `fr`), else the default.
    pub fn for_locale(&self, locale: &str) -> &str {
        let language = locale.split('-').next().unwrap_or(locale);
        self.localized.get(locale).or_else(|| self.localized.get(language)).map_or(self.text.as_str(), |s| s.as_str())
    }
}

/// What the engine makes of an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Go on, with these commands (none when the hook failed and `on_failure` allows).
    Allow(Commands),
    /// Refuse: the notice to show (the hook's message, or "try again later").
    Deny(Notice),
}

/// Decides on `answer` for the hook `rule` (the answer the shell got, or `None` if it
/// made no call), and logs the call. `check` may refuse commands the point cannot take
/// (an attribute outside the schema): the answer then counts as failed.
pub fn decide(
    rule: &HookRule,
    point: HookPoint,
    answer: Option<&HookAnswer>,
    locale: &str,
    check: impl FnOnce(&Commands) -> Result<(), String>,
) -> (Decision, LogEntry) {
    let took = answer.map_or(0, |a| a.took_ms);
    let reply = match answer {
        Some(a) if a.hook == rule.name && a.point == point => a.reply.clone(),
        _ => HookReply::Failed("not called".into()),
    };
    let reply = match reply {
        HookReply::Answered(commands) => match check(&commands) {
            Ok(()) => HookReply::Answered(commands),
            Err(why) => HookReply::Failed(why),
        },
        failed => failed,
    };
    let entry = |outcome, message: &str| {
        LogEntry::new(EventType::InlineHookExecuted, outcome, message)
            .target(Target::InlineHook { name: rule.name.clone() })
            .debug("hookPoint", point.name())
            .debug("durationMs", took.to_string())
    };
    match reply {
        HookReply::Answered(commands) if commands.deny => {
            let notice = match &commands.error {
                Some(m) => Notice::error("hook.denied").with("message", m.for_locale(locale)),
                None => Notice::error("hook.denied_default"),
            };
            (Decision::Deny(notice), entry(LogOutcome::Deny, "Inline hook denied").reason("the hook denied"))
        }
        HookReply::Answered(commands) => {
            (Decision::Allow(commands), entry(LogOutcome::Success, "Inline hook answered"))
        }
        HookReply::Failed(why) => {
            let decision = match rule.on_failure {
                OnFailure::Allow => Decision::Allow(Commands::default()),
                OnFailure::Deny => Decision::Deny(Notice::error("hook.unavailable")),
            };
            let entry = entry(LogOutcome::Failure, "Inline hook failed")
                .reason(why)
                .debug("onFailure", rule.on_failure.name())
                .severity(super::Severity::Warn);
            (decision, entry)
        }
    }
}

/// What a profile hook (registration, progressive profile) makes of `answers`: changed
/// (only the `allowed` attributes, within the schema), or refused — the form again, with
/// the hook's message. `Ok` carries the call's log effect (none without a hook).
#[allow(clippy::too_many_arguments)]
pub(super) fn on_profile(
    point: HookPoint,
    flow: &Flow,
    form: &'static str,
    values: &Submission,
    answers: &mut BTreeMap<String, String>,
    allowed: &[&super::Attribute],
    world: &World,
    env: &super::Env<'_>,
) -> Result<Option<super::Effect>, Box<super::Outcome>> {
    let Some(rule) = env.app.hooks.get(&point) else { return Ok(None) };
    let (decision, entry) = decide(rule, point, world.hook.as_ref(), &flow.requester.locale, |c| {
        checked_profile(&c.profile, allowed, env.now)
    });
    match decision {
        Decision::Deny(notice) => {
            let mut out = super::Outcome::invalid(flow.clone(), form, values, vec![notice]);
            out.effects.push(super::Effect::Log(entry));
            Err(Box::new(out))
        }
        Decision::Allow(commands) => {
            answers.extend(commands.profile);
            Ok(Some(super::Effect::Log(entry)))
        }
    }
}

/// The hook a step needs answered before it runs, if any (see the module doc). `world`
/// is what the shell loaded for the step.
pub fn due(
    flow: &Flow,
    action: &Action,
    world: &World,
    app: &AppSettings,
    settings: &EngineSettings,
    now: Timestamp,
) -> Option<HookCall> {
    let Action::Submit { remediation, values } = action else { return None };
    let point = match (remediation.as_str(), &flow.step) {
        (names::ENROLL_PROFILE, _) => HookPoint::Registration,
        (names::ENROLL_PROFILE_UPDATE, _) => HookPoint::ProgressiveProfile,
        (names::IDENTIFY | names::CHALLENGE_WEBAUTHN_AUTOFILL, _) => HookPoint::SignIn,
        (names::CHALLENGE_AUTHENTICATOR, Step::Challenge(Challenge::Password(_))) => HookPoint::PasswordImport,
        _ => return None,
    };
    let rule = app.hooks.get(&point)?;
    if !forms::offered(flow, app, settings, now).iter().any(|f| f.name == *remediation) {
        return None;
    }
    let data = match point {
        HookPoint::Registration => {
            let (email, profile) = register::answers(flow, values, settings, now).ok()?;
            let email = email.or_else(|| flow.subject.as_ref().map(|s| s.email.clone()));
            json!({ "app": app_data(app), "request": request_data(flow), "user": { "email": email }, "profile": profile })
        }
        HookPoint::ProgressiveProfile => {
            let answers = profile_update::answers(flow, values, app, settings, now).ok()?;
            let user = world.user.as_ref()?;
            json!({
                "app": app_data(app),
                "request": request_data(flow),
                "user": { "id": user.id, "email": user.email, "profile": user.profile },
                "profile": answers,
            })
        }
        HookPoint::SignIn => {
            let identifier = match remediation.as_str() {
                names::IDENTIFY => super::validate::email(super::text_of(values, "identifier")).ok()?,
                _ => world.user.as_ref()?.email.clone(),
            };
            json!({ "app": app_data(app), "request": request_data(flow), "identifier": identifier })
        }
        HookPoint::PasswordImport => {
            let user = world.user.as_ref().filter(|_| world.password.as_deref() == Some(IMPORT))?;
            let typed = super::text_of(values, "password");
            if typed.is_empty() || !world.attempt.granted() {
                return None;
            }
            json!({
                "app": app_data(app),
                "request": request_data(flow),
                "user": { "id": user.id, "email": user.email },
                "credential": { "password": typed },
            })
        }
        HookPoint::Token => return None,
    };
    Some(HookCall { point, hook: rule.name.clone(), data })
}

/// The stored password of an account migrated without one: its first right password
/// is checked by the `password_import` hook, then stored as argon2id.
pub const IMPORT: &str = "$passway-import$";

/// The app, in a hook's request.
fn app_data(app: &AppSettings) -> Value {
    json!({ "id": app.client_id, "name": app.name })
}

fn request_data(flow: &Flow) -> Value {
    let r = &flow.requester;
    json!({
        "ipAddress": r.ip,
        "browser": r.browser,
        "platform": r.platform.name(),
        "locale": r.locale,
        "flowId": flow.id,
    })
}

/// Profile changes a hook asked for, checked against what the step may set (`allowed`
/// attributes and their limits); `Err` says why the answer is refused.
fn checked_profile(
    changes: &BTreeMap<String, String>,
    allowed: &[&super::Attribute],
    now: Timestamp,
) -> Result<(), String> {
    for (name, value) in changes {
        let Some(attr) = allowed.iter().find(|a| a.name == *name) else {
            return Err(format!("profile.update names {name:?}, which this step does not set"));
        };
        let refused = |why: &str| Err(format!("profile.update gives {name:?} a value the schema refuses ({why})"));
        match attr.kind {
            super::AttributeKind::Consent => return refused("a consent is given by the person"),
            super::AttributeKind::Boolean if value != "true" && value != "false" => return refused("true or false"),
            super::AttributeKind::Boolean => {}
            _ => {
                let mut values = Submission::new();
                values.insert(name.clone(), passway_protocol::FieldValue::Text(value.clone()));
                if let Err(key) = register::check(attr, false, &values, now) {
                    return refused(key);
                }
            }
        }
    }
    Ok(())
}
