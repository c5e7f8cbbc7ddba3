use serde::{Deserialize, Serialize};

use crate::Intent;

/// `POST /api/v1/flows`: starts a flow for an app, carrying the OAuth 2.0 / OIDC
/// authorization request that the flow ends with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "client_id": "acme-shop", "redirect_uri": "http://localhost:8080/demo/website/",
    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
    "scope": "openid email profile", "state": "af0ifjsldkj", "nonce": "n-0S6_WzA2Mj"
})))]
#[serde(deny_unknown_fields)]
pub struct StartFlow {
    pub client_id: String,
    pub redirect_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Space-separated scopes; `openid` is implied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub code_challenge: String,
    /// Only `S256` is accepted.
    pub code_challenge_method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<Intent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    /// OIDC `prompt`: `login` to ask even with a live session, `consent`, or `none`
    /// (answer from the session, or fail with `login_required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Seconds since the last sign-in after which the person must sign in again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_values: Option<String>,
    /// Preferred interface languages, space-separated, best first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_locales: Option<String>,
    /// The API the access token is for (RFC 8707), by its identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}
