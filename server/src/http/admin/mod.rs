//! The admin API (`/api/v1/admin/…`, and Okta's `/api/v1/logs`). Two kinds of caller:
//! an admin bearer token whose digest is configured (`[admin] token_hashes`: every
//! scope), or an app's `client_credentials` access token for the admin API's resource
//! (`{issuer}/api/v1/admin`) carrying the `passway.*` scope the route needs. With neither
//! configured, the API does not exist (404). Every write is logged with its actor.
//!
//! - `users.rs`: accounts: search, get, create, status, erase, unlock, profile;
//! - `access.rs`: an account's authenticators, sessions and token families;
//! - `groups.rs`: groups kept in the store and their members;
//! - `config.rs`: read-only views of the running configuration, and config validation;
//! - `policy.rs`: `GET /api/v1/admin/policy/explain`, the policy dry run;
//! - `logs.rs`: `GET /api/v1/logs`, the system log (Okta's path and parameters);
//! - `hooks.rs`: `GET /api/v1/admin/hooks…`, event hook health, deliveries and retries.

pub mod access;
pub mod config;
pub mod groups;
pub mod hooks;
pub mod logs;
pub mod policy;
pub mod users;

use axum::http::StatusCode;

use super::context::RequestContext;
use super::error::AppError;
use crate::app::AppState;
use crate::crypto::sha256;
use crate::engine::AdminActor;
pub use crate::oidc::admin_api::{Scope, is_admin_scope, resource};
use crate::store::StoreError;
use crate::tokens::access::{Audience, verify_access_token};

/// Whether the admin API exists: an admin token is configured, or an app may get a
/// token for it.
pub fn enabled(app: &AppState) -> bool {
    !app.config.admin_tokens.is_empty()
        || app.config.console_group.is_some()
        || app.config.apps.values().any(|a| a.api_scopes.iter().any(|s| is_admin_scope(s)))
}

/// The caller, if it may use `scope`.
async fn authorize(app: &AppState, ctx: &RequestContext, scope: Scope) -> Result<AdminActor, AppError> {
    if !enabled(app) {
        return Err(AppError::not_found(
            "the admin API is off: configure [admin] token_hashes, or an app with passway.* api_scopes",
        ));
    }
    // The console's pages: its cookie, with its header (see `http/console`).
    if let Some(value) = ctx.console.as_deref()
        && let Some(user) = crate::http::console::holder(app, value).await
    {
        return Ok(AdminActor { id: user.email, kind: "User" });
    }
    let unauthorized = |why: &str| {
        AppError::new(StatusCode::UNAUTHORIZED, "unauthorized", format!("an admin bearer token is required: {why}"))
    };
    let Some(token) = ctx.authorization.as_deref().and_then(|h| h.strip_prefix("Bearer ")).map(str::trim) else {
        return Err(unauthorized("no Authorization: Bearer header"));
    };
    let digest = sha256(token.as_bytes());
    if digest.matches_any(&app.config.admin_tokens) {
        // A prefix of the digest names the token in the log (never the token).
        let id = format!("admin-token:{}", &crate::crypto::b64url(&digest.0)[..8]);
        return Ok(AdminActor { id, kind: "AdminToken" });
    }
    let now = app.clock.now();
    let access = verify_access_token(app, token, now, Audience::Resource(&resource(&app.issuer)))
        .await
        .map_err(|_| AppError::internal("verifying an admin access token failed"))?
        .map_err(unauthorized)?;
    if access.family.is_some() {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the admin API takes client_credentials tokens, not a person's",
        ));
    }
    if !access.has_scope(scope.name()) && !scope.implied_by().is_some_and(|s| access.has_scope(s.name())) {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("this route needs the scope {}", scope.name()),
        ));
    }
    Ok(AdminActor { id: access.client_id, kind: "PublicClientApp" })
}

/// A store failure as the admin API answers it.
fn store_error(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict => AppError::new(
            StatusCode::CONFLICT,
            "version_conflict",
            "the account changed since it was read: read it again (its ETag) and retry",
        ),
        StoreError::NotFound(what) => AppError::not_found(format!("no such {what}")),
        StoreError::Duplicate(what) => {
            AppError::new(StatusCode::CONFLICT, "duplicate", format!("{what} already exists"))
        }
        e => AppError::internal(e),
    }
}
