//! Journey tests: each drives the pure engine through a whole journey and compares a
//! readable trace with the expected one (`UPDATE_EXPECT=1 cargo test` rewrites them).

mod account;
mod directory;
mod hooks;
mod passwords;
mod profile;
mod recovery;
mod sessions;
mod totp;

use std::time::Duration;

use expect_test::{Expect, expect};
use passway_protocol::{FieldValue, Intent, Submission};

use super::*;
use crate::authenticators::AuthenticatorKind;
use crate::authenticators::lockout::{Lockout, Reservation};
use crate::authenticators::password::{self, HashCost};
use crate::authenticators::totp::TotpSecret;
use crate::crypto::Keyring;
use crate::crypto::entropy::testing::CountingEntropy;

pub(super) struct Journey {
    pub(super) flow: Flow,
    pub(super) users: Vec<User>,
    /// Passkeys per user id.
    passkeys: std::collections::BTreeMap<String, usize>,
    /// Scopes each user allowed the app.
    consents: std::collections::BTreeMap<String, String>,
    /// Password hashes per user id.
    pub(super) passwords: std::collections::BTreeMap<String, String>,
    /// Enrolments skipped per user id and authenticator.
    skips: std::collections::BTreeMap<String, std::collections::BTreeMap<AuthenticatorKind, u32>>,
    /// Authenticator apps per user id.
    pub(super) totps: std::collections::BTreeMap<String, TotpSecret>,
    /// Store groups per user id.
    pub(super) store_groups: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
    /// Accounts an operator deactivated.
    pub(super) deactivated: std::collections::BTreeSet<String>,
    /// What the shell would load for the account page.
    pub(super) account_facts: crate::engine::account::AccountFacts,
    /// Lockout counts, as the store keeps them.
    lockouts: std::collections::HashMap<(crate::crypto::Digest, AuthenticatorKind), Lockout>,
    /// The verified outcome the shell would hand over with the next submission.
    ceremony: Option<CeremonyOutcome>,
    rng: CountingEntropy,
    keys: Keyring,
    now: Timestamp,
    app: AppSettings,
    settings: EngineSettings,
    /// Last code and link token mailed.
    mailed: Option<(String, String)>,
    new_device: Option<bool>,
    /// What the shell would say of another email to the address in play (its share used).
    pub(super) email_wait: Option<Duration>,
    /// The answers the shell would get from inline hooks, in order (see `hooks.rs`).
    pub(super) hook_replies: std::collections::VecDeque<crate::engine::hook::HookReply>,
    pub(super) trace: String,
}

fn demo_settings() -> EngineSettings {
    let text = |name: &str, label: &str, required| Attribute {
        name: name.into(),
        label: label.into(),
        kind: AttributeKind::Text,
        required,
        min_length: 0,
        max_length: 50,
        pattern: None,
        labels: Default::default(),
        at_registration: true,
    };
    EngineSettings {
        profile: ProfileSchema {
            attributes: vec![
                Attribute::email(),
                text("given_name", "Given name", true),
                text("family_name", "Family name", false),
            ],
        },
        passwords: crate::authenticators::password_policy::PasswordPolicy {
            cost: HashCost::TEST,
            ..Default::default()
        },
        ..EngineSettings::default()
    }
}

/// An app: the shop, with passkeys (or not) and the enrollment policy given.
pub(super) fn app(passkeys: bool, enrollments: Enrollments) -> AppSettings {
    AppSettings {
        client_id: "shop".into(),
        name: "Shop".into(),
        self_registration: true,
        passkeys,
        enrollment: EnrollmentPolicy { default: enrollments, by_group: vec![], skip_limit: None },
        consent: false,
        sign_on: Default::default(),
        profile_update: vec![],
        hooks: Default::default(),
    }
}

const NO_ENROLLMENT: Enrollments =
    Enrollments { passkey: Enrollment::Off, password: Enrollment::Off, totp: Enrollment::Off };

/// Where a journey happens: the client's address, how many passkeys Ada has, and
/// whether the browser is new to the account (`None`: not looked up).
pub(super) struct Place {
    pub ip: &'static str,
    pub passkeys: usize,
    pub new_device: Option<bool>,
}

impl Default for Place {
    fn default() -> Place {
        Place { ip: "127.0.0.1", passkeys: 0, new_device: None }
    }
}

impl Journey {
    fn new(intent: Intent) -> Journey {
        Journey::with_app(intent, app(false, NO_ENROLLMENT))
    }

    /// A journey for an app with passkeys and the given enrollment policy.
    fn with_passkeys(intent: Intent, enrollment: Enrollment) -> Journey {
        Journey::with_app(intent, app(true, Enrollments { passkey: enrollment, ..NO_ENROLLMENT }))
    }

    /// A journey for an app that uses passwords with the given enrollment policy.
    pub(super) fn with_passwords(intent: Intent, enrollment: Enrollment) -> Journey {
        Journey::with_app(intent, app(false, Enrollments { password: enrollment, ..NO_ENROLLMENT }))
    }

    /// Gives the account `user_id` an authenticator app with this secret.
    pub(super) fn authenticator_app(&mut self, user_id: &str, secret: &[u8]) -> &mut Self {
        self.totps.insert(user_id.into(), TotpSecret { secret: secret.to_vec(), last_step: 0 });
        self
    }

    /// The code an authenticator app with `secret` shows now.
    pub(super) fn code_of(&self, secret: &[u8]) -> String {
        crate::authenticators::totp::code(secret, crate::authenticators::totp::step_at(self.now))
    }

    /// Gives the account `user_id` the password `password`.
    pub(super) fn password(&mut self, user_id: &str, password: &str) -> &mut Self {
        self.passwords.insert(user_id.into(), password::hash(password, HashCost::TEST, &mut self.rng));
        self
    }

    fn with_app(intent: Intent, app: AppSettings) -> Journey {
        Journey::begin(intent, app, |_| {}, None, &[])
    }

    /// A journey for an app that asks for consent.
    fn with_consent(remembered: Option<&str>) -> Journey {
        let app = AppSettings { consent: true, ..Journey::new(Intent::Login).app };
        let mut j = Journey::begin(Intent::Login, app, |_| {}, None, &[]);
        if let Some(scope) = remembered {
            j.consents.insert("u-ada".into(), scope.into());
        }
        j
    }

    /// A journey started with the request edited, by a browser holding `session` (and
    /// the account's remembered consents).
    pub(super) fn begin(
        intent: Intent,
        app: AppSettings,
        edit: impl FnOnce(&mut AuthRequest),
        session: Option<Session>,
        consents: &[(&str, &str)],
    ) -> Journey {
        Journey::begin_in(Place::default(), intent, app, demo_settings(), edit, session, consents)
    }

