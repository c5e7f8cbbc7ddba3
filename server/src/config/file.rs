//! The file's shape, as serde reads it. Values that need checking beyond their type
//! are `Spanned`, so a problem can name the line it is on.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub listen: Option<Spanned<String>>,
    pub issuer: Option<Spanned<String>>,
    #[serde(default)]
    pub dev_mode: bool,
    pub data_dir: Option<String>,
    pub master_key_file: Option<String>,
    #[serde(default)]
    pub store: Store,
    pub metrics: Option<Metrics>,
    pub telemetry: Option<Telemetry>,
    pub mail: Option<Spanned<Mail>>,
    #[serde(default)]
    pub flows: Flows,
    #[serde(default)]
    pub profile: Profile,
    #[serde(default)]
    pub themes: Themes,
    #[serde(default)]
    pub widget: Widget,
    pub demo: Option<Demo>,
    pub passkeys: Option<Spanned<Passkeys>>,
    #[serde(default)]
    pub tokens: Tokens,
    #[serde(default)]
    pub sessions: Sessions,
    #[serde(default)]
    pub keys: Keys,
    #[serde(default)]
    pub admin: Admin,
    #[serde(default)]
    pub passwords: Passwords,
    #[serde(default)]
    pub lockout: Lockout,
    #[serde(default)]
    pub recovery: Recovery,
    /// Network zones: name → CIDR blocks.
    #[serde(default)]
    pub zones: BTreeMap<String, Vec<Spanned<String>>>,
    #[serde(default)]
    pub groups: BTreeMap<String, Spanned<GroupEntry>>,
    #[serde(default)]
    pub apps: Vec<Spanned<AppEntry>>,
    #[serde(default)]
    pub rate_limits: RateLimitsEntry,
    /// Proxies (CIDR blocks) whose `Forwarded` / `X-Forwarded-For` name the client.
    pub trusted_proxies: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub events: Events,
    #[serde(default)]
    pub hooks: Hooks,
}

/// `[hooks]`: event hooks, and what outbound calls may reach.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hooks {
    #[serde(default)]
    pub events: Vec<Spanned<EventHookEntry>>,
    #[serde(default)]
    pub inline: Vec<Spanned<InlineHookEntry>>,
    #[serde(default)]
    pub allow_link_local: bool,
}

