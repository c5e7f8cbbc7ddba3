//! `passway policy explain`: which sign-on rule applies to a person, and the steps the
//! engine would then ask for — found by running the engine itself, with a person who
//! answers every challenge and picks the first thing offered. No store, no clock: the
//! caller hands in the account (if any), the instant and the randomness.

use super::hook::{self, Commands, HookAnswer, HookPoint, HookReply};
use passway_protocol::{FieldValue, Intent, Submission, names};

use super::ceremony::CeremonyOutcome;
use super::{
    Action, AppSettings, AttributeKind, AuthRequest, Challenge, Effect, EngineSettings, Env, Flow, NewFlow, Origin,
    Outcome, Prompt, Proof, Reply, Requester, Session, Step, Timestamp, User, World, forms, sign_on, start,
};
use crate::authenticators::AuthenticatorKind;
use crate::authenticators::password::{self, HashCost};
use crate::authenticators::totp::{self, TotpSecret};
use crate::crypto::{Entropy, Keyring};
use crate::policy::{Access, Acr, Platform};

/// What to explain: who, from where, and what they already have.
#[derive(Debug, Clone)]
pub struct Question {
    pub email: String,
    /// The account, when it exists, and how many passkeys it has.
    pub account: Option<(User, usize)>,
    /// Whether that account has a password (the dry run knows it).
    pub password: bool,
    /// Whether that account has an authenticator app (the dry run has it at hand).
    pub totp: bool,
    /// The risk to assume for the request.
    pub risk: crate::policy::RiskLevel,
    /// Extra groups to assume the person is in (on top of the configured ones).
    pub groups: Vec<String>,
    pub ip: Option<String>,
    pub platform: Platform,
    pub new_device: Option<bool>,
    /// Authenticators already proven in a live SSO session of this browser.
    pub session: Vec<AuthenticatorKind>,
    pub acr_values: Option<String>,
}

/// The explanation, a line per fact, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub lines: Vec<String>,
    /// How the dry run ended: `allowed`, `denied`, or `registers` (an unknown person).
    pub outcome: &'static str,
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

const MAX_STEPS: usize = 16;
/// The password the obliging person of the dry run knows.
const DRY_RUN_PASSWORD: &str = "the dry run's password";
/// The secret of the dry run's authenticator app.
const DRY_RUN_TOTP: &[u8] = b"the dry run's secret";

