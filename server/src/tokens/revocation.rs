//! `/oauth2/v1/revoke` (RFC 7009). A client revokes its own tokens: an access token
//! until it would have expired, a refresh token with its whole family (the access
//! tokens issued with it included). Unknown or foreign tokens are answered like
//! revoked ones, so the endpoint reveals nothing. `token_type_hint` is not needed:
//! the two kinds cannot be mistaken for each other (a JWT has two dots).

use super::{Caller, authenticate, corrupt, log, store_error, verify_access_token};
use crate::app::AppState;
use crate::crypto::sha256;
use crate::engine::EventType;
use crate::engine::{Grant, LogOutcome};
use crate::oidc::OAuthError;
use crate::store::Commit;

pub async fn revoke(
    app: &AppState,
    caller: &Caller<'_>,
    client_id: Option<&str>,
    secret: Option<&str>,
    token: Option<&str>,
) -> Result<(), OAuthError> {
    let client = authenticate(app, caller, client_id, secret)?;
    let token = token.ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let now = app.clock.now();
    let mut revoked = None;
    if token.split('.').count() == 3 {
        if let Ok(access) = verify_access_token(app, token, now, super::Audience::Any).await?
            && access.client_id == client.client_id
        {
            app.store.revoke_access_token(&access.jti, access.expires_at).await.map_err(store_error)?;
            revoked = Some("Access token revoked");
        }
    } else if let Some((grant, family)) =
        app.store.refresh_token(&sha256(token.as_bytes()), now).await.map_err(store_error)?
    {
        let grant: Grant = serde_json::from_str(&grant).map_err(|e| corrupt("refresh token grant", e))?;
        if grant.client_id == client.client_id {
            app.store.revoke_family(&family, now).await.map_err(store_error)?;
            revoked = Some("Refresh token revoked, with the tokens issued alongside");
        }
    }
    if let Some(message) = revoked {
        let event =
            log(app, EventType::TokenRevoke, LogOutcome::Success, None, message, &client.client_id, caller, now);
        app.store.commit(Commit { events: vec![event], ..Commit::default() }).await.map_err(store_error)?;
    }
    Ok(())
}
