//! The one TOML configuration file: parsed, then validated into [`Config`].
//!
//! Every problem is reported with the file, line and key, and what was expected, so a
//! bad configuration is refused at start instead of half-working.

mod authenticators;
mod error;
mod file;
mod hooks;
mod limits;
mod policy;
mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::{ConfigError, line_col};

use crate::crypto::Digest;
use crate::engine::{AppAttribute, AppSettings, EngineSettings, EnrollmentPolicy};
use crate::policy::SignOnPolicy;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the file was read from (relative paths in it are relative to its folder).
    pub source: PathBuf,
    pub listen: SocketAddr,
    /// Public base URL (the OIDC issuer), without a trailing slash. `None` means
    /// `http://{bound address}`, learnt once the socket is bound.
    pub issuer: Option<String>,
    pub dev_mode: bool,
    pub data_dir: PathBuf,
    pub master_key_file: Option<PathBuf>,
    pub store_url: String,
    /// PostgreSQL's connection pool.
    pub store_pool: crate::store::PoolSettings,
    /// Where `/metrics` is served, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// Where traces go (OTLP), if anywhere.
    pub telemetry: Option<Telemetry>,
    pub mail: MailConfig,
    pub engine: EngineSettings,
    pub apps: BTreeMap<String, App>,
    pub themes_dir: PathBuf,
    /// Host name → brand, for the hosted pages.
    pub hostnames: BTreeMap<String, String>,
    pub widget_dir: PathBuf,
    pub demo_dir: Option<PathBuf>,
    /// WebAuthn relying party per brand (brands without one have no passkeys).
    pub passkeys: BTreeMap<String, RelyingParty>,
    pub lifetimes: Lifetimes,
    /// Digests of the admin API's bearer tokens; none means the admin API is off.
    pub admin_tokens: Vec<Digest>,
    /// The group whose members may use the admin console (`/admin`).
    pub console_group: Option<String>,
    pub rate_limits: crate::limits::RateLimits,
    /// Proxies whose forwarding headers name the client (see `http::client_ip`).
    pub trusted_proxies: Vec<crate::policy::Cidr>,
    /// How long system log events are kept.
    pub events_retention: Duration,
    pub hooks: crate::hooks::HookConfig,
}

/// Where passkeys of a brand are scoped (WebAuthn RP ID) and which web origins may
/// use them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    pub rp_id: String,
    pub rp_name: String,
    /// Allowed origins, e.g. `https://auth.example.com`.
    pub origins: Vec<String>,
}

/// An app (OIDC client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub client_id: String,
    pub name: String,
    pub brand: String,
    pub redirect_uris: Vec<String>,
    /// Web origins allowed to call the flow API and the token endpoint from a browser.
    pub allowed_origins: Vec<String>,
    pub self_registration: bool,
    pub enrollment: EnrollmentPolicy,
    /// Digests of the client's secrets; empty for a public client.
    pub client_secrets: Vec<Digest>,
    pub grant_types: Vec<GrantType>,
    pub signing_alg: SigningAlg,
    /// Ask the person to allow the scopes (remembered per account).
    pub consent: bool,
    pub post_logout_redirect_uris: Vec<String>,
    pub api_scopes: Vec<String>,
    /// The notice emails on for this app (`welcome`, `new_device`, …; see `mail::template::SENT_NOTICES`).
    pub emails: Vec<String>,
    pub sign_on: SignOnPolicy,
    /// Profile attributes the app asks for once signed in, when the profile lacks them.
    pub profile_update: Vec<AppAttribute>,
    /// The inline hooks it calls, by point (`[[hooks.inline]]`).
    pub inline_hooks: crate::engine::hook::InlineHooks,
    /// When the app is an API (resource server): its identifier, the `aud` of access
    /// tokens for it. Such an app may introspect them.
    pub resource: Option<String>,
    /// The resource its access tokens are for when it asks for none.
    pub audience: Option<String>,
    /// Every authorization request must carry a PKCE challenge (only a confidential
    /// app may opt out).
    pub require_pkce: bool,
}

