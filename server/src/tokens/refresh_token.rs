//! `grant_type=refresh_token`: rotation with reuse detection. Each refresh token works
//! once and is replaced by a successor in the same family; one that comes back after
//! use was stolen or leaked, so its whole family is revoked (OAuth 2.0 Security BCP
//! §4.14.2).

use super::{Caller, UserTokens, corrupt, log, sign_user_tokens, store_error};
use crate::app::AppState;
use crate::config::App;
use crate::crypto::{SystemEntropy, random_token, sha256};
use crate::engine::EventType;
use crate::engine::{Grant, LogOutcome};
use crate::oidc::OAuthError;
use crate::oidc::token::{self, TokenRequest, TokenResponse};
use crate::store::{Commit, RefreshUse, Rotation};

pub(super) async fn exchange(
    app: &AppState,
    caller: &Caller<'_>,
    client: &App,
    req: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let presented =
        req.refresh_token.as_deref().ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let now = app.clock.now();
    let presented_hash = sha256(presented.as_bytes());
    // Check the requested scope before the token is spent: a refused request must
    // leave the client its refresh token.
    let mut next_expires = now.plus(app.config.lifetimes.refresh_token);
    if let Some((grant, _)) = app.store.refresh_token(&presented_hash, now).await.map_err(store_error)? {
        let grant: Grant = serde_json::from_str(&grant).map_err(|e| corrupt("refresh token grant", e))?;
        if grant.client_id == client.client_id {
            token::narrowed_scope(req.scope.as_deref(), &grant.scope)?;
            token::user_audience(req.resource.as_deref(), &grant, client, &super::userinfo_url(&app.issuer))?;
        }
        // The successor lives no longer than the sign-in's refresh tokens may.
        if let Some(until) = grant.refresh_until {
            next_expires = next_expires.min(until);
        }
    }
    let next = random_token(&mut SystemEntropy, 32);
    let rotation = Rotation {
        token_hash: &presented_hash,
        client_id: &client.client_id,
        now,
        next_hash: &sha256(next.as_bytes()),
        next_expires,
    };
    let (grant, family) = match app.store.rotate_refresh(rotation).await.map_err(store_error)? {
        RefreshUse::Rotated(grant, family) => (grant, family),
        RefreshUse::Reused(_) => {
            let event = log(
                app,
                EventType::TokenDetectReuse,
                LogOutcome::Failure,
                None,
                "Refresh token used twice; its family was revoked",
                &client.client_id,
                caller,
                now,
            );
            app.store.commit(Commit { events: vec![event], ..Commit::default() }).await.map_err(store_error)?;
            return Err(OAuthError::invalid_grant("this refresh token was already used; its tokens are revoked"));
        }
        RefreshUse::Invalid => {
            return Err(OAuthError::invalid_grant("the refresh token is invalid, expired or revoked"));
        }
    };
    let mut grant: Grant = serde_json::from_str(&grant).map_err(|e| corrupt("refresh token grant", e))?;
    grant.scope = token::narrowed_scope(req.scope.as_deref(), &grant.scope)?;
    let audience = token::user_audience(req.resource.as_deref(), &grant, client, &super::userinfo_url(&app.issuer))?;
    let user = app
        .store
        .user_by_id(&grant.user_id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| OAuthError::invalid_grant("the account no longer exists"))?;
    let (extra, hook_event) = match super::hook::ask(app, caller, client, &grant, "refresh_token", &user, now).await {
        Ok(asked) => asked,
        Err((refused, event)) => {
            app.store.commit(Commit { events: vec![event], ..Commit::default() }).await.map_err(store_error)?;
            return Err(refused);
        }
    };
    let groups = super::groups_claim(app, &grant.scope, &user).await?;
    let tokens = sign_user_tokens(
        app,
        UserTokens {
            client,
            audience: &audience,
            grant: &grant,
            user: &user,
            groups: &groups,
            family: &family,
            refresh_token: Some(next),
            with_nonce: false,
            now,
            extra: &extra,
        },
    );
    let event = log(
        app,
        EventType::TokenGrantRefreshToken,
        LogOutcome::Success,
        Some(&user),
        "Tokens refreshed",
        &client.client_id,
        caller,
        now,
    );
    let events = hook_event.into_iter().chain([event]).collect();
    app.store.commit(Commit { events, ..Commit::default() }).await.map_err(store_error)?;
    Ok(tokens)
}