pub fn explain(
    q: &Question,
    app: &AppSettings,
    settings: &EngineSettings,
    now: Timestamp,
    rng: &mut dyn Entropy,
    keys: &Keyring,
) -> Explanation {
    let mut settings = settings.clone();
    // The dry run's own password needs no real cost.
    settings.passwords.cost = HashCost::TEST;
    for g in &q.groups {
        settings.groups.0.entry(g.clone()).or_default().emails.push(q.email.clone());
    }
    let mut lines = vec![];
    let requester = Requester {
        device: None,
        browser: "the browser".into(),
        ip: q.ip.clone().unwrap_or_else(|| "unknown".into()),
        locale: "en".into(),
        platform: q.platform,
        risk: q.risk,
        host: None,
    };
    let request = AuthRequest {
        redirect_uri: String::new(),
        scope: "openid".into(),
        state: None,
        nonce: None,
        code_challenge: None,
        login_hint: None,
        prompt: Prompt::default(),
        max_age: None,
        acr_values: q.acr_values.clone(),
        ui_locale: None,
        resource: None,
    };
    let new = NewFlow {
        client_id: app.client_id.clone(),
        intent: Intent::Login,
        origin: Origin::Hosted,
        request,
        requester,
        invited: None,
    };
    let user = q.account.as_ref().map(|(u, _)| u.clone());
    let passkeys = q.account.as_ref().map_or(0, |(_, n)| *n);
    let password = (q.password && user.is_some()).then(|| password::hash(DRY_RUN_PASSWORD, HashCost::TEST, rng));
    let totp = (q.totp && user.is_some()).then(|| TotpSecret { secret: DRY_RUN_TOTP.to_vec(), last_step: 0 });
    let world = World { user: user.clone(), passkeys, new_device: q.new_device, password, totp, ..World::default() };

    let session = (!q.session.is_empty()).then(|| user.clone()).flatten().map(|user| Session {
        id: "dry-run-session".into(),
        user,
        proofs: q.session.iter().map(|k| Proof { authenticator: *k, at: now }).collect(),
        last_seen_at: now,
    });
    let mut env = Env { now, rng, keys, app, settings: &settings };
    let started = start(new, session.as_ref(), &world, &mut env);

    // The decision, as the engine will take it once the person is known.
    let probe = Flow { subject: Some(super::Subject { email: q.email.clone() }), ..started.outcome.flow.clone() };
    let ctx = sign_on::context(&probe, &world, &env);
    lines.push(format!(
        "context: groups [{}], address {}, {} device, platform {}, risk {}",
        ctx.groups.iter().cloned().collect::<Vec<_>>().join(", "),
        ctx.ip.map(|ip| ip.to_string()).unwrap_or_else(|| "unknown".into()),
        match ctx.new_device {
            Some(false) => "known",
            _ => "new",
        },
        ctx.platform.name(),
        ctx.risk.name()
    ));
    lines.push(match &q.account {
        Some((user, passkeys)) => {
            let password = if q.password { ", a password" } else { "" };
            let totp = if q.totp { ", an authenticator app" } else { "" };
            format!("account: {} ({} passkey(s){password}{totp})", user.id, passkeys)
        }
        None => "account: none yet (a new person)".to_owned(),
    });
    let decision = app.sign_on.decide(&ctx, &settings.zones);
    for (rule, why) in &decision.skipped {
        lines.push(format!("rule {:?} does not apply: {why}", rule.name));
    }
    match &decision.rule.access {
        Access::Deny => lines.push(format!("rule {:?} applies: deny", decision.rule.name)),
        Access::Anyone => lines.push(format!(
            "rule {:?} applies: anyone, without signing in (a guest unless a session is live)",
            decision.rule.name
        )),
        Access::Allow(a) => {
            lines.push(format!("rule {:?} applies: allow with {}", decision.rule.name, a.describe_required()));
            if let Some(acr) = Acr::requested(q.acr_values.as_deref()) {
                lines.push(format!(
                    "acr_values asks for {}: the engine requires {}",
                    acr.uri(),
                    sign_on::required(a, &probe).describe_required()
                ));
            }
        }
    }

    // The dry run, from the flow started above.
    if !q.session.is_empty() && session.is_none() {
        lines.push("(a session needs an existing account; ignored)".into());
    }
    if session.is_some() {
        let proven: Vec<&str> = q.session.iter().map(|k| k.key()).collect();
        lines.push(format!("resumes the SSO session (proven: {})", proven.join(", ")));
    }
    let mut runner = Runner { flow: started.outcome.flow.clone(), mailed: None, lines, world };
    runner.note(&started.outcome);
    let mut outcome = started.outcome;
    for _ in 0..MAX_STEPS {
        let Some((action, ceremony)) = runner.next_action(&q.email, app, &settings, now, keys) else { break };
        runner.world.ceremony = ceremony;
        // Where the journey would call an inline hook, say so; the dry run takes its
        // answer as "allow", with the question's risk for a sign-in context hook.
        runner.world.hook = hook::due(&runner.flow, &action, &runner.world, app, &settings, now).map(|call| {
            let asked: Vec<&str> =
                call.data.as_object().map(|o| o.keys().map(|k| k.as_str()).collect()).unwrap_or_default();
            let risk = (call.point == HookPoint::SignIn).then_some(q.risk);
            runner.lines.push(format!(
                "→ calls the {} inline hook {:?} with {} (the dry run takes its answer as allow{})",
                call.point.name(),
                call.hook,
                asked.join(", "),
                risk.map(|r| format!(", risk {}", r.name())).unwrap_or_default()
            ));
            HookAnswer {
                hook: call.hook,
                point: call.point,
                took_ms: 0,
                reply: HookReply::Answered(Commands { risk, ..Commands::default() }),
            }
        });
        let mut env = Env { now, rng, keys, app, settings: &settings };
        match super::step(&runner.flow, action, &runner.world, &mut env) {
            Ok(out) => {
                if let Some(u) = out.effects.iter().find_map(|e| match e {
                    Effect::CreateUser(u) => Some(u),
                    _ => None,
                }) {
                    runner.world.user =
                        Some(User { id: u.id.clone(), email: u.email.clone(), profile: u.profile.clone() });
                }
                runner.flow = out.flow.clone();
                runner.note(&out);
                outcome = out;
            }
            Err(rejection) => {
                runner.lines.push(format!("(the dry run was refused: {rejection})"));
                break;
            }
        }
    }
    if let (Some(rule), Reply::Success { .. }) = (app.hooks.get(&HookPoint::Token), &outcome.reply) {
        runner.lines.push(format!(
            "→ the token endpoint calls the token inline hook {:?} with app, request, user, scope, amr (claims it may add)",
            rule.name
        ));
    }
    let result = match (&runner.flow.step, &outcome.reply) {
        (Step::Completed, Reply::Success { .. }) => "allowed",
        (Step::Denied { .. }, _) => "denied",
        (Step::EnrollProfile, _) => "registers",
        _ => "unfinished",
    };
    Explanation { lines: runner.lines, outcome: result }
}

