//! The token endpoint's messages, and the checks each grant makes that need no store
//! (RFC 6749 §4.1.3, §4.4, §6; RFC 7636 §4.6).

use serde::{Deserialize, Serialize};

use super::{OAuthError, pkce};
use crate::config::App;
use crate::engine::Grant;

/// The form posted to `/oauth2/v1/token`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    /// RFC 8707: the API the access token is for.
    pub resource: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// Checks that the request matches the code's grant: same client, same redirect URI,
/// and a verifier that answers the PKCE challenge (none without a challenge).
pub fn check_code_exchange(req: &TokenRequest, grant: &Grant, client: &App) -> Result<(), OAuthError> {
    if client.client_id != grant.client_id {
        return Err(OAuthError::invalid_grant("the code was issued to another client"));
    }
    if req.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
    }
    match (&grant.code_challenge, req.code_verifier.as_deref()) {
        (Some(_), None) => Err(OAuthError::invalid_request("code_verifier is required")),
        (Some(challenge), Some(verifier)) if !pkce::verify(verifier, challenge) => {
            Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge"))
        }
        (None, Some(_)) => Err(OAuthError::invalid_grant("the authorization request had no code_challenge")),
        _ => Ok(()),
    }
}

/// The `aud` of an account's access token (RFC 8707, RFC 9068 §3): the API the grant is
/// for (the one asked for at authorization, else the app's `audience`) and, for an
/// OpenID sign-in, the userinfo endpoint. A `resource` asked at the token endpoint must
/// be that API.
pub fn user_audience(
    requested: Option<&str>,
    grant: &Grant,
    client: &App,
    userinfo: &str,
) -> Result<Vec<String>, OAuthError> {
    let api = grant.resource.as_deref().or(client.audience.as_deref());
    if let Some(r) = requested.filter(|r| !r.is_empty())
        && Some(r) != api
    {
        return Err(OAuthError::invalid_target(format!("the grant is not for the resource {r:?}")));
    }
    let mut aud: Vec<String> = api.map(str::to_owned).into_iter().collect();
    if grant.scope.split(' ').any(|s| s == "openid") {
        aud.push(userinfo.to_owned());
    }
    Ok(aud)
}

/// The `aud` of a `client_credentials` token: the API asked for (one of `apis`), else
/// the app's `audience`; a token must be for some API.
pub fn client_audience(requested: Option<&str>, client: &App, apis: &[&str]) -> Result<Vec<String>, OAuthError> {
    match requested.filter(|r| !r.is_empty()) {
        Some(r) if apis.contains(&r) => Ok(vec![r.to_owned()]),
        Some(r) => Err(OAuthError::invalid_target(format!("no API has the resource {r:?}"))),
        None => client.audience.clone().map(|a| vec![a]).ok_or_else(|| {
            OAuthError::invalid_target("name the API the token is for: a resource parameter, or the app's audience")
        }),
    }
}

/// The scope of a refreshed token: the one granted, or a subset of it.
pub fn narrowed_scope(requested: Option<&str>, granted: &str) -> Result<String, OAuthError> {
    let Some(requested) = requested.filter(|s| !s.trim().is_empty()) else { return Ok(granted.to_owned()) };
    let allowed: Vec<&str> = granted.split(' ').collect();
    let mut scopes: Vec<&str> = vec![];
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        if !allowed.contains(&s) {
            return Err(OAuthError::invalid_scope(format!("scope {s:?} was not granted")));
        }
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    Ok(scopes.join(" "))
}