    /// [`Journey::begin`], with the engine settings given and from `place`.
    pub(super) fn begin_in(
        place: Place,
        intent: Intent,
        app: AppSettings,
        settings: EngineSettings,
        edit: impl FnOnce(&mut AuthRequest),
        session: Option<Session>,
        consents: &[(&str, &str)],
    ) -> Journey {
        let mut rng = CountingEntropy(0);
        let now = Timestamp::from_unix_seconds(1_800_000_000);
        let mut request = AuthRequest {
            redirect_uri: "https://shop.example/cb".into(),
            scope: "openid email".into(),
            state: Some("st".into()),
            nonce: Some("n".into()),
            code_challenge: Some("cc".into()),
            login_hint: None,
            prompt: Prompt::default(),
            max_age: None,
            acr_values: None,
            resource: None,
            ui_locale: None,
        };
        edit(&mut request);
        let new = NewFlow {
            client_id: "shop".into(),
            intent,
            origin: Origin::Embedded,
            request,
            requester: Requester {
                device: None,
                browser: "Firefox on Linux".into(),
                ip: place.ip.into(),
                locale: "en".into(),
                platform: crate::policy::Platform::Linux,
                risk: Default::default(),
                host: None,
            },
            invited: None,
        };
        let consents: std::collections::BTreeMap<String, String> =
            consents.iter().map(|(u, s)| (u.to_string(), s.to_string())).collect();
        let world = World {
            user: session.as_ref().map(|s| s.user.clone()),
            consent: session.as_ref().and_then(|s| consents.get(&s.user.id).cloned()),
            passkeys: session.as_ref().map_or(0, |_| place.passkeys),
            new_device: place.new_device,
            ..World::default()
        };
        let keys = Keyring::from_master(&[9; 32]);
        let started = {
            let mut env = Env { now, rng: &mut rng, keys: &keys, app: &app, settings: &settings };
            start(new, session.as_ref(), &world, &mut env)
        };
        let mut j = Journey {
            flow: started.outcome.flow.clone(),
            users: vec![User { id: "u-ada".into(), email: "ada@example.com".into(), profile: Default::default() }],
            passkeys: [("u-ada".to_owned(), place.passkeys)].into_iter().filter(|(_, n)| *n > 0).collect(),
            consents,
            passwords: Default::default(),
            totps: Default::default(),
            store_groups: Default::default(),
            deactivated: Default::default(),
            account_facts: Default::default(),
            skips: Default::default(),
            lockouts: Default::default(),
            ceremony: None,
            rng,
            keys,
            now,
            app,
            settings,
            mailed: None,
            new_device: place.new_device,
            email_wait: None,
            hook_replies: Default::default(),
            trace: String::new(),
        };
        if let Some(s) = &session {
            j.trace.push_str(&format!("> start with session {}\n", s.id));
            j.trace.push_str(&format!("  {}\n", describe(&j.flow, &j.app, &j.settings)));
        }
        for e in &started.outcome.effects {
            let line = j.effect(e);
            j.trace.push_str(&format!("  start effect {line}\n"));
        }
        if let Reply::Success { session, .. } = &started.outcome.reply {
            j.trace.push_str(&format!("  SUCCESS{}\n", if session.is_some() { " new session cookie" } else { "" }));
        }
        j
    }

    /// Submits a WebAuthn answer whose verification (by the shell) gave `outcome`.
    pub(super) fn answer(&mut self, remediation: &str, outcome: CeremonyOutcome) -> &mut Self {
        self.trace.push_str(&format!("> {remediation} credential=<{}>\n", outcome_name(&outcome)));
        self.ceremony = Some(outcome);
        let values = [("credential".to_string(), FieldValue::Text("{}".into()))].into();
        self.act(Action::Submit { remediation: remediation.into(), values })
    }

    pub(super) fn select(&mut self, remediation: &str, authenticator: &str) -> &mut Self {
        self.submit(remediation, &[("authenticator", authenticator)])
    }

    pub(super) fn closed(mut self) -> Journey {
        self.app.self_registration = false;
        self
    }

    pub(super) fn wait(&mut self, secs: u64) -> &mut Self {
        self.now = self.now.plus(Duration::from_secs(secs));
        self.trace.push_str(&format!("… {secs}s later\n"));
        self
    }

    pub(super) fn submit(&mut self, remediation: &str, values: &[(&str, &str)]) -> &mut Self {
        let values: Submission = values.iter().map(|(k, v)| (k.to_string(), FieldValue::Text(v.to_string()))).collect();
        let shown: Vec<String> = values.iter().map(|(k, v)| format!("{k}={}", v.as_text().unwrap())).collect();
        self.trace.push_str(&format!("> {remediation} {}\n", shown.join(" ")));
        self.act(Action::Submit { remediation: remediation.into(), values })
    }

    /// Submits `remediation` with the checkbox `field` ticked.
    pub(super) fn tick(&mut self, remediation: &str, field: &str) -> &mut Self {
        self.trace.push_str(&format!("> {remediation} {field}=true\n"));
        let values: Submission = [(field.to_owned(), FieldValue::Bool(true))].into_iter().collect();
        self.act(Action::Submit { remediation: remediation.into(), values })
    }

    pub(super) fn type_mailed_code(&mut self) -> &mut Self {
        let code = self.mailed.clone().expect("an email was sent").0;
        self.trace.push_str("> challenge-authenticator code=<mailed>\n");
        let values = [("code".to_string(), FieldValue::Text(code))].into();
        self.act(Action::Submit { remediation: "challenge-authenticator".into(), values })
    }

    pub(super) fn open_link(&mut self, same_device: bool) -> &mut Self {
        let token = self.mailed.clone().expect("an email was sent").1;
        let secret = token.split_once('.').unwrap().1.to_owned();
        self.trace.push_str(&format!("> open link ({})\n", if same_device { "same browser" } else { "other browser" }));
        self.act(Action::OpenLink { secret, same_device })
    }

    /// Reserves an attempt as the store does: counted unless locked, the `attempts`-th
    /// in a row locking.
    fn reserve(&mut self, key: (crate::crypto::Digest, AuthenticatorKind)) -> Reservation {
        let policy = self.settings.lockout;
        let l = self.lockouts.entry(key).or_default();
        if let Some(until) = l.until(self.now) {
            return Reservation::Locked { until };
        }
        let locks = l.failures + 1 >= policy.attempts;
        if locks {
            *l = Lockout { failures: 0, locked_until: Some(self.now.plus(policy.duration)) };
        } else {
            *l = Lockout { failures: l.failures + 1, locked_until: None };
        }
        Reservation::Granted { locks }
    }

