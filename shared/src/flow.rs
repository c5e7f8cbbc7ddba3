use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Remediation;

/// What the server answers for a flow: where it stands and what can be done next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlowResponse {
    /// Wire format version, [`crate::PROTOCOL_VERSION`].
    pub version: String,
    /// The flow's handle. It names the flow but does not let anyone act on it: every
    /// request about the flow must also come from the browser that started it (its
    /// device cookie) or carry [`FlowResponse::binding`].
    pub handle: String,
    /// The flow's binding secret, given only to the browser that started the flow. Send
    /// it as the [`crate::BINDING_HEADER`] header with every request about the flow
    /// (a browser whose cookies do not reach the server, e.g. a widget embedded on
    /// another site, needs it). Keep it in memory: never in a URL, storage or logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<String>,
    /// RFC 3339 instant after which the flow is gone.
    pub expires_at: String,
    pub intent: Intent,
    pub app: AppInfo,
    /// The person the flow is about, masked, once an identifier was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
    /// What can be done next, the primary action first.
    #[serde(default)]
    pub remediations: Vec<Remediation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_authenticator: Option<CurrentAuthenticator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<Remediation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<Success>,
    /// Interface text for this step, already resolved for the brand and locale,
    /// keyed by stable i18n key (e.g. `email.challenge.title`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub strings: BTreeMap<String, String>,
    /// The language `strings` and messages are in (a BCP 47 tag such as `ar` or
    /// `pt-BR`): a client sets its `lang`, and `dir` for right-to-left scripts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

impl FlowResponse {
    /// The remediation with this name, if it is offered.
    pub fn remediation(&self, name: &str) -> Option<&Remediation> {
        self.remediations.iter().find(|r| r.name == name)
    }

    /// Text for `key`, or `fallback` when the server did not send it.
    pub fn text<'a>(&'a self, key: &str, fallback: &'a str) -> &'a str {
        self.strings.get(key).map(String::as_str).unwrap_or(fallback)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    #[default]
    Login,
    Register,
    Recover,
    /// The signed-in person's own account: profile, authenticators, sessions (signing
    /// in first when no session is live).
    Account,
}

impl Intent {
    /// The intent of a flow sent back to sign in: the account page stays the account
    /// page, anything else becomes a sign-in.
    pub fn signing_in(self) -> Intent {
        if self == Intent::Account { Intent::Account } else { Intent::Login }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppInfo {
    pub id: String,
    pub name: String,
    /// Theme folder name; the widget loads `/themes/{brand}/theme.css`.
    pub brand: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    /// The identifier as typed, masked (`j***@example.com`).
    pub identifier: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    /// Stable i18n key, e.g. `email.code.invalid`.
    pub key: String,
    /// The text for the requested locale (English by default).
    pub text: String,
    pub level: Level,
    /// The field this message is about, when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Error,
    Warning,
    Info,
}

/// The challenge under way, with what a client needs to present it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrentAuthenticator {
    /// Authenticator key: `email`, `passkey`, `password`, `totp`.
    pub key: String,
    /// What to show the person about it, e.g. the masked email address.
    pub display: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend: Option<Resend>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<Poll>,
    /// RFC 3339 instant after which this challenge can no longer be answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// While enrolling an authenticator app (`totp`): what to scan or type into it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<Activation>,
}

/// What an authenticator app needs to be set up: the `otpauth://` URI, as a QR code
/// and as a secret to type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Activation {
    /// The key URI (`otpauth://totp/ISSUER:ACCOUNT?secret=…`).
    pub uri: String,
    /// The shared secret in base32, in groups of four, for typing by hand.
    pub shared_secret: String,
    pub qr_code: QrCode,
}

/// A QR code as one SVG path: `size` modules square, each dark module a unit square
/// at its column and row. Draw it in a `viewBox` of `-4 -4 size+8 size+8` (the quiet
/// zone) on a light background.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QrCode {
    pub size: u32,
    /// The `d` attribute of the path.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resend {
    /// The `resend` remediation's URL (POST, empty object).
    pub href: String,
    /// Seconds until a resend is accepted; 0 when it is now.
    pub retry_after_seconds: u32,
}

/// How to learn that an out-of-band proof arrived (a magic link opened elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Poll {
    /// The `challenge-poll` remediation's URL (POST, empty object).
    pub href: String,
    /// Server-sent events URL announcing that the flow changed.
    pub events: String,
    /// Polling interval for clients without server-sent events.
    pub interval_ms: u32,
}

/// The end of a flow: what the client hands to its app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Success {
    /// For flows started by the hosted page: the app's `redirect_uri` with `code` and `state`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_to: Option<String>,
    /// For embedded flows: the authorization code, exchanged at the token endpoint
    /// with the PKCE verifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Set when the flow ended without access (e.g. `access_denied`: consent was
    /// refused); there is then no `code`. For hosted flows `redirect_to` carries it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// For embedded flows: the issuer that answered (RFC 9207), to compare with the
    /// one the client expects. Hosted flows carry it in `redirect_to` as `iss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
}
