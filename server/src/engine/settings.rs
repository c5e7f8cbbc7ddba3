//! What the engine needs to know of the configuration: plain data, built from the
//! TOML file by `config`.

use std::time::Duration;

use crate::policy::{Groups, SignOnPolicy, Zones};

/// An app (OIDC client) as the engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSettings {
    pub client_id: String,
    pub name: String,
    /// Whether unknown people may create an account through this app.
    pub self_registration: bool,
    /// Whether passkeys can be used with this app (its brand has a relying party).
    pub passkeys: bool,
    pub passkey_enrollment: PasskeyEnrollment,
    /// Ask the person to allow the requested scopes before success.
    pub consent: bool,
    /// Who may sign in, from where, and with which assurance.
    pub sign_on: SignOnPolicy,
    /// Profile attributes this app needs before success (progressive profiling).
    pub profile_update: Vec<AppAttribute>,
}

/// A profile attribute an app asks for once signed in, if the profile lacks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAttribute {
    /// An attribute of the profile schema.
    pub name: String,
    /// Without it there is no success; otherwise it can be skipped.
    pub required: bool,
}

/// The authenticator enrollment policy for passkeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PasskeyEnrollment {
    /// Enrolled before the flow may succeed.
    Required,
    /// Offered after sign-in, with `skip`.
    #[default]
    Optional,
    /// Never offered.
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSettings {
    /// How long a flow lives after it starts.
    pub flow_lifetime: Duration,
    /// How long an authorization code can be exchanged.
    pub code_lifetime: Duration,
    /// How long an SSO session lives at most, and unused.
    pub session_lifetime: Duration,
    pub session_idle: Duration,
    pub profile: ProfileSchema,
    /// Network zones and groups, for sign-on rules.
    pub zones: Zones,
    pub groups: Groups,
    /// Record which browsers sign which accounts in: some app's rules tell known browsers
    /// from new ones (otherwise the write is skipped on every sign-in).
    pub remember_devices: bool,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            flow_lifetime: Duration::from_secs(30 * 60),
            code_lifetime: Duration::from_secs(60),
            session_lifetime: Duration::from_secs(12 * 3600),
            session_idle: Duration::from_secs(2 * 3600),
            profile: ProfileSchema::default(),
            zones: Zones::default(),
            groups: Groups::default(),
            remember_devices: false,
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
    pub max_length: u32,
    /// Asked at registration; otherwise only when an app needs it.
    pub at_registration: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeKind {
    Text,
    Email,
    Boolean,
    Select(Vec<String>),
}

impl Attribute {
    pub fn email() -> Attribute {
        Attribute {
            name: "email".into(),
            label: "Email".into(),
            kind: AttributeKind::Email,
            required: true,
            max_length: 254,
            at_registration: true,
        }
    }

    pub fn label_key(&self) -> String {
        format!("profile.{}", self.name)
    }
}