    fn act(&mut self, action: Action) -> &mut Self {
        let ceremony = self.ceremony.take();
        // For a passkey sign-in, the shell loads the account the credential belongs to.
        let by_passkey = match &ceremony {
            Some(CeremonyOutcome::Asserted { user_id, .. }) => self.users.iter().find(|u| &u.id == user_id).cloned(),
            _ => None,
        };
        let user = by_passkey
            .or_else(|| lookup(&self.flow, &action).and_then(|e| self.users.iter().find(|u| u.email == e).cloned()));
        let passkeys = user.as_ref().and_then(|u| self.passkeys.get(&u.id)).copied().unwrap_or(0);
        let consent = user.as_ref().and_then(|u| self.consents.get(&u.id)).cloned();
        let password = user.as_ref().and_then(|u| self.passwords.get(&u.id)).cloned();
        let attempt = match (guessable_answer(&self.flow, &action, self.now), &self.flow.subject) {
            (Some(kind), Some(subject)) => {
                let key = (crate::authenticators::lockout::subject_key(&self.keys, &subject.email), kind);
                let attempt = self.reserve(key);
                self.trace.push_str(&format!("  attempt {}: {attempt:?}\n", kind.key()));
                attempt
            }
            _ => Reservation::None,
        };
        let totp = user.as_ref().and_then(|u| self.totps.get(&u.id)).cloned();
        let skips = user.as_ref().and_then(|u| self.skips.get(&u.id)).cloned().unwrap_or_default();
        let groups = user.as_ref().and_then(|u| self.store_groups.get(&u.id)).cloned().unwrap_or_default();
        let deactivated = user.as_ref().is_some_and(|u| self.deactivated.contains(&u.id));
        let mut world = World {
            user,
            passkeys,
            ceremony,
            consent,
            new_device: self.new_device,
            password,
            attempt,
            email_wait: self.email_wait,
            totp,
            skips,
            hook: None,
            groups,
            deactivated,
            account: self.account_facts.clone(),
        };
        // As the shell does: the inline hook the step needs is called first.
        if let Some(call) = crate::engine::hook::due(&self.flow, &action, &world, &self.app, &self.settings, self.now) {
            let reply = self.hook_replies.pop_front().expect("a scripted hook reply");
            self.trace.push_str(&format!("  hook {} {} asked {}\n", call.point.name(), call.hook, call.data));
            world.hook =
                Some(crate::engine::hook::HookAnswer { hook: call.hook, point: call.point, took_ms: 7, reply });
        }
        let mut env =
            Env { now: self.now, rng: &mut self.rng, keys: &self.keys, app: &self.app, settings: &self.settings };
        match step(&self.flow, action, &world, &mut env) {
            Err(rejection) => self.trace.push_str(&format!("  rejected: {rejection}\n")),
            Ok(out) => {
                self.trace.push_str(&format!("  {}\n", describe(&out.flow, &self.app, &self.settings)));
                for n in &out.notices {
                    let field = n.field.as_deref().map(|f| format!(" @{f}")).unwrap_or_default();
                    let params: Vec<String> = n.params.iter().map(|(k, v)| format!(" {k}={v}")).collect();
                    self.trace
                        .push_str(&format!("  {:?} {}{field}{}\n", n.level, n.key, params.concat()).to_lowercase());
                }
                for e in &out.effects {
                    let line = self.effect(e);
                    self.trace.push_str(&format!("  effect {line}\n"));
                }
                match &out.reply {
                    Reply::Success { session, .. } => self.trace.push_str(&format!(
                        "  SUCCESS{}\n",
                        if session.is_some() { " new session cookie" } else { "" }
                    )),
                    Reply::Denied => self.trace.push_str("  DENIED access_denied\n"),
                    Reply::SignedIn { session: Some(_) } => self.trace.push_str("  SIGNED IN new session cookie\n"),
                    _ => {}
                }
                if let Reply::Link(l) = &out.reply {
                    let l = match l {
                        LinkReply::OtherDevice { code } => {
                            assert_eq!(
                                Some(code),
                                self.mailed.as_ref().map(|m| &m.0),
                                "the page shows the mailed code"
                            );
                            "OtherDevice(shows mailed code)".to_owned()
                        }
                        other => format!("{other:?}"),
                    };
                    self.trace.push_str(&format!("  link page: {l}\n"));
                }
                self.flow = out.flow;
            }
        }
        self
    }

    fn effect(&mut self, e: &Effect) -> String {
        match e {
            Effect::SendEmail(m) => {
                self.mailed = Some((m.code.clone(), m.link_token.clone()));
                format!("send_email to={} purpose={:?}", m.to, m.purpose)
            }
            Effect::CreateUser(u) => {
                self.users.push(User { id: u.id.clone(), email: u.email.clone(), profile: u.profile.clone() });
                format!("create_user email={} profile={:?}", u.email, u.profile)
            }
            Effect::SavePasskey(p) => {
                *self.passkeys.entry(p.user_id.clone()).or_default() += 1;
                describe_effect(e)
            }
            Effect::RememberConsent { user_id, scope, .. } => {
                self.consents.insert(user_id.clone(), scope.clone());
                describe_effect(e)
            }
            Effect::SetPassword { user_id, hash, .. } => {
                self.passwords.insert(user_id.clone(), hash.clone());
                describe_effect(e)
            }
            Effect::EnrollmentSkipped { user_id, authenticators } => {
                for kind in authenticators {
                    *self.skips.entry(user_id.clone()).or_default().entry(*kind).or_default() += 1;
                }
                describe_effect(e)
            }
            Effect::SaveTotp { user_id, totp, .. } => {
                self.totps.insert(user_id.clone(), totp.clone());
                describe_effect(e)
            }
            // As the store's statement does: only a later step.
            Effect::TotpUsed { user_id, step } => {
                let stored = self.totps.get_mut(user_id).expect("a code of an app set up");
                assert!(*step > stored.last_step, "the store would refuse step {step}");
                stored.last_step = *step;
                describe_effect(e)
            }
            Effect::AnswerAccepted { subject, authenticator } => {
                self.lockouts.remove(&(*subject, *authenticator));
                describe_effect(e)
            }
            Effect::UpdateProfile { user_id, profile, .. } => {
                if let Some(u) = self.users.iter_mut().find(|u| &u.id == user_id) {
                    u.profile = profile.clone();
                }
                describe_effect(e)
            }
            other => describe_effect(other),
        }
    }

    pub(super) fn check(&self, expected: Expect) {
        expected.assert_eq(&self.trace);
    }
}