impl App {
    /// A confidential client authenticates with a secret; a public one (a SPA, the
    /// widget) cannot keep one and must use PKCE.
    pub fn is_confidential(&self) -> bool {
        !self.client_secrets.is_empty()
    }

    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether a browser page at `origin` may call the flow API and the token
    /// endpoints for this app: its own `allowed_origins`, or the issuer's origin.
    pub fn allows_origin(&self, origin: &str, issuer: &str) -> bool {
        let issuer_origin = url::Url::parse(issuer).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
        origin == issuer_origin || self.allowed_origins.iter().any(|a| a == origin)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub fn name(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SigningAlg {
    Es256,
    Rs256,
}

impl SigningAlg {
    pub fn name(self) -> &'static str {
        match self {
            SigningAlg::Es256 => "ES256",
            SigningAlg::Rs256 => "RS256",
        }
    }

    pub fn parse(name: &str) -> Option<SigningAlg> {
        match name {
            "ES256" => Some(SigningAlg::Es256),
            "RS256" => Some(SigningAlg::Rs256),
            _ => None,
        }
    }
}

/// Token, session and key lifetimes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifetimes {
    pub access_token: Duration,
    pub id_token: Duration,
    /// Each refresh token's own lifetime (renewed by rotation).
    pub refresh_token: Duration,
    /// The absolute lifetime of a sign-in's refresh tokens, however often rotated.
    pub refresh_token_max: Duration,
    pub session: Duration,
    pub session_idle: Duration,
    pub key_rotation: Duration,
    pub key_publish_ahead: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            access_token: Duration::from_secs(3600),
            id_token: Duration::from_secs(3600),
            refresh_token: Duration::from_secs(30 * 24 * 3600),
            refresh_token_max: Duration::from_secs(90 * 24 * 3600),
            session: Duration::from_secs(12 * 3600),
            session_idle: Duration::from_secs(2 * 3600),
            key_rotation: Duration::from_secs(90 * 24 * 3600),
            key_publish_ahead: Duration::from_secs(24 * 3600),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    pub from: String,
    pub transport: MailTransport,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// Kept in the store and shown at `/dev/mailbox` (dev mode only).
    Outbox,
    Smtp(SmtpConfig),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// Read from this environment variable at start, never from the file.
    pub password_env: Option<String>,
}

/// `[telemetry]`: OpenTelemetry traces over OTLP/HTTP (see `telemetry.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telemetry {
    /// Without a trailing slash.
    pub otlp_endpoint: String,
    pub service_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    None,
    StartTls,
    Tls,
}

/// The admin console's own OIDC client (made by the server when the console is on).
pub const CONSOLE_CLIENT_ID: &str = "passway-console";

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::io(path, e))?;
        Config::parse(&text, path)
    }

    /// Validates `text` as if read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        validate::validate(text, path)
    }

    /// What is allowed but probably not meant, in words (`passway check-config` and the
    /// server's start print them).
    pub fn warnings(&self) -> Vec<String> {
        let recovery = &self.engine.recovery;
        let weak_factors = recovery.authenticators.iter().filter(|k| !k.characteristics().phishing_resistant).count();
        let mut out = vec![];
        if recovery.email_alone_for_phishing_resistant_apps || weak_factors < recovery.factors {
            return out;
        }
        for app in self.apps.values().filter(|a| a.sign_on.requires_phishing_resistance()) {
            out.push(format!(
                "app {:?} requires phishing resistance, but [recovery] would reset an account with {} alone: \
                 recovery there also asks for the account's passkey (an account without one cannot recover). \
                 Add \"passkey\" to recovery.authenticators to say so, or set \
                 recovery.email_alone_for_phishing_resistant_apps = true to let email recover it",
                app.client_id,
                recovery.authenticators.iter().map(|k| k.key()).collect::<Vec<_>>().join(" or "),
            ));
        }
        out
    }

    /// The admin console's client: a public app (PKCE) whose only redirect is the
    /// console's callback, in the default brand.
    pub fn console_app(&self, issuer: &str) -> Option<App> {
        self.console_group.as_ref()?;
        Some(App {
            client_id: CONSOLE_CLIENT_ID.into(),
            name: "Passway admin console".into(),
            brand: crate::branding::DEFAULT_BRAND.into(),
            redirect_uris: vec![format!("{issuer}/admin/callback")],
            allowed_origins: vec![],
            self_registration: false,
            enrollment: Default::default(),
            client_secrets: vec![],
            grant_types: vec![GrantType::AuthorizationCode],
            signing_alg: SigningAlg::Es256,
            consent: false,
            post_logout_redirect_uris: vec![format!("{issuer}/admin")],
            api_scopes: vec![],
            emails: vec![],
            sign_on: Default::default(),
            profile_update: vec![],
            inline_hooks: Default::default(),
            resource: None,
            audience: None,
            require_pkce: true,
        })
    }

    /// Resolves a path from the file relative to the file's folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        resolve_relative(&self.source, p)
    }

    pub fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.get(client_id)
    }

    /// The brand of a custom domain (`[themes.hostnames]`), for a `Host` header (any
    /// port, any case).
    pub fn brand_of_host(&self, host: &str) -> Option<&str> {
        let name =
            host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(n, _)| n);
        self.hostnames.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    /// The brand a flow shows: its custom domain's, else its app's.
    pub fn brand_of_flow<'a>(&'a self, flow: &crate::engine::Flow, app: &'a App) -> &'a str {
        flow.requester.host.as_deref().and_then(|h| self.brand_of_host(h)).unwrap_or(&app.brand)
    }

    /// The app that is the API (resource server) named `resource`.
    pub fn resource_server(&self, resource: &str) -> Option<&App> {
        self.apps.values().find(|a| a.resource.as_deref() == Some(resource))
    }

    /// What the engine needs to know of an app.
    pub fn app_settings(&self, app: &App) -> AppSettings {
        AppSettings {
            client_id: app.client_id.clone(),
            name: app.name.clone(),
            self_registration: app.self_registration,
            passkeys: self.passkeys.contains_key(&app.brand),
            enrollment: app.enrollment.clone(),
            consent: app.consent,
            sign_on: app.sign_on.clone(),
            profile_update: app.profile_update.clone(),
            hooks: app.inline_hooks.clone(),
        }
    }
}

fn resolve_relative(source: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_owned() } else { source.parent().unwrap_or(Path::new(".")).join(p) }
}

#[cfg(test)]
mod tests;
