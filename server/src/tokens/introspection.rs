//! `/oauth2/v1/introspect` (RFC 7662), for APIs: only an app that is a resource
//! server (`resource = "…"`, confidential) may call it, and it learns only about
//! access tokens issued for it (its identifier in their `aud`) and its own refresh
//! tokens. Everything else is `{"active": false}`, which says nothing about why.

use serde_json::{Value, json};

use super::{Audience, Caller, authenticate, store_error, verify_access_token};
use crate::app::AppState;
use crate::crypto::sha256;
use crate::engine::Grant;
use crate::oidc::OAuthError;

pub async fn introspect(
    app: &AppState,
    caller: &Caller<'_>,
    client_id: Option<&str>,
    secret: Option<&str>,
    token: Option<&str>,
    hint: Option<&str>,
) -> Result<Value, OAuthError> {
    let client = authenticate(app, caller, client_id, secret)?;
    let Some(resource) = client.resource.as_deref() else {
        let mut refused =
            OAuthError::unauthorized_client("only an API (an app with a resource identifier) may introspect tokens");
        refused.status = 403;
        return Err(refused);
    };
    let token = token.ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let now = app.clock.now();
    let inactive = json!({ "active": false });
    let looks_like_jwt = token.split('.').count() == 3;
    if looks_like_jwt && hint != Some("refresh_token") {
        let Ok(access) = verify_access_token(app, token, now, Audience::Resource(resource)).await? else {
            return Ok(inactive);
        };
        let c = &access.claims;
        return Ok(json!({
            "active": true,
            "token_type": "Bearer",
            "scope": access.scope,
            "client_id": access.client_id,
            "sub": access.subject,
            "exp": c["exp"],
            "iat": c["iat"],
            "iss": c["iss"],
            "aud": c["aud"],
            "jti": access.jti,
        }));
    }
    let Some((grant, _family)) = app.store.refresh_token(&sha256(token.as_bytes()), now).await.map_err(store_error)?
    else {
        return Ok(inactive);
    };
    let grant: Grant = serde_json::from_str(&grant).map_err(|e| super::corrupt("refresh token grant", e))?;
    if grant.client_id != client.client_id {
        return Ok(inactive);
    }
    Ok(json!({
        "active": true,
        "token_type": "refresh_token",
        "scope": grant.scope,
        "client_id": grant.client_id,
        "sub": grant.user_id,
        "iss": app.issuer.as_ref(),
    }))
}