/// "a passkey", "a passkey or a password": what `select-authenticator-enroll` offers.
fn enrollable(step: &Step) -> String {
    let kinds: Vec<String> = forms::enroll_options(step).iter().map(|k| format!("a {}", k.key())).collect();
    kinds.join(" or ")
}

struct Runner {
    flow: Flow,
    mailed: Option<String>,
    lines: Vec<String>,
    world: World,
}

impl Runner {
    /// Says what the step asks of the person.
    fn note(&mut self, out: &Outcome) {
        for e in &out.effects {
            if let Effect::SendEmail(m) = e {
                self.mailed = Some(m.code.clone());
            }
            if let Effect::Log(l) = e
                && l.event_type == super::EventType::PolicyEvaluateSignOn
            {
                self.lines.push(format!("policy: {}", l.reason.clone().unwrap_or_default()));
            }
        }
        let line = match &self.flow.step {
            Step::Identify => "asks who it is (identify)".to_owned(),
            Step::EnrollProfile => "asks for the registration attributes (enroll-profile): a new account".to_owned(),
            Step::EnrollProfileUpdate { attributes } => {
                format!("asks for {} (enroll-profile-update)", attributes.join(", "))
            }
            Step::Challenge(Challenge::Email(_)) => "challenges the email (magic link or code)".to_owned(),
            Step::Challenge(Challenge::Passkey(_)) => "challenges a passkey".to_owned(),
            Step::Challenge(Challenge::Password(_)) => "challenges the password".to_owned(),
            Step::Challenge(Challenge::Totp(_)) => "challenges the authenticator app (a code)".to_owned(),
            Step::EnrollSelect { required: true, .. } => {
                format!("asks to enrol {} (required by the policy)", enrollable(&self.flow.step))
            }
            Step::EnrollSelect { required: false, .. } => {
                format!("offers to enrol {} (optional: the dry run skips it)", enrollable(&self.flow.step))
            }
            Step::EnrollPasskey { .. } => "creates a passkey".to_owned(),
            Step::EnrollPassword { required: true } => "chooses a password (required by the policy)".to_owned(),
            Step::EnrollPassword { required: false } => {
                "offers to choose a password (optional: the dry run skips it)".to_owned()
            }
            Step::EnrollTotp { required: true, .. } => {
                "sets up an authenticator app (required by the policy)".to_owned()
            }
            Step::EnrollTotp { required: false, .. } => {
                "offers to set up an authenticator app (optional: the dry run skips it)".to_owned()
            }
            Step::Completed if self.flow.account.as_deref().is_some_and(super::is_guest) => {
                "lets an anonymous guest in (no sign-in)".to_owned()
            }
            Step::IdentifyRecovery | Step::ResetPassword | Step::ResetPasskey { .. } | Step::CannotRecover => {
                "recovers the account (not part of a dry run)".to_owned()
            }
            Step::Consent => "asks for consent to the scopes".to_owned(),
            Step::Denied { rule } => format!("denies access (rule {rule:?})"),
            Step::Account(_) | Step::AccountDeleted => "shows the account page".to_owned(),
            Step::ResetOldPasskeys { .. } => "recovers the account (not part of a dry run)".to_owned(),
            Step::Completed => {
                let proven: Vec<&str> = self.flow.proofs.iter().map(|p| p.authenticator.key()).collect();
                let acr = Acr::of(
                    &self.flow.proofs,
                    self.flow.proofs.iter().map(|p| p.at).max().unwrap_or(self.flow.created_at),
                );
                format!("signs in (proven: {}; acr {})", proven.join(", "), acr.map_or("none", Acr::uri))
            }
        };
        if self.lines.last() != Some(&format!("→ {line}")) {
            self.lines.push(format!("→ {line}"));
        }
    }