/// `[[hooks.inline]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineHookEntry {
    pub name: Spanned<String>,
    /// The hook point: `registration`, `progressive_profile`, `sign_in`,
    /// `password_import` or `token`.
    #[serde(rename = "type")]
    pub point: Spanned<String>,
    pub url: Spanned<String>,
    pub secret: Spanned<toml::Value>,
    pub on_failure: Spanned<String>,
    pub timeout_seconds: Option<Spanned<u32>>,
    /// The apps (client ids) that call it; every app when absent.
    pub apps: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[[hooks.events]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventHookEntry {
    pub name: Spanned<String>,
    pub url: Spanned<String>,
    pub events: Spanned<Vec<Spanned<String>>>,
    pub filter: Option<Spanned<String>>,
    /// `{ env = "NAME" }` or `{ file = "PATH" }`: never the secret itself.
    pub secret: Spanned<toml::Value>,
    pub timeout_seconds: Option<Spanned<u32>>,
}

/// `[rate_limits]`: every limit has a default; `enabled = false` turns them all off.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsEntry {
    pub enabled: Option<Spanned<bool>>,
    pub flow_starts_per_minute: Option<Spanned<u32>>,
    pub live_flows: Option<Spanned<u32>>,
    pub flow_requests_per_minute: Option<Spanned<u32>>,
    pub link_opens_per_minute: Option<Spanned<u32>>,
    pub token_requests_per_minute: Option<Spanned<u32>>,
    pub client_token_requests_per_minute: Option<Spanned<u32>>,
    pub emails_per_hour: Option<Spanned<u32>>,
    pub event_streams_per_ip: Option<Spanned<u32>>,
    pub event_streams_per_flow: Option<Spanned<u32>>,
    pub password_queue: Option<Spanned<u32>>,
    /// Also accepted here (it is where rate limits look): the same as the top-level key.
    pub trusted_proxies: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[events]`: the system log.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Events {
    pub retention_days: Option<Spanned<u32>>,
}

/// The admin API: off unless at least one token is configured.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// `sha256:<base64url>` digests of the bearer tokens (`passway client-secret`).
    #[serde(default)]
    pub token_hashes: Vec<Spanned<String>>,
    /// The admin console (`/admin`) is for the people in this group, who sign in to
    /// Passway itself; without it, there is no console.
    pub console_group: Option<Spanned<String>>,
}

/// The password policy, for the apps that use passwords.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Passwords {
    pub min_length: Option<Spanned<u32>>,
    pub max_length: Option<Spanned<u32>>,
    /// Character classes: `lowercase`, `uppercase`, `digit`, `symbol`.
    #[serde(default)]
    pub require: Vec<Spanned<String>>,
    /// argon2id cost of new hashes.
    pub memory_kib: Option<Spanned<u32>>,
    pub iterations: Option<Spanned<u32>>,
    pub parallelism: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockout {
    pub attempts: Option<Spanned<u32>>,
    pub minutes: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    /// Authenticators that may prove who someone is, in the order asked.
    pub authenticators: Option<Spanned<Vec<Spanned<String>>>>,
    /// How many of them must be proven.
    pub factors: Option<Spanned<u32>>,
    /// Let an emailed code or link alone recover an account in an app whose sign-on
    /// policy requires phishing resistance (off: such a recovery also asks for a passkey).
    #[serde(default)]
    pub email_alone_for_phishing_resistant_apps: bool,
}

/// The enrollment policy of an app for the people in some groups.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentEntry {
    pub groups: Vec<Spanned<String>>,
    pub passkeys: Option<Spanned<String>>,
    pub passwords: Option<Spanned<String>>,
    pub totp: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppAttributeEntry {
    /// An attribute of `[[profile.attributes]]`.
    pub attribute: Spanned<String>,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupEntry {
    #[serde(default)]
    pub emails: Vec<Spanned<String>>,
    #[serde(default)]
    pub domains: Vec<Spanned<String>>,
}

/// One sign-on rule of an app; its conditions, then its outcome.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleEntry {
    pub name: Spanned<String>,
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
    #[serde(default)]
    pub zones: Vec<Spanned<String>>,
    #[serde(default)]
    pub not_zones: Vec<Spanned<String>>,
    /// `known` or `new`.
    pub device: Option<Spanned<String>>,
    #[serde(default)]
    pub platforms: Vec<Spanned<String>>,
    /// `low`, `medium`, `high`.
    #[serde(default)]
    pub risk: Vec<Spanned<String>>,
    /// `allow` (default) or `deny`.
    pub access: Option<Spanned<String>>,
    pub factors: Option<Spanned<u8>>,
    #[serde(default)]
    pub factor_types: Vec<Spanned<String>>,
    pub phishing_resistant: Option<Spanned<bool>>,
    pub user_verification: Option<Spanned<bool>>,
    pub reauthenticate_minutes: Option<Spanned<u32>>,
    /// An SSO session unused this long does not sign in to this app without asking.
    pub inactivity_minutes: Option<Spanned<u32>>,
}

/// The conditions of a rule (sign-on or session), wherever they are written.
pub struct ConditionFields<'a> {
    pub groups: &'a [Spanned<String>],
    pub zones: &'a [Spanned<String>],
    pub not_zones: &'a [Spanned<String>],
    pub device: Option<&'a Spanned<String>>,
    pub platforms: &'a [Spanned<String>],
    pub risk: &'a [Spanned<String>],
}

impl RuleEntry {
    pub fn conditions(&self) -> ConditionFields<'_> {
        ConditionFields {
            groups: &self.groups,
            zones: &self.zones,
            not_zones: &self.not_zones,
            device: self.device.as_ref(),
            platforms: &self.platforms,
            risk: &self.risk,
        }
    }
}

/// A rule of the global session policy: conditions as a sign-on rule's, then the
/// session it gives.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRuleEntry {
    pub name: Spanned<String>,
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
    #[serde(default)]
    pub zones: Vec<Spanned<String>>,
    #[serde(default)]
    pub not_zones: Vec<Spanned<String>>,
    pub device: Option<Spanned<String>>,
    #[serde(default)]
    pub platforms: Vec<Spanned<String>>,
    #[serde(default)]
    pub risk: Vec<Spanned<String>>,
    pub lifetime_hours: Option<Spanned<u32>>,
    pub idle_minutes: Option<Spanned<u32>>,
    pub establish_with: Option<Spanned<Vec<Spanned<String>>>>,
}

impl SessionRuleEntry {
    pub fn conditions(&self) -> ConditionFields<'_> {
        ConditionFields {
            groups: &self.groups,
            zones: &self.zones,
            not_zones: &self.not_zones,
            device: self.device.as_ref(),
            platforms: &self.platforms,
            risk: &self.risk,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tokens {
    pub access_token_minutes: Option<Spanned<u32>>,
    pub id_token_minutes: Option<Spanned<u32>>,
    pub refresh_token_days: Option<Spanned<u32>>,
    /// However often it is refreshed, a sign-in's refresh tokens end this long after it.
    pub refresh_token_max_days: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    pub lifetime_hours: Option<Spanned<u32>>,
    pub idle_minutes: Option<Spanned<u32>>,
    /// Authenticators a session may be started with (default: any).
    pub establish_with: Option<Spanned<Vec<Spanned<String>>>>,
    /// Rules for some people or places, first match wins, over the above.
    #[serde(default)]
    pub rules: Vec<Spanned<SessionRuleEntry>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// Sign with a new key this often.
    pub rotate_every_days: Option<Spanned<u32>>,
    /// Publish a new key this long before it starts signing.
    pub publish_ahead_hours: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Passkeys {
    pub rp_id: Spanned<String>,
    pub rp_name: Option<String>,
    #[serde(default)]
    pub origins: Vec<Spanned<String>>,
    /// Per-brand relying parties, for brands served from another domain.
    #[serde(default)]
    pub brands: BTreeMap<String, Spanned<RelyingParty>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelyingParty {
    pub rp_id: Spanned<String>,
    pub rp_name: Option<String>,
    #[serde(default)]
    pub origins: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    pub url: Option<Spanned<String>>,
    /// PostgreSQL: the pool's size and how long a request waits for a connection.
    pub max_connections: Option<Spanned<u32>>,
    pub min_connections: Option<Spanned<u32>>,
    pub acquire_timeout_seconds: Option<Spanned<u32>>,
    pub idle_timeout_seconds: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Telemetry {
    /// An OTLP/HTTP collector (`http://collector:4318`): traces go to its `/v1/traces`.
    pub otlp_endpoint: Spanned<String>,
    pub service_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// Where `/metrics` is served (a listener of its own).
    pub listen: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mail {
    pub from: Option<Spanned<String>>,
    /// `outbox` or `smtp`.
    pub transport: Spanned<String>,
    pub smtp: Option<Spanned<Smtp>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    pub host: Spanned<String>,
    pub port: Option<u16>,
    /// `none`, `starttls` or `tls`.
    pub security: Option<Spanned<String>>,
    pub username: Option<String>,
    pub password_env: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flows {
    pub lifetime_minutes: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default)]
    pub attributes: Vec<Spanned<AttributeEntry>>,
    /// Always true: accepted so that a configuration can say so, refused when false.
    pub email_verification: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeEntry {
    pub name: Spanned<String>,
    pub label: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<Spanned<String>>,
    #[serde(default)]
    pub required: bool,
    pub min_length: Option<Spanned<u32>>,
    pub max_length: Option<u32>,
    /// A regular expression a text answer must match whole.
    pub pattern: Option<Spanned<String>>,
    /// Labels by locale (`fr = "Prénom"`), over `label`.
    #[serde(default)]
    pub labels: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub options: Vec<String>,
    /// Asked at registration (`false`: only an app's progressive profiling asks for it).
    #[serde(default = "yes")]
    pub at_registration: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Themes {
    pub dir: Option<String>,
    #[serde(default)]
    pub hostnames: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Widget {
    pub dir: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demo {
    pub dir: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppEntry {
    pub client_id: Spanned<String>,
    pub name: Option<String>,
    pub brand: Option<Spanned<String>>,
    #[serde(default)]
    pub redirect_uris: Vec<Spanned<String>>,
    #[serde(default)]
    pub allowed_origins: Vec<Spanned<String>>,
    #[serde(default = "yes")]
    pub self_registration: bool,
    /// Passkey enrollment: `required`, `optional` or `off`.
    pub passkeys: Option<Spanned<String>>,
    /// Password enrollment: `required`, `optional` or `off` (the default: no passwords).
    pub passwords: Option<Spanned<String>>,
    /// Authenticator app (TOTP) enrollment: `required`, `optional` or `off` (default).
    pub totp: Option<Spanned<String>>,
    /// How many times an optional authenticator may be skipped before it is required.
    pub skip_limit: Option<Spanned<u32>>,
    /// Enrollment for people in some groups, first match wins, over the two above.
    #[serde(default)]
    pub enrollment: Vec<Spanned<EnrollmentEntry>>,
    /// `sha256:<base64url>` digests of the client's secrets (`passway client-secret`).
    #[serde(default)]
    pub client_secret_hashes: Vec<Spanned<String>>,
    pub grant_types: Option<Vec<Spanned<String>>>,
    /// Notice emails this app's people get (none unless listed).
    #[serde(default)]
    pub emails: Vec<Spanned<String>>,
    /// `ES256` (default) or `RS256`.
    pub signing_alg: Option<Spanned<String>>,
    #[serde(default)]
    pub consent: bool,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<Spanned<String>>,
    /// Scopes a client may ask for with `client_credentials`.
    #[serde(default)]
    pub api_scopes: Vec<String>,
    /// Profile attributes the app needs once signed in (progressive profiling).
    #[serde(default)]
    pub profile: Vec<Spanned<AppAttributeEntry>>,
    /// Sign-on rules, first match wins; the last must have no conditions.
    #[serde(default)]
    pub sign_on: Vec<Spanned<RuleEntry>>,
    /// This app is an API (resource server) with this identifier: access tokens for it
    /// carry it as `aud`, and it may introspect them.
    pub resource: Option<Spanned<String>>,
    /// The resource this app's access tokens are for when it asks for none (RFC 8707).
    pub audience: Option<Spanned<String>>,
    /// PKCE for the authorization code: required unless a confidential app opts out.
    pub require_pkce: Option<Spanned<bool>>,
}

fn yes() -> bool {
    true
}