fn describe_effect(e: &Effect) -> String {
    match e {
        Effect::SendEmail(m) => format!("send_email to={} purpose={:?}", m.to, m.purpose),
        Effect::CreateUser(u) => format!("create_user email={} profile={:?}", u.email, u.profile),
        Effect::IssueCode(c) => format!(
            "issue_code user={} amr={:?} scope={:?} sid={}",
            c.grant.user_id,
            c.grant.amr,
            c.grant.scope,
            c.grant.session_id.as_deref().unwrap_or("-")
        ),
        Effect::StartSession(s) => {
            let proofs: Vec<&str> = s.proofs.iter().map(|p| p.authenticator.key()).collect();
            format!("start_session id={} user={} proofs={proofs:?}", s.id, s.user_id)
        }
        Effect::EndSession { id, .. } => format!("end_session id={id}"),
        Effect::TouchSession { id, proofs } => {
            let proofs: Vec<&str> = proofs.iter().map(|p| p.authenticator.key()).collect();
            format!("touch_session id={id} proofs={proofs:?}")
        }
        Effect::RememberConsent { user_id, scope, .. } => format!("remember_consent user={user_id} scope={scope:?}"),
        Effect::UpdateProfile { user_id, profile, .. } => format!("update_profile user={user_id} profile={profile:?}"),
        Effect::RememberDevice { user_id, .. } => format!("remember_device user={user_id}"),
        Effect::Log(l) if l.event_type == crate::engine::EventType::InlineHookExecuted => {
            format!("log {} {:?} reason={:?}", l.event_type, l.outcome, l.reason.as_deref().unwrap_or(""))
        }
        Effect::Log(l) => format!("log {} {:?}", l.event_type, l.outcome),
        Effect::BeginCeremony(c) => format!("begin_ceremony {:?}", c.kind).replace("\"", ""),
        Effect::SavePasskey(p) => format!("save_passkey user={} cred={} name={:?}", p.user_id, p.cred_id, p.name),
        Effect::PasskeyUsed { cred_id, updated, .. } => {
            format!("passkey_used cred={cred_id} updated={}", updated.is_some())
        }
        Effect::SetPassword { user_id, hash, .. } => {
            format!("set_password user={user_id} argon2id={}", hash.starts_with("$argon2id$"))
        }
        Effect::AnswerAccepted { authenticator, .. } => format!("answer_accepted {}", authenticator.key()),
        Effect::RevokeSessions { user_id, .. } => format!("revoke_sessions user={user_id}"),
        Effect::EnrollmentSkipped { user_id, authenticators } => {
            let kinds: Vec<&str> = authenticators.iter().map(|k| k.key()).collect();
            format!("enrollment_skipped user={user_id} {kinds:?}")
        }
        Effect::SaveTotp { user_id, totp, .. } => format!("save_totp user={user_id} last_step={}", totp.last_step),
        Effect::TotpUsed { user_id, step } => format!("totp_used user={user_id} step={step}"),
        Effect::Notify { to, notice } => format!("notify {to} {notice:?}"),
        Effect::RemoveAuthenticator { user_id, kind, cred_id } => {
            format!("remove_authenticator user={user_id} {} {cred_id}", kind.key())
        }
        Effect::RenamePasskey { user_id, cred_id, name } => format!("rename_passkey user={user_id} {cred_id} {name:?}"),
        Effect::EndOtherSessions { user_id, keep, .. } => {
            format!("end_other_sessions user={user_id} keep={}", keep.as_deref().unwrap_or("-"))
        }
        Effect::EraseAccount { user_id, email, .. } => format!("erase_account user={user_id} {email}"),
        Effect::RemoveOldPasskeys { user_id, keep } => format!("remove_old_passkeys user={user_id} keep={keep}"),
    }
}

fn outcome_name(o: &CeremonyOutcome) -> String {
    match o {
        CeremonyOutcome::Asserted { user_id, cred_id, .. } => format!("asserted {cred_id} of {user_id}"),
        CeremonyOutcome::Registered { cred_id, .. } => format!("registered {cred_id}"),
        CeremonyOutcome::Failed(f) => format!("failed {f:?}"),
    }
}

/// One line: the step and the remediations offered.
fn describe(flow: &Flow, app: &AppSettings, settings: &EngineSettings) -> String {
    let step = match &flow.step {
        Step::Identify => "identify".to_owned(),
        Step::EnrollProfile => {
            format!("enroll_profile{}", if flow.has_proven_subject() { " (email proven)" } else { "" })
        }
        Step::Challenge(Challenge::Email(c)) => {
            format!("email_challenge attempts_left={}", c.attempts_left)
        }
        Step::Challenge(Challenge::Passkey(c)) => format!("passkey_challenge of {}", c.user_id),
        Step::EnrollSelect { required, .. } => {
            let options: Vec<&str> = forms::enroll_options(&flow.step).iter().map(|k| k.key()).collect();
            format!("enroll_select {options:?}{}", if *required { " (required)" } else { "" })
        }
        Step::EnrollPasskey { .. } => "enroll_passkey".to_owned(),
        Step::EnrollPassword { required } => {
            format!("enroll_password{}", if *required { " (required)" } else { "" })
        }
        Step::Challenge(Challenge::Password(_)) => "password_challenge".to_owned(),
        Step::Challenge(Challenge::Totp(_)) => "totp_challenge".to_owned(),
        Step::EnrollTotp { required, .. } => format!("enroll_totp{}", if *required { " (required)" } else { "" }),
        Step::ResetPasskey { .. } => "reset_passkey".to_owned(),
        Step::IdentifyRecovery => "identify_recovery".to_owned(),
        Step::ResetPassword => "reset_password".to_owned(),
        Step::CannotRecover => "cannot_recover".to_owned(),
        Step::Consent => "consent".to_owned(),
        Step::EnrollProfileUpdate { attributes } => format!("enroll_profile_update {attributes:?}"),
        Step::Denied { rule } => format!("denied by {rule:?}"),
        Step::Completed => "completed".to_owned(),
        Step::Account(home) => {
            let passkeys: Vec<&str> = home.passkeys.iter().map(|p| p.name.as_str()).collect();
            let addable: Vec<&str> = home.addable.iter().map(|k| k.key()).collect();
            format!(
                "account passkeys={passkeys:?} totp={} password={} sessions={} addable={addable:?}",
                home.totp,
                home.password,
                home.sessions.len()
            )
        }
        Step::AccountDeleted => "account_deleted".to_owned(),
        Step::ResetOldPasskeys { keep, old } => format!("reset_old_passkeys keep={keep} old={old}"),
    };
    let offered: Vec<&str> = forms::offered(flow, app, settings, flow.created_at).iter().map(|f| f.name).collect();
    format!("step {step} offers [{}]", offered.join(", "))
}