    /// What the obliging person does next, and the ceremony outcome the shell would hand over.
    fn next_action(
        &self,
        email: &str,
        app: &AppSettings,
        settings: &EngineSettings,
        now: Timestamp,
        keys: &Keyring,
    ) -> Option<(Action, Option<CeremonyOutcome>)> {
        let submit = |remediation: &str, values: &[(&str, &str)]| Action::Submit {
            remediation: remediation.into(),
            values: values
                .iter()
                .map(|(k, v)| ((*k).to_owned(), FieldValue::Text((*v).to_owned())))
                .collect::<Submission>(),
        };
        let offered: Vec<&str> = forms::offered(&self.flow, app, settings, now).iter().map(|f| f.name).collect();
        let user_id = self.world.user.as_ref().map(|u| u.id.clone()).unwrap_or_default();
        Some(match &self.flow.step {
            Step::Identify => (submit(names::IDENTIFY, &[("identifier", email)]), None),
            Step::Challenge(Challenge::Email(_)) => {
                (submit(names::CHALLENGE_AUTHENTICATOR, &[("code", self.mailed.as_deref()?)]), None)
            }
            Step::Challenge(Challenge::Passkey(_)) => (
                submit(names::CHALLENGE_AUTHENTICATOR, &[("credential", "{}")]),
                Some(CeremonyOutcome::Asserted { user_id, cred_id: "dry-run".into(), updated: None }),
            ),
            // Every address gets a password challenge; without one, the person uses email.
            Step::Challenge(Challenge::Password(_)) if self.world.password.is_none() => {
                (submit(names::SELECT_AUTHENTICATOR_AUTHENTICATE, &[("authenticator", "email")]), None)
            }
            Step::Challenge(Challenge::Password(_)) => {
                (submit(names::CHALLENGE_AUTHENTICATOR, &[("password", DRY_RUN_PASSWORD)]), None)
            }
            Step::Challenge(Challenge::Totp(_)) => {
                let code = totp::code(DRY_RUN_TOTP, totp::step_at(now));
                (submit(names::CHALLENGE_AUTHENTICATOR, &[("code", code.as_str())]), None)
            }
            Step::EnrollTotp { .. } if offered.contains(&names::SKIP) => (submit(names::SKIP, &[]), None),
            Step::EnrollTotp { .. } => {
                let secret = super::enroll::totp_secret(&self.flow, keys)?;
                let code = totp::code(&secret, totp::step_at(now));
                (submit(names::ENROLL_AUTHENTICATOR, &[("code", code.as_str())]), None)
            }
            Step::EnrollSelect { .. } if offered.contains(&names::SKIP) => (submit(names::SKIP, &[]), None),
            Step::EnrollSelect { .. } => {
                let first = forms::enroll_options(&self.flow.step)[0];
                (submit(names::SELECT_AUTHENTICATOR_ENROLL, &[("authenticator", first.key())]), None)
            }
            Step::EnrollPassword { .. } if offered.contains(&names::SKIP) => (submit(names::SKIP, &[]), None),
            Step::EnrollPassword { .. } => {
                // Long and varied enough for any policy a configuration can state.
                let strong = format!("Dry-run 7! {}", "tundra ".repeat(settings.passwords.min_length as usize / 7 + 1));
                (submit(names::ENROLL_AUTHENTICATOR, &[("password", strong.as_str())]), None)
            }
            Step::EnrollPasskey { .. } => (
                submit(names::ENROLL_AUTHENTICATOR, &[("credential", "{}")]),
                Some(CeremonyOutcome::Registered { cred_id: "dry-run".into(), passkey: String::new() }),
            ),
            Step::EnrollProfileUpdate { .. } if offered.contains(&names::SKIP) => (submit(names::SKIP, &[]), None),
            Step::EnrollProfileUpdate { attributes } => {
                let values: Submission = attributes
                    .iter()
                    .filter_map(|name| settings.profile.attributes.iter().find(|a| &a.name == name))
                    .map(|a| {
                        let value = match &a.kind {
                            AttributeKind::Boolean | AttributeKind::Consent => FieldValue::Bool(true),
                            AttributeKind::Select(options) => FieldValue::Text(options[0].clone()),
                            AttributeKind::Email => FieldValue::Text("dry-run@example.com".into()),
                            AttributeKind::Text => FieldValue::Text("dry run".into()),
                        };
                        (a.name.clone(), value)
                    })
                    .collect();
                (Action::Submit { remediation: names::ENROLL_PROFILE_UPDATE.into(), values }, None)
            }
            Step::Consent => (submit(names::CONSENT, &[("decision", super::consent::ALLOW)]), None),
            Step::EnrollProfile
            | Step::Denied { .. }
            | Step::Completed
            | Step::IdentifyRecovery
            | Step::ResetPassword
            | Step::ResetPasskey { .. }
            | Step::CannotRecover
            | Step::Account(_)
            | Step::AccountDeleted
            | Step::ResetOldPasskeys { .. } => return None,
        })
    }
}
