//! The admin API, behind a bearer token whose digest is configured
//! (`[admin] token_hashes`); without one configured, it does not exist (404).
//!
//! - `policy.rs`: `GET /api/v1/admin/policy/explain`, the policy dry run;
//! - `logs.rs`: `GET /api/v1/logs`, the system log (Okta's path and parameters);
//! - `hooks.rs`: `GET /api/v1/admin/hooks…`, event hook health, deliveries and retries.

pub mod hooks;
pub mod logs;
pub mod policy;

use axum::http::StatusCode;

use super::context::RequestContext;
use super::error::AppError;
use crate::app::AppState;
use crate::crypto::sha256;

/// A bearer token whose digest is configured.
fn authorize(app: &AppState, ctx: &RequestContext) -> Result<(), AppError> {
    if app.config.admin_tokens.is_empty() {
        return Err(AppError::not_found("the admin API is off: no [admin] token_hashes are configured"));
    }
    let presented =
        ctx.authorization.as_deref().and_then(|h| h.strip_prefix("Bearer ")).map(|t| sha256(t.trim().as_bytes()));
    if presented.is_some_and(|p| p.matches_any(&app.config.admin_tokens)) {
        Ok(())
    } else {
        Err(AppError::new(StatusCode::UNAUTHORIZED, "unauthorized", "an admin bearer token is required"))
    }
}