#[test]
fn sign_in_with_emailed_code() {
    let mut j = Journey::new(Intent::Login);
    j.submit("identify", &[("identifier", " Ada@Example.com ")]).type_mailed_code();
    j.check(expect![[r#"
        > identify identifier= Ada@Example.com 
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step completed offers []
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["email"]
          effect issue_code user=u-ada amr=["email"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn sign_in_with_magic_link_in_same_browser() {
    let mut j = Journey::new(Intent::Login);
    j.submit("identify", &[("identifier", "ada@example.com")])
        .submit("challenge-poll", &[])
        .open_link(true)
        .open_link(true)
        .submit("challenge-poll", &[]);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-poll 
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
        > open link (same browser)
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect log user.authentication.verify Success
          link page: Proven
        > open link (same browser)
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          link page: AlreadyUsed
        > challenge-poll 
          step completed offers []
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["email"]
          effect issue_code user=u-ada amr=["email"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn magic_link_in_another_browser_only_shows_the_code() {
    let mut j = Journey::new(Intent::Login);
    j.submit("identify", &[("identifier", "ada@example.com")])
        .open_link(false)
        .submit("challenge-poll", &[])
        .type_mailed_code();
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > open link (other browser)
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect log user.authentication.verify Failure
          link page: OtherDevice(shows mailed code)
        > challenge-poll 
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step completed offers []
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["email"]
          effect issue_code user=u-ada amr=["email"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn unknown_email_gets_the_same_challenge_then_registers() {
    let mut j = Journey::new(Intent::Login);
    j.submit("identify", &[("identifier", "new@example.com")])
        .type_mailed_code()
        .submit("enroll-profile", &[("given_name", " ")])
        .submit("enroll-profile", &[("given_name", "Grace"), ("family_name", "Hopper"), ("email", "evil@example.com")]);
    j.check(expect![[r#"
        > identify identifier=new@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=new@example.com purpose=Register
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step enroll_profile (email proven) offers [enroll-profile, select-identify]
          info register.email_verified
          effect answer_accepted email
          effect log user.authentication.verify Success
        > enroll-profile given_name= 
          step enroll_profile (email proven) offers [enroll-profile, select-identify]
          error field.required @given_name
        > enroll-profile email=evil@example.com family_name=Hopper given_name=Grace
          step completed offers []
          effect create_user email=new@example.com profile={"family_name": "Hopper", "given_name": "Grace"}
          effect log user.registration.create Success
          effect log user.lifecycle.create Success
          effect start_session id=01a3185c5000quifwPA-KVmuTQ user=f0a0278e-4372-459c-8a61-59cd5e71cfee proofs=["email"]
          effect issue_code user=f0a0278e-4372-459c-8a61-59cd5e71cfee amr=["email"] scope="openid email" sid=01a3185c5000quifwPA-KVmuTQ
          effect log user.session.start Success
          effect notify new@example.com Welcome
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn known_and_unknown_emails_look_the_same_until_proven() {
    let answer = |email: &str| {
        let mut j = Journey::new(Intent::Login);
        j.submit("identify", &[("identifier", email)]);
        let trace = j.trace.replace(email, "EMAIL");
        (trace.replace("purpose=Register", "purpose=SignIn"), j.flow.step.clone())
    };
    let (known, known_step) = answer("ada@example.com");
    let (unknown, unknown_step) = answer("nobody@example.com");
    assert_eq!(known, unknown);
    assert_eq!(std::mem::discriminant(&known_step), std::mem::discriminant(&unknown_step));
}

#[test]
fn register_first_then_prove_email() {
    let mut j = Journey::new(Intent::Register);
    j.submit("enroll-profile", &[("email", "bad"), ("given_name", "")])
        .submit("enroll-profile", &[("email", "grace@example.com"), ("given_name", "Grace")])
        .type_mailed_code();
    j.check(expect![[r#"
        > enroll-profile email=bad given_name=
          step enroll_profile offers [enroll-profile, select-identify]
          error field.email.invalid @email
          error field.required @given_name
        > enroll-profile email=grace@example.com given_name=Grace
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=grace@example.com purpose=Register
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step completed offers []
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect create_user email=grace@example.com profile={"given_name": "Grace"}
          effect log user.registration.create Success
          effect log user.lifecycle.create Success
          effect start_session id=01a3185c5000quifwPA-KVmuTQ user=f0a0278e-4372-459c-8a61-59cd5e71cfee proofs=["email"]
          effect issue_code user=f0a0278e-4372-459c-8a61-59cd5e71cfee amr=["email"] scope="openid email" sid=01a3185c5000quifwPA-KVmuTQ
          effect log user.session.start Success
          effect notify grace@example.com Welcome
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn registering_an_existing_email_signs_into_that_account() {
    let mut j = Journey::new(Intent::Login);
    j.submit("select-enroll-profile", &[])
        .submit("enroll-profile", &[("email", "ada@example.com"), ("given_name", "Impostor")])
        .type_mailed_code();
    j.check(expect![[r#"
        > select-enroll-profile 
          step enroll_profile offers [enroll-profile, select-identify]
        > enroll-profile email=ada@example.com given_name=Impostor
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step completed offers []
          info register.account_exists
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["email"]
          effect issue_code user=u-ada amr=["email"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn five_wrong_codes_end_the_challenge() {
    let mut j = Journey::new(Intent::Login);
    j.submit("identify", &[("identifier", "ada@example.com")]);
    let wrong = if j.mailed.as_ref().unwrap().0 == "000000" { "111111" } else { "000000" };
    j.submit("challenge-authenticator", &[("code", "12")]);
    for _ in 0..5 {
        j.submit("challenge-authenticator", &[("code", wrong)]);
    }
    j.submit("challenge-authenticator", &[("code", wrong)]);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=12
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          error email.code.malformed @code
        > challenge-authenticator code=000000
          attempt email: Granted { locks: false }
          step email_challenge attempts_left=4 offers [challenge-authenticator, challenge-poll, resend]
          error email.code.wrong @code attempts=4
          effect log user.authentication.verify Failure
        > challenge-authenticator code=000000
          attempt email: Granted { locks: false }
          step email_challenge attempts_left=3 offers [challenge-authenticator, challenge-poll, resend]
          error email.code.wrong @code attempts=3
          effect log user.authentication.verify Failure
        > challenge-authenticator code=000000
          attempt email: Granted { locks: false }
          step email_challenge attempts_left=2 offers [challenge-authenticator, challenge-poll, resend]
          error email.code.wrong @code attempts=2
          effect log user.authentication.verify Failure
        > challenge-authenticator code=000000
          attempt email: Granted { locks: false }
          step email_challenge attempts_left=1 offers [challenge-authenticator, challenge-poll, resend]
          error email.code.wrong @code attempts=1
          effect log user.authentication.verify Failure
        > challenge-authenticator code=000000
          attempt email: Granted { locks: false }
          step identify offers [identify, select-enroll-profile]
          error email.code.exhausted
          effect log user.authentication.verify Failure
        > challenge-authenticator code=000000
          rejected: the remediation `challenge-authenticator` is not offered at this step
    "#]]);
}

#[test]
fn resend_has_a_cooldown_and_replaces_the_code() {
    let mut j = Journey::new(Intent::Login);
    j.submit("identify", &[("identifier", "ada@example.com")]).wait(10).submit("resend", &[]);
    let first = j.mailed.clone().unwrap();
    j.wait(20).submit("resend", &[]);
    let second = j.mailed.clone().unwrap();
    assert_ne!(first, second);
    j.mailed = Some(first);
    j.type_mailed_code().open_link(true);
    j.mailed = Some(second);
    j.type_mailed_code();
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        … 10s later
        > resend 
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          error email.resend.too_soon seconds=20
        … 20s later
        > resend 
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          info email.resend.sent
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step email_challenge attempts_left=4 offers [challenge-authenticator, challenge-poll, resend]
          error email.code.wrong @code attempts=4
          effect log user.authentication.verify Failure
        > open link (same browser)
          step email_challenge attempts_left=4 offers [challenge-authenticator, challenge-poll, resend]
          link page: Invalid
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step completed offers []
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect start_session id=01a3185cc530quifwPA-KVmuTQ user=u-ada proofs=["email"]
          effect issue_code user=u-ada amr=["email"] scope="openid email" sid=01a3185cc530quifwPA-KVmuTQ
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn emails_per_flow_are_capped() {
    let mut j = Journey::new(Intent::Login);
    j.submit("identify", &[("identifier", "ada@example.com")]);
    for _ in 0..5 {
        j.wait(30).submit("resend", &[]);
    }
    let tail: Vec<&str> = j.trace.lines().rev().take(2).collect();
    assert_eq!(
        tail,
        [
            "  error email.send.limit",
            "  step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]"
        ]
    );
    assert_eq!(j.flow.emails_sent, 5);
}

#[test]
fn expired_code_and_expired_flow() {
    let mut j = Journey::new(Intent::Login);
    j.submit("identify", &[("identifier", "ada@example.com")])
        .wait(600)
        .type_mailed_code()
        .wait(1200)
        .submit("resend", &[]);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        … 600s later
        > challenge-authenticator code=<mailed>
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          error email.code.expired @code
        … 1200s later
        > resend 
          rejected: this flow has expired
    "#]]);
}

#[test]
fn closed_registration_says_so_only_after_the_email_is_proven() {
    let mut j = Journey::new(Intent::Login).closed();
    j.submit("identify", &[("identifier", "new@example.com")]).type_mailed_code();
    j.check(expect![[r#"
        > identify identifier=new@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=new@example.com purpose=Register
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step identify offers [identify]
          error identify.no_account
          effect answer_accepted email
          effect log user.authentication.verify Success
    "#]]);
}

#[test]
fn protocol_misuse_is_rejected_and_changes_nothing() {
    let mut j = Journey::new(Intent::Login);
    let before = j.flow.clone();
    j.submit("challenge-authenticator", &[("code", "123456")])
        .submit("identify", &[("identifier", "a@b.co"), ("password", "x")])
        .submit("cancel", &[]);
    let values: Submission = [("identifier".to_string(), FieldValue::Bool(true))].into();
    j.act(Action::Submit { remediation: "identify".into(), values });
    assert_eq!(j.flow, before);
    j.submit("identify", &[("identifier", "not-an-email")]);
    assert_eq!(j.flow, before, "a validation problem changes nothing");
    j.submit("identify", &[("identifier", "ada@example.com")])
        .type_mailed_code()
        .submit("identify", &[("identifier", "ada@example.com")]);
    j.check(expect![[r#"
        > challenge-authenticator code=123456
          rejected: the remediation `challenge-authenticator` is not offered at this step
        > identify identifier=a@b.co password=x
          rejected: `identify` has no field `password`
        > cancel 
          rejected: the remediation `cancel` is not offered at this step
          rejected: field `identifier` must be a string
        > identify identifier=not-an-email
          step identify offers [identify, select-enroll-profile]
          error field.email.invalid @identifier
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step completed offers []
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["email"]
          effect issue_code user=u-ada amr=["email"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
        > identify identifier=ada@example.com
          rejected: this flow has finished
    "#]]);
}

#[test]
fn cancel_starts_over_and_forgets_the_subject() {
    let mut j = Journey::new(Intent::Login);
    j.submit("identify", &[("identifier", "ada@example.com")]).submit("cancel", &[]);
    assert!(j.flow.subject.is_none());
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > cancel 
          step identify offers [identify, select-enroll-profile]
    "#]]);
}

#[test]
fn login_hint_prefills_but_proves_nothing() {
    let app = Journey::new(Intent::Login).app;
    let j = Journey::begin(Intent::Login, app, |r| r.login_hint = Some("Ada@Example.com".into()), None, &[]);
    assert_eq!(j.flow.subject.as_ref().unwrap().email, "ada@example.com");
    assert!(!j.flow.has_proven_subject());
}

pub(super) fn asserted(user: &str, cred: &str) -> CeremonyOutcome {
    CeremonyOutcome::Asserted { user_id: user.into(), cred_id: cred.into(), updated: Some("{counter:1}".into()) }
}

pub(super) fn registered(cred: &str) -> CeremonyOutcome {
    CeremonyOutcome::Registered { cred_id: cred.into(), passkey: "{}".into() }
}

#[test]
fn passkey_first_sign_in_with_autofill() {
    let mut j = Journey::with_passkeys(Intent::Login, Enrollment::Optional);
    j.passkeys.insert("u-ada".into(), 1);
    j.answer(
        "challenge-webauthn-autofillui-authenticator",
        CeremonyOutcome::Failed(CeremonyFailure::UnknownCredential),
    )
    .answer("challenge-webauthn-autofillui-authenticator", asserted("u-ada", "c1"));
    assert_eq!(j.flow.subject.as_ref().unwrap().email, "ada@example.com");
    j.check(expect![[r#"
          start effect begin_ceremony Discoverable
        > challenge-webauthn-autofillui-authenticator credential=<failed UnknownCredential>
          step identify offers [identify, challenge-webauthn-autofillui-authenticator, select-enroll-profile]
          error passkey.error.unknown
          effect begin_ceremony Discoverable
          effect log user.authentication.verify Failure
        > challenge-webauthn-autofillui-authenticator credential=<asserted c1 of u-ada>
          step completed offers []
          effect passkey_used cred=c1 updated=true
          effect start_session id=01a3185c5000quifwPA-KVmuTQ user=u-ada proofs=["passkey"]
          effect issue_code user=u-ada amr=["pop"] scope="openid email" sid=01a3185c5000quifwPA-KVmuTQ
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn identifier_first_passkey_then_another_way() {
    let mut j = Journey::with_passkeys(Intent::Login, Enrollment::Optional);
    j.passkeys.insert("u-ada".into(), 2);
    j.submit("identify", &[("identifier", "ada@example.com")])
        .answer("challenge-authenticator", CeremonyOutcome::Failed(CeremonyFailure::Invalid))
        .answer("challenge-authenticator", asserted("u-other", "c9"))
        .select("select-authenticator-authenticate", "email")
        .select("select-authenticator-authenticate", "passkey")
        .answer("challenge-authenticator", asserted("u-ada", "c1"));
    j.check(expect![[r#"
          start effect begin_ceremony Discoverable
        > identify identifier=ada@example.com
          step passkey_challenge of u-ada offers [challenge-authenticator, select-authenticator-authenticate]
          effect begin_ceremony Authenticate { user_id: u-ada }
        > challenge-authenticator credential=<failed Invalid>
          step passkey_challenge of u-ada offers [challenge-authenticator, select-authenticator-authenticate]
          error passkey.error.invalid @credential
          effect begin_ceremony Authenticate { user_id: u-ada }
          effect log user.authentication.verify Failure
        > challenge-authenticator credential=<asserted c9 of u-other>
          step passkey_challenge of u-ada offers [challenge-authenticator, select-authenticator-authenticate]
          error passkey.error.wrong_account @credential
          effect begin_ceremony Authenticate { user_id: u-ada }
          effect log user.authentication.verify Failure
        > select-authenticator-authenticate authenticator=email
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend, select-authenticator-authenticate]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > select-authenticator-authenticate authenticator=passkey
          step passkey_challenge of u-ada offers [challenge-authenticator, select-authenticator-authenticate]
          effect begin_ceremony Authenticate { user_id: u-ada }
        > challenge-authenticator credential=<asserted c1 of u-ada>
          step completed offers []
          effect passkey_used cred=c1 updated=true
          effect log user.authentication.verify Success
          effect start_session id=01a3185c5000X9G3nr3vlhmleQ user=u-ada proofs=["passkey"]
          effect issue_code user=u-ada amr=["pop"] scope="openid email" sid=01a3185c5000X9G3nr3vlhmleQ
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn a_possibly_cloned_passkey_is_refused_and_logged() {
    let mut j = Journey::with_passkeys(Intent::Login, Enrollment::Optional);
    j.passkeys.insert("u-ada".into(), 1);
    j.submit("identify", &[("identifier", "ada@example.com")])
        .answer("challenge-authenticator", CeremonyOutcome::Failed(CeremonyFailure::PossibleClone));
    j.check(expect![[r#"
          start effect begin_ceremony Discoverable
        > identify identifier=ada@example.com
          step passkey_challenge of u-ada offers [challenge-authenticator, select-authenticator-authenticate]
          effect begin_ceremony Authenticate { user_id: u-ada }
        > challenge-authenticator credential=<failed PossibleClone>
          step passkey_challenge of u-ada offers [challenge-authenticator, select-authenticator-authenticate]
          error passkey.error.possible_clone @credential
          effect begin_ceremony Authenticate { user_id: u-ada }
          effect log user.authentication.verify Failure
          effect log security.authenticator.possible_clone Failure
    "#]]);
}

#[test]
fn accounts_without_passkeys_are_offered_one_after_email_sign_in() {
    let mut j = Journey::with_passkeys(Intent::Login, Enrollment::Optional);
    j.submit("identify", &[("identifier", "ada@example.com")])
        .type_mailed_code()
        .select("select-authenticator-enroll", "passkey")
        .answer("enroll-authenticator", CeremonyOutcome::Failed(CeremonyFailure::Invalid))
        .answer("enroll-authenticator", registered("c1"));
    j.check(expect![[r#"
          start effect begin_ceremony Discoverable
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step enroll_select ["passkey"] offers [select-authenticator-enroll, skip]
          effect answer_accepted email
          effect log user.authentication.verify Success
        > select-authenticator-enroll authenticator=passkey
          step enroll_passkey offers [enroll-authenticator, skip]
          effect begin_ceremony Register { user_id: u-ada, email: ada@example.com, display_name: ada@example.com }
        > enroll-authenticator credential=<failed Invalid>
          step enroll_passkey offers [enroll-authenticator, skip]
          error passkey.error.invalid
          effect begin_ceremony Register { user_id: u-ada, email: ada@example.com, display_name: ada@example.com }
        > enroll-authenticator credential=<registered c1>
          step completed offers []
          effect save_passkey user=u-ada cred=c1 name="Firefox on Linux"
          effect log user.mfa.factor.activate Success
          effect start_session id=01a3185c5000y71fmQxTaE165g user=u-ada proofs=["email", "passkey"]
          effect issue_code user=u-ada amr=["email", "pop"] scope="openid email" sid=01a3185c5000y71fmQxTaE165g
          effect log user.session.start Success
          effect notify ada@example.com AuthenticatorAdded(Passkey)
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn optional_enrollment_can_be_skipped() {
    let mut j = Journey::with_passkeys(Intent::Login, Enrollment::Optional);
    j.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code().submit("skip", &[]);
    j.check(expect![[r#"
          start effect begin_ceremony Discoverable
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step enroll_select ["passkey"] offers [select-authenticator-enroll, skip]
          effect answer_accepted email
          effect log user.authentication.verify Success
        > skip 
          step completed offers []
          effect start_session id=01a3185c5000quifwPA-KVmuTQ user=u-ada proofs=["email"]
          effect issue_code user=u-ada amr=["email"] scope="openid email" sid=01a3185c5000quifwPA-KVmuTQ
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn required_enrollment_offers_no_skip() {
    let mut j = Journey::with_passkeys(Intent::Login, Enrollment::Required);
    j.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code().submit("skip", &[]);
    j.check(expect![[r#"
          start effect begin_ceremony Discoverable
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step enroll_select ["passkey"] (required) offers [select-authenticator-enroll]
          effect answer_accepted email
          effect log user.authentication.verify Success
        > skip 
          rejected: the remediation `skip` is not offered at this step
    "#]]);
}

#[test]
fn new_accounts_are_offered_a_passkey_after_registering() {
    let mut j = Journey::with_passkeys(Intent::Register, Enrollment::Optional);
    j.submit("enroll-profile", &[("email", "grace@example.com"), ("given_name", "Grace")])
        .type_mailed_code()
        .select("select-authenticator-enroll", "passkey")
        .answer("enroll-authenticator", registered("c7"));
    j.check(expect![[r#"
        > enroll-profile email=grace@example.com given_name=Grace
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=grace@example.com purpose=Register
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step enroll_select ["passkey"] offers [select-authenticator-enroll, skip]
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect create_user email=grace@example.com profile={"given_name": "Grace"}
          effect log user.registration.create Success
          effect log user.lifecycle.create Success
          effect notify grace@example.com Welcome
        > select-authenticator-enroll authenticator=passkey
          step enroll_passkey offers [enroll-authenticator, skip]
          effect begin_ceremony Register { user_id: f0a0278e-4372-459c-8a61-59cd5e71cfee, email: grace@example.com, display_name: Grace }
        > enroll-authenticator credential=<registered c7>
          step completed offers []
          effect save_passkey user=f0a0278e-4372-459c-8a61-59cd5e71cfee cred=c7 name="Firefox on Linux"
          effect log user.mfa.factor.activate Success
          effect start_session id=01a3185c5000bMFqvXDu-5DcCw user=f0a0278e-4372-459c-8a61-59cd5e71cfee proofs=["email", "passkey"]
          effect issue_code user=f0a0278e-4372-459c-8a61-59cd5e71cfee amr=["email", "pop"] scope="openid email" sid=01a3185c5000bMFqvXDu-5DcCw
          effect log user.session.start Success
          effect notify grace@example.com AuthenticatorAdded(Passkey)
          SUCCESS new session cookie
    "#]]);
}

#[test]
fn signing_in_with_a_passkey_offers_no_enrollment() {
    let mut j = Journey::with_passkeys(Intent::Login, Enrollment::Required);
    j.passkeys.insert("u-ada".into(), 1);
    j.submit("identify", &[("identifier", "ada@example.com")])
        .answer("challenge-authenticator", asserted("u-ada", "c1"));
    assert!(j.flow.is_finished());
}

/// A live session of Ada's, proven by email `ago` seconds before the journey starts.
pub(super) fn ada_session(ago: i64) -> Session {
    let at = Timestamp::from_unix_seconds(1_800_000_000 - ago);
    Session {
        id: "sess-1".into(),
        user: User { id: "u-ada".into(), email: "ada@example.com".into(), profile: Default::default() },
        proofs: vec![Proof { authenticator: crate::authenticators::AuthenticatorKind::Email, at }],
        last_seen_at: at,
    }
}

fn plain_app() -> AppSettings {
    Journey::new(Intent::Login).app
}

#[test]
fn a_live_session_signs_in_at_once() {
    let j = Journey::begin(Intent::Login, plain_app(), |_| {}, Some(ada_session(600)), &[]);
    j.check(expect![[r#"
        > start with session sess-1
          step completed offers []
          start effect touch_session id=sess-1 proofs=["email"]
          start effect issue_code user=u-ada amr=["email"] scope="openid email" sid=sess-1
          start effect log user.authentication.sso Success
          SUCCESS
    "#]]);
    let Step::Completed = j.flow.step else { panic!("completed") };
}

#[test]
fn sessions_are_not_reused_when_the_request_or_their_age_forbids() {
    let check = |edit: fn(&mut AuthRequest), session: Session, reused: bool| {
        let j = Journey::begin(Intent::Login, plain_app(), edit, Some(session), &[]);
        assert_eq!(j.flow.is_finished(), reused, "{}", j.trace);
    };
    check(|_| {}, ada_session(60), true);
    check(|r| r.prompt.login = true, ada_session(60), false);
    check(|r| r.max_age = Some(120), ada_session(60), true);
    check(|r| r.max_age = Some(30), ada_session(60), false);
    check(|r| r.max_age = Some(0), ada_session(1), false);
    // Idle for longer than the idle limit (2 hours).
    check(|_| {}, ada_session(3 * 3600), false);
    check(|r| r.login_hint = Some("ada@example.com".into()), ada_session(60), true);
    check(|r| r.login_hint = Some("bob@example.com".into()), ada_session(60), false);
    let no_proofs = Session { proofs: vec![], ..ada_session(60) };
    check(|_| {}, no_proofs, false);
    // Registration never resumes a session.
    let j = Journey::begin(Intent::Register, plain_app(), |_| {}, Some(ada_session(60)), &[]);
    assert!(!j.flow.is_finished());
}

#[test]
fn a_session_lets_a_required_enrollment_through_but_not_an_optional_offer() {
    let passkeys = |passkey| app(true, Enrollments { passkey, ..NO_ENROLLMENT });
    let required = Journey::begin(Intent::Login, passkeys(Enrollment::Required), |_| {}, Some(ada_session(60)), &[]);
    assert_eq!(required.flow.step, Step::EnrollSelect { required: true, options: vec![AuthenticatorKind::Passkey] });
    let optional = Journey::begin(Intent::Login, passkeys(Enrollment::Optional), |_| {}, Some(ada_session(60)), &[]);
    assert!(optional.flow.is_finished(), "the offer was made at the original sign-in");
}

#[test]
fn consent_is_asked_once_and_remembered() {
    let mut j = Journey::with_consent(None);
    j.submit("identify", &[("identifier", "ada@example.com")])
        .type_mailed_code()
        .submit("consent", &[("decision", "allow")]);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step consent offers [consent]
          effect answer_accepted email
          effect log user.authentication.verify Success
        > consent decision=allow
          step completed offers []
          effect remember_consent user=u-ada scope="openid email"
          effect log app.oauth2.as.consent.grant Success
          effect start_session id=01a3185c5000I9f0KxzcHw1JLg user=u-ada proofs=["email"]
          effect issue_code user=u-ada amr=["email"] scope="openid email" sid=01a3185c5000I9f0KxzcHw1JLg
          effect log user.session.start Success
          SUCCESS new session cookie
    "#]]);
    assert_eq!(j.consents.get("u-ada").map(String::as_str), Some("openid email"));

    // Next time, with the same scopes allowed, no question.
    let mut again = Journey::with_consent(Some("openid email"));
    again.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code();
    assert!(again.flow.is_finished());
}

#[test]
fn consent_asks_again_for_new_scopes_or_prompt_consent_and_can_be_refused() {
    let mut narrower = Journey::with_consent(Some("openid"));
    narrower.submit("identify", &[("identifier", "ada@example.com")]).type_mailed_code();
    assert_eq!(narrower.flow.step, Step::Consent, "email was not allowed before");

    let app = AppSettings { consent: true, ..plain_app() };
    let forced = Journey::begin(
        Intent::Login,
        app.clone(),
        |r| r.prompt.consent = true,
        Some(ada_session(60)),
        &[("u-ada", "openid email")],
    );
    assert_eq!(forced.flow.step, Step::Consent, "prompt=consent asks even when remembered");
    let remembered = Journey::begin(Intent::Login, app, |_| {}, Some(ada_session(60)), &[("u-ada", "openid email")]);
    assert!(remembered.flow.is_finished());

    let mut j = Journey::with_consent(None);
    j.submit("identify", &[("identifier", "ada@example.com")])
        .type_mailed_code()
        .submit("consent", &[("decision", "maybe")])
        .submit("consent", &[("decision", "deny")])
        .submit("consent", &[("decision", "allow")]);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step consent offers [consent]
          effect answer_accepted email
          effect log user.authentication.verify Success
        > consent decision=maybe
          step consent offers [consent]
          error field.invalid @decision
        > consent decision=deny
          step completed offers []
          effect log app.oauth2.as.consent.deny Failure
          DENIED access_denied
        > consent decision=allow
          rejected: this flow has finished
    "#]]);
    assert!(j.consents.is_empty());
}