/// The scope of a `client_credentials` token: what was asked, from the client's
/// `api_scopes` that `fits` the audience; all of those when nothing was asked.
pub fn client_scope(requested: Option<&str>, client: &App, fits: impl Fn(&str) -> bool) -> Result<String, OAuthError> {
    let allowed: Vec<&str> = client.api_scopes.iter().map(String::as_str).filter(|s| fits(s)).collect();
    match requested.filter(|s| !s.trim().is_empty()) {
        None => Ok(allowed.join(" ")),
        Some(requested) => {
            let mut scopes: Vec<&str> = vec![];
            for s in requested.split(' ').filter(|s| !s.is_empty()) {
                if !allowed.contains(&s) {
                    return Err(OAuthError::invalid_scope(format!(
                        "scope {s:?} is not in the client's api_scopes for this resource"
                    )));
                }
                if !scopes.contains(&s) {
                    scopes.push(s);
                }
            }
            Ok(scopes.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{GrantType, SigningAlg};
    use crate::engine::{EnrollmentPolicy, Timestamp};

    fn app(id: &str, api_scopes: &[&str]) -> App {
        App {
            client_id: id.into(),
            name: id.into(),
            brand: "default".into(),
            redirect_uris: vec![],
            allowed_origins: vec![],
            self_registration: false,
            enrollment: EnrollmentPolicy::default(),
            client_secrets: vec![],
            grant_types: vec![GrantType::AuthorizationCode],
            signing_alg: SigningAlg::Es256,
            consent: false,
            post_logout_redirect_uris: vec![],
            api_scopes: api_scopes.iter().map(|s| s.to_string()).collect(),
            emails: vec![],
            sign_on: Default::default(),
            profile_update: vec![],
            inline_hooks: Default::default(),
            resource: None,
            audience: None,
            require_pkce: true,
        }
    }

    fn grant(challenge: Option<&str>) -> Grant {
        Grant {
            client_id: "shop".into(),
            user_id: "u".into(),
            redirect_uri: "https://x/cb".into(),
            scope: "openid".into(),
            nonce: None,
            code_challenge: challenge.map(str::to_owned),
            auth_time: Timestamp(0),
            amr: vec![],
            proofs: vec![],
            expires_at: Timestamp(0),
            session_id: None,
            acr_values: None,
            resource: None,
            refresh_until: None,
        }
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn check(client: &str, challenge: Option<&str>, edit: impl FnOnce(&mut TokenRequest), expected: Result<(), &str>) {
        let mut req = TokenRequest {
            grant_type: Some("authorization_code".into()),
            code: Some("c".into()),
            redirect_uri: Some("https://x/cb".into()),
            code_verifier: Some(VERIFIER.into()),
            ..TokenRequest::default()
        };
        edit(&mut req);
        let got = check_code_exchange(&req, &grant(challenge), &app(client, &[]));
        assert_eq!(got.map_err(|e| e.to_string()), expected.map_err(str::to_owned));
    }

    #[test]
    fn exchange_checks() {
        check("shop", Some(CHALLENGE), |_| {}, Ok(()));
        check("other", Some(CHALLENGE), |_| {}, Err("invalid_grant: the code was issued to another client"));
        check(
            "shop",
            Some(CHALLENGE),
            |r| r.redirect_uri = None,
            Err("invalid_grant: redirect_uri does not match the authorization request"),
        );
        check("shop", Some(CHALLENGE), |r| r.code_verifier = None, Err("invalid_request: code_verifier is required"));
        check(
            "shop",
            Some(CHALLENGE),
            |r| r.code_verifier = Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX".into()),
            Err("invalid_grant: code_verifier does not match the code_challenge"),
        );
        // A confidential client's request without PKCE.
        check("shop", None, |r| r.code_verifier = None, Ok(()));
        check("shop", None, |_| {}, Err("invalid_grant: the authorization request had no code_challenge"));
    }

    #[test]
    fn scopes() {
        assert_eq!(narrowed_scope(None, "openid email offline_access").unwrap(), "openid email offline_access");
        assert_eq!(narrowed_scope(Some("email openid email"), "openid email").unwrap(), "email openid");
        assert_eq!(
            narrowed_scope(Some("openid profile"), "openid email").unwrap_err().to_string(),
            "invalid_scope: scope \"profile\" was not granted"
        );
        let api = app("svc", &["orders:read", "orders:write"]);
        assert_eq!(client_scope(None, &api, |_| true).unwrap(), "orders:read orders:write");
        assert_eq!(client_scope(Some("orders:read"), &api, |_| true).unwrap(), "orders:read");
        assert_eq!(
            client_scope(Some("admin"), &api, |_| true).unwrap_err().to_string(),
            "invalid_scope: scope \"admin\" is not in the client's api_scopes for this resource"
        );
        let both = app("ops", &["orders:read", "passway.users.read"]);
        let admin = |s: &str| s.starts_with("passway.");
        assert_eq!(client_scope(None, &both, admin).unwrap(), "passway.users.read", "only the resource's scopes");
        assert!(client_scope(Some("orders:read"), &both, admin).is_err());
    }
}
