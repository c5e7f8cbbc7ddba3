//! `/.well-known/openid-configuration`: what this provider does, truthfully.

use serde_json::{Value, json};

use super::SUPPORTED_SCOPES;

pub fn metadata(issuer: &str, locales: &[&str]) -> Value {
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/v1/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/v1/token"),
        "userinfo_endpoint": format!("{issuer}/oauth2/v1/userinfo"),
        "jwks_uri": format!("{issuer}/oauth2/v1/keys"),
        "revocation_endpoint": format!("{issuer}/oauth2/v1/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth2/v1/introspect"),
        "end_session_endpoint": format!("{issuer}/oauth2/v1/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "scopes_supported": SUPPORTED_SCOPES,
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "acr_values_supported": crate::policy::Acr::ALL.map(crate::policy::Acr::uri),
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "at_hash",
            "email", "email_verified", "name", "given_name", "family_name"],
        "ui_locales_supported": locales,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": false,
    })
}
