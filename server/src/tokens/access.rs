//! Checking an access token this server issued: signature by a published key, type,
//! issuer, audience, expiry, and that neither it nor its family was revoked.

use serde_json::Value;

use super::store_error;
use crate::app::AppState;
use crate::engine::Timestamp;
use crate::oidc::OAuthError;
use crate::oidc::claims::{ACCESS_TOKEN_TYP, FAMILY_CLAIM};

/// A live access token's claims.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub claims: Value,
    pub jti: String,
    pub subject: String,
    pub client_id: String,
    pub scope: String,
    pub expires_at: Timestamp,
    /// Present for tokens issued to an account (not `client_credentials`).
    pub family: Option<String>,
}

impl AccessToken {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

/// Why a token is not accepted; the message is safe to show the caller.
pub type Refusal = &'static str;

/// Who is about to rely on a token: it must be in the token's `aud`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience<'a> {
    /// The userinfo endpoint.
    Userinfo,
    /// An API, by its identifier (introspection on its behalf).
    Resource(&'a str),
    /// Anyone (revocation: ending a token needs no audience).
    Any,
}

/// Verifies `token` for `audience`; `Ok(Err(_))` is a token refused, `Err(_)` a server
/// failure.
pub async fn verify_access_token(
    app: &AppState,
    token: &str,
    now: Timestamp,
    audience: Audience<'_>,
) -> Result<Result<AccessToken, Refusal>, OAuthError> {
    let Some(verified) = app.keys.get().verify(token, now) else {
        return Ok(Err("the access token is malformed or its signature is not valid"));
    };
    if verified.header.get("typ").and_then(Value::as_str) != Some(ACCESS_TOKEN_TYP) {
        return Ok(Err("this is not an access token"));
    }
    let c = verified.claims;
    let text = |name: &str| c.get(name).and_then(Value::as_str).map(str::to_owned);
    if text("iss").as_deref() != Some(app.issuer.as_ref()) {
        return Ok(Err("the access token was issued by another server"));
    }
    let auds: Vec<&str> = match c.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let userinfo = super::userinfo_url(&app.issuer);
    let for_us = match audience {
        Audience::Userinfo => auds.contains(&userinfo.as_str()),
        Audience::Resource(r) => auds.contains(&r),
        Audience::Any => true,
    };
    if !for_us {
        return Ok(Err("the access token is not for this audience"));
    }
    let Some(exp) = c.get("exp").and_then(Value::as_i64) else { return Ok(Err("the access token has no expiry")) };
    if now.unix_seconds() >= exp {
        return Ok(Err("the access token has expired"));
    }
    let (Some(jti), Some(subject), Some(client_id)) = (text("jti"), text("sub"), text("client_id")) else {
        return Ok(Err("the access token lacks jti, sub or client_id"));
    };
    if app.store.access_token_revoked(&jti).await.map_err(store_error)? {
        return Ok(Err("the access token was revoked"));
    }
    let family = text(FAMILY_CLAIM);
    if let Some(f) = &family
        && app.store.family_revoked(f).await.map_err(store_error)?
    {
        return Ok(Err("the access token was revoked"));
    }
    Ok(Ok(AccessToken {
        scope: text("scope").unwrap_or_default(),
        expires_at: Timestamp::from_unix_seconds(exp),
        claims: c,
        jti,
        subject,
        client_id,
        family,
    }))
}
