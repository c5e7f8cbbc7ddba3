//! Event hook health for operators (admin bearer token):
//! - `GET /api/v1/admin/hooks`: each configured hook, verified or not, its backlog,
//!   failures and next attempt;
//! - `GET /api/v1/admin/hooks/{name}/deliveries`: its latest attempts (kept 7 days);
//! - `POST /api/v1/admin/hooks/{name}/retry`: try its waiting batch now.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Scope, authorize};
use crate::app::AppState;
use crate::engine::Timestamp;
use crate::http::context::RequestContext;
use crate::http::error::AppError;
use crate::store::{HookAttempt, HookState};

fn instant(t: Option<Timestamp>) -> Value {
    t.filter(|t| t.0 > 0).map_or(Value::Null, |t| Value::String(t.rfc3339_millis()))
}

pub fn state_json(s: &HookState) -> Value {
    json!({
        "name": s.name,
        "url": s.url,
        "status": s.status,
        "reason": s.reason,
        "verifiedAt": instant(s.verified_at),
        "pending": s.pending,
        "batch": s.batch,
        "attempts": s.attempts,
        "nextAttemptAt": instant(Some(s.next_attempt_at)),
        "failingSince": instant(s.failing_since),
        "deliveredBy": s.lease_owner,
    })
}

pub fn attempt_json(a: &HookAttempt) -> Value {
    json!({
        "webhookId": a.webhook_id,
        "at": instant(Some(a.at)),
        "events": a.events,
        "status": a.status,
        "latencyMs": a.latency_ms,
        "error": a.error,
    })
}

/// Every configured event hook and how its deliveries go.
#[utoipa::path(get, path = "/api/v1/admin/hooks",
    responses((status = 200, body = Vec<Object>), (status = 401, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError)))]
pub async fn list(State(app): State<AppState>, ctx: RequestContext) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::HooksManage).await?;
    let stored = app.store.hooks().await.map_err(AppError::internal)?;
    let hooks: Vec<Value> = app
        .config
        .hooks
        .events
        .iter()
        .map(|hook| {
            let mut v = match stored.iter().find(|s| s.name == hook.name) {
                Some(s) => state_json(s),
                // Not yet seen by a delivery task (the server has just started).
                None => json!({ "name": hook.name, "url": hook.url, "status": "unverified", "pending": 0 }),
            };
            v["events"] = hook.events.iter().map(|e| e.name()).collect();
            v
        })
        .collect();
    Ok(Json(hooks).into_response())
}

/// A hook's latest delivery attempts, newest first.
#[utoipa::path(get, path = "/api/v1/admin/hooks/{name}/deliveries",
    params(("name" = String, Path, description = "The hook's name")),
    responses((status = 200, body = Vec<Object>), (status = 401, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError)))]
pub async fn deliveries(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::HooksManage).await?;
    known(&app, &name)?;
    let attempts = app.store.hook_attempts(&name, 100).await.map_err(AppError::internal)?;
    Ok(Json(attempts.iter().map(attempt_json).collect::<Vec<_>>()).into_response())
}

/// Tries a hook's waiting batch now instead of at its next backoff.
#[utoipa::path(post, path = "/api/v1/admin/hooks/{name}/retry",
    params(("name" = String, Path, description = "The hook's name")),
    responses((status = 200, body = Object), (status = 401, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError)))]
pub async fn retry(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::HooksManage).await?;
    known(&app, &name)?;
    let retried = app.store.hook_retry_now(&name).await.map_err(AppError::internal)?;
    Ok(Json(json!({ "retried": retried })).into_response())
}

fn known(app: &AppState, name: &str) -> Result<(), AppError> {
    if app.config.hooks.events.iter().any(|h| h.name == name) {
        Ok(())
    } else {
        Err(AppError::not_found(format!("no event hook is named {name:?}")))
    }
}
