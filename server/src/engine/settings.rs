//! What the engine needs to know of the configuration: plain data, built from the
//! TOML file by `config`.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::authenticators::AuthenticatorKind;
use crate::authenticators::lockout::LockoutPolicy;
use crate::authenticators::password_policy::PasswordPolicy;
use crate::policy::{Groups, RecoveryPolicy, SessionPolicy, SignOnPolicy, Zones};

/// An app (OIDC client) as the engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSettings {
    pub client_id: String,
    pub name: String,
    /// Whether unknown people may create an account through this app.
    pub self_registration: bool,
    /// Whether passkeys can be used with this app (its brand has a relying party).
    pub passkeys: bool,
    /// Which authenticators are enrolled, offered or never asked for, by group.
    pub enrollment: EnrollmentPolicy,
    /// Ask the person to allow the requested scopes before success.
    pub consent: bool,
    /// Who may sign in, from where, and with which assurance.
    pub sign_on: SignOnPolicy,
    /// Profile attributes this app needs before success (progressive profiling).
    pub profile_update: Vec<AppAttribute>,
    /// The inline hooks this app calls, by point.
    pub hooks: super::hook::InlineHooks,
}

/// A profile attribute an app asks for once signed in, if the profile lacks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAttribute {
    /// An attribute of the profile schema.
    pub name: String,
    /// Without it there is no success; otherwise it can be skipped.
    pub required: bool,
}

/// What the enrollment policy makes of one authenticator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Enrollment {
    /// Enrolled before the flow may succeed.
    Required,
    /// Offered after sign-in, with `skip`.
    #[default]
    Optional,
    /// Never offered. A password is then never asked for either; a passkey already
    /// made still signs in (it is the stronger proof).
    Off,
}

/// An app's authenticator enrollment policy: the first entry of `by_group` whose
/// groups the person is in applies, else `default`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrollmentPolicy {
    pub default: Enrollments,
    pub by_group: Vec<GroupEnrollments>,
    /// How many times an account may skip an optional authenticator before it is
    /// required (`None`: always optional).
    pub skip_limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEnrollments {
    pub groups: Vec<String>,
    pub enrollments: Enrollments,
}

/// Each enrollable authenticator's [`Enrollment`] (email is every account's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enrollments {
    pub passkey: Enrollment,
    pub password: Enrollment,
    /// An authenticator app (TOTP).
    pub totp: Enrollment,
}

impl Default for Enrollments {
    /// Passwordless: passkeys offered, no passwords.
    fn default() -> Self {
        Enrollments { passkey: Enrollment::Optional, password: Enrollment::Off, totp: Enrollment::Off }
    }
}

impl Enrollments {
    pub fn of(&self, kind: AuthenticatorKind) -> Enrollment {
        match kind {
            AuthenticatorKind::Email => Enrollment::Off,
            AuthenticatorKind::Passkey => self.passkey,
            AuthenticatorKind::Password => self.password,
            AuthenticatorKind::Totp => self.totp,
        }
    }
}

impl EnrollmentPolicy {
    /// The enrollments that apply to someone in `groups`.
    pub fn for_groups(&self, groups: &BTreeSet<String>) -> &Enrollments {
        self.by_group
            .iter()
            .find(|g| g.groups.iter().any(|name| groups.contains(name)))
            .map_or(&self.default, |g| &g.enrollments)
    }

    /// Whether `kind` is on for anyone: what is offered before the person is known
    /// (a password challenge, "Forgot password?") cannot depend on their groups.
    pub fn uses(&self, kind: AuthenticatorKind) -> bool {
        std::iter::once(&self.default)
            .chain(self.by_group.iter().map(|g| &g.enrollments))
            .any(|e| e.of(kind) != Enrollment::Off)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSettings {
    /// How long a flow lives after it starts.
    pub flow_lifetime: Duration,
    /// How long an authorization code can be exchanged.
    pub code_lifetime: Duration,
    /// How long SSO sessions live, unused and at most, and what may start one.
    pub sessions: SessionPolicy,
    pub profile: ProfileSchema,
    /// Network zones and groups, for sign-on rules.
    pub zones: Zones,
    pub groups: Groups,
    /// Record which browsers sign which accounts in: some app's rules tell known browsers
    /// from new ones (otherwise the write is skipped on every sign-in).
    pub remember_devices: bool,
    /// What new passwords must be, and their hash cost.
    pub passwords: PasswordPolicy,
    /// Wrong answers to passwords and codes before a lockout.
    pub lockout: LockoutPolicy,
    /// Which authenticators may recover an account.
    pub recovery: RecoveryPolicy,
    /// Some app offers authenticator apps or recovery takes them: load accounts' TOTP
    /// secrets (otherwise the query is skipped on every step).
    pub totp_in_use: bool,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            flow_lifetime: Duration::from_secs(30 * 60),
            code_lifetime: Duration::from_secs(60),
            sessions: SessionPolicy::default(),
            profile: ProfileSchema::default(),
            zones: Zones::default(),
            groups: Groups::default(),
            remember_devices: false,
            passwords: PasswordPolicy::default(),
            lockout: LockoutPolicy::default(),
            recovery: RecoveryPolicy::default(),
            totp_in_use: false,
        }
    }
}

/// The attributes of a person's profile. `email` is always first and always required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSchema {
    pub attributes: Vec<Attribute>,
}

impl Default for ProfileSchema {
    fn default() -> Self {
        ProfileSchema { attributes: vec![Attribute::email()] }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Claim-style name, e.g. `given_name`.
    pub name: String,
    /// English label, used when the catalog and the theme have none for
    /// `profile.{name}`.
    pub label: String,
    pub kind: AttributeKind,
    /// Required at registration.
    pub required: bool,
    pub min_length: u32,
    pub max_length: u32,
    /// A text answer must match this whole (HTML `pattern`, checked again here).
    pub pattern: Option<Pattern>,
    /// Labels by locale, over the English `label` (the catalog's `profile.{name}`).
    pub labels: std::collections::BTreeMap<String, String>,
    /// Asked at registration; otherwise only when an app needs it.
    pub at_registration: bool,
}

/// A regular expression an answer must match whole, with the text it was written as.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    whole: regex::Regex,
}

impl Pattern {
    /// `source` as a pattern matching whole answers, or why it is not a valid one.
    pub fn new(source: &str) -> Result<Pattern, String> {
        let whole = regex::Regex::new(&format!("^(?:{source})$")).map_err(|e| e.to_string())?;
        Ok(Pattern { source: source.to_owned(), whole })
    }

    pub fn matches(&self, answer: &str) -> bool {
        self.whole.is_match(answer)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeKind {
    Text,
    Email,
    Boolean,
    Select(Vec<String>),
    /// Agreement to something (storing personal data, terms): a checkbox, kept as
    /// the instant it was given (RFC 3339).
    Consent,
}

impl Attribute {
    pub fn email() -> Attribute {
        Attribute {
            name: "email".into(),
            label: "Email".into(),
            kind: AttributeKind::Email,
            required: true,
            min_length: 0,
            max_length: 254,
            pattern: None,
            labels: Default::default(),
            at_registration: true,
        }
    }

    pub fn label_key(&self) -> String {
        format!("profile.{}", self.name)
    }
}
