//! `grant_type=authorization_code`: a code, used once, for the tokens of the sign-in
//! it ended. The code's first use names the token family; a second use revokes it.

use super::{Caller, UserTokens, corrupt, log, refresh_token_for, sign_user_tokens, store_error};
use crate::app::AppState;
use crate::config::App;
use crate::crypto::{SystemEntropy, sha256};
use crate::engine::EventType;
use crate::engine::{Grant, LogOutcome, User};
use crate::oidc::OAuthError;
use crate::oidc::token::{self, TokenRequest, TokenResponse};
use crate::store::{CodeUse, Commit, StoredFamily, StoredRefresh};

pub(super) async fn exchange(
    app: &AppState,
    caller: &Caller<'_>,
    client: &App,
    req: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let code = req.code.as_deref().ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let now = app.clock.now();
    let code_hash = sha256(code.as_bytes());
    // Client, redirect URI and PKCE are checked before the code is spent: someone who
    // holds a stolen code but not its verifier must not burn it for its owner. (A code
    // already used is not live: its replay is recognised below, and revokes.)
    if let Some(live) = app.store.live_code(&code_hash, now).await.map_err(store_error)? {
        let grant: Grant = serde_json::from_str(&live).map_err(|e| corrupt("authorization code grant", e))?;
        token::check_code_exchange(req, &grant, client)?;
    }
    let family = crate::crypto::ordered_id(now.0, &mut SystemEntropy);
    let grant = match app.store.use_code(&code_hash, now, &family).await.map_err(store_error)? {
        CodeUse::Fresh(grant) => grant,
        CodeUse::Replayed { family } => {
            // RFC 6749 §4.1.2: a replayed code revokes what it issued.
            if let Some(f) = family {
                app.store.revoke_family(&f, now).await.map_err(store_error)?;
            }
            let event = log(
                app,
                EventType::TokenDetectReuse,
                LogOutcome::Failure,
                None,
                "Authorization code used twice; its tokens were revoked",
                &client.client_id,
                caller,
                now,
            );
            app.store.commit(Commit { events: vec![event], ..Commit::default() }).await.map_err(store_error)?;
            return Err(OAuthError::invalid_grant("this authorization code was already used"));
        }
        CodeUse::Expired => return Err(OAuthError::invalid_grant("this authorization code has expired")),
        CodeUse::Unknown => return Err(OAuthError::invalid_grant("unknown authorization code")),
    };
    let mut grant: Grant = serde_json::from_str(&grant).map_err(|e| corrupt("authorization code grant", e))?;
    token::check_code_exchange(req, &grant, client)?;
    let audience = token::user_audience(req.resource.as_deref(), &grant, client, &super::userinfo_url(&app.issuer))?;
    // However often they are rotated, this sign-in's refresh tokens end then.
    grant.refresh_until = Some(now.plus(app.config.lifetimes.refresh_token_max));
    let user = if crate::engine::is_guest(&grant.user_id) {
        // An anonymous guest: a pseudonym, no account behind it.
        User { id: grant.user_id.clone(), email: String::new(), profile: Default::default() }
    } else {
        app.store
            .user_by_id(&grant.user_id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| OAuthError::invalid_grant("the account no longer exists"))?
    };
    let refresh = refresh_token_for(client, &grant.scope);
    let mut commit = Commit {
        families: vec![StoredFamily {
            id: family.clone(),
            client_id: client.client_id.clone(),
            user_id: Some(user.id.clone()),
            created_at: now,
        }],
        ..Commit::default()
    };
    if let Some(rt) = &refresh {
        commit.refresh_tokens.push(StoredRefresh {
            token_hash: sha256(rt.as_bytes()),
            family_id: family.clone(),
            grant: serde_json::to_string(&grant).expect("grant serialises"),
            issued_at: now,
            expires_at: now.plus(app.config.lifetimes.refresh_token).min(grant.refresh_until.unwrap_or(now)),
        });
    }
    let (extra, hook_event) =
        match super::hook::ask(app, caller, client, &grant, "authorization_code", &user, now).await {
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
            refresh_token: refresh,
            with_nonce: true,
            now,
            extra: &extra,
        },
    );
    commit.events.extend(hook_event);
    commit.events.push(log(
        app,
        EventType::TokenGrantIdToken,
        LogOutcome::Success,
        Some(&user),
        "ID token and access token issued",
        &client.client_id,
        caller,
        now,
    ));
    app.store.commit(commit).await.map_err(store_error)?;
    Ok(tokens)
}
