//! `grant_type=client_credentials`: a confidential client gets an access token for
//! itself, for the scopes in its `api_scopes`, for one API (the `resource` it names, or
//! its `audience`). Checked and signed in memory: no
//! store read, no store write (so no system log entry per token either).

use crate::app::AppState;
use crate::config::App;
use crate::crypto::{SystemEntropy, random_token};
use crate::oidc::OAuthError;
use crate::oidc::claims::{self, ACCESS_TOKEN_TYP, AccessTokenInput};
use crate::oidc::token::{self, TokenRequest, TokenResponse};

pub(super) fn exchange(app: &AppState, client: &App, req: &TokenRequest) -> Result<TokenResponse, OAuthError> {
    if !client.is_confidential() {
        return Err(OAuthError::unauthorized_client("client_credentials needs a confidential client"));
    }
    // The admin API is one more resource, for clients with its scopes; its scopes are
    // only ever granted for it, and other APIs' scopes never are.
    let admin_api = crate::oidc::admin_api::resource(&app.issuer);
    let mut apis: Vec<&str> = app.config.apps.values().filter_map(|a| a.resource.as_deref()).collect();
    if client.api_scopes.iter().any(|s| crate::oidc::admin_api::is_admin_scope(s)) {
        apis.push(&admin_api);
    }
    let audience = token::client_audience(req.resource.as_deref(), client, &apis)?;
    let for_admin = audience.contains(&admin_api);
    let scope =
        token::client_scope(req.scope.as_deref(), client, |s| crate::oidc::admin_api::is_admin_scope(s) == for_admin)?;
    let now = app.clock.now();
    let jti = random_token(&mut SystemEntropy, 16);
    let lifetime = app.config.lifetimes.access_token;
    let input = AccessTokenInput {
        issuer: &app.issuer,
        audience: &audience,
        subject: &client.client_id,
        client_id: &client.client_id,
        scope: &scope,
        now,
        lifetime,
        jti: &jti,
        auth_time: None,
        family: None,
    };
    let access_token = app.keys.get().sign(client.signing_alg, now, ACCESS_TOKEN_TYP, &claims::access_token(&input));
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: lifetime.as_secs(),
        id_token: None,
        refresh_token: None,
        scope,
    })
}
