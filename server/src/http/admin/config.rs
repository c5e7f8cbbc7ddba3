//! The running configuration, read-only (`passway.config.read`), secrets never shown:
//! - `GET /api/v1/admin/apps`: apps, their grants, URIs, rules and hooks;
//! - `GET /api/v1/admin/brands`: the themes served, and the problems of any that fails
//!   its checks (it keeps its last good version);
//! - `GET /api/v1/admin/policies`: groups, zones and the global session policy rules;
//! - `GET /api/v1/admin/keys`: signing keys and where each is in its rotation;
//! - `POST /api/v1/admin/config/validate`: a config file (the body, TOML) checked as the
//!   server checks its own at start (sent as text/plain) (relative paths from the running file's folder),
//!   answered with the first problem's line, column and key.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Scope, authorize, store_error};
use crate::app::AppState;
use crate::config::Config;
use crate::http::context::RequestContext;
use crate::http::error::AppError;
use crate::policy::Access;

fn access(a: &Access) -> String {
    match a {
        Access::Deny => "deny".into(),
        Access::Anyone => "anyone".into(),
        Access::Allow(assurance) => format!("allow: {}", assurance.describe_required()),
    }
}

/// Every app, without its secrets (only whether it has one).
#[utoipa::path(get, path = "/api/v1/admin/apps",
    responses((status = 200, body = Vec<Object>), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn apps(State(app): State<AppState>, ctx: RequestContext) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::ConfigRead).await?;
    let apps: Vec<Value> = app
        .config
        .apps
        .values()
        .map(|a| {
            json!({
                "clientId": a.client_id,
                "name": a.name,
                "brand": a.brand,
                "confidential": a.is_confidential(),
                "grantTypes": a.grant_types.iter().map(|g| g.name()).collect::<Vec<_>>(),
                "redirectUris": a.redirect_uris,
                "allowedOrigins": a.allowed_origins,
                "postLogoutRedirectUris": a.post_logout_redirect_uris,
                "selfRegistration": a.self_registration,
                "consent": a.consent,
                "requirePkce": a.require_pkce,
                "signingAlg": a.signing_alg.name(),
                "apiScopes": a.api_scopes,
                "resource": a.resource,
                "audience": a.audience,
                "emails": a.emails,
                "signOnRules": a.sign_on.rules.iter().map(|r| json!({ "name": r.name, "access": access(&r.access) })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(apps).into_response())
}

/// The brands served, and the problems of any theme failing its checks.
#[utoipa::path(get, path = "/api/v1/admin/brands",
    responses((status = 200, body = Object), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn brands(State(app): State<AppState>, ctx: RequestContext) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::ConfigRead).await?;
    Ok(Json(json!({ "brands": app.brands.ids(), "problems": app.brands.problems() })).into_response())
}

/// Groups, zones and the global session policy's rules.
#[utoipa::path(get, path = "/api/v1/admin/policies",
    responses((status = 200, body = Object), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn policies(State(app): State<AppState>, ctx: RequestContext) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::ConfigRead).await?;
    let e = &app.config.engine;
    let groups: serde_json::Map<String, Value> = e
        .groups
        .0
        .iter()
        .map(|(name, m)| (name.clone(), json!({ "emails": m.emails, "domains": m.domains })))
        .collect();
    let zones: serde_json::Map<String, Value> = e
        .zones
        .0
        .iter()
        .map(|(name, cidrs)| (name.clone(), json!(cidrs.iter().map(|c| c.to_string()).collect::<Vec<_>>())))
        .collect();
    let sessions: Vec<Value> = e
        .sessions
        .rules
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "lifetimeSeconds": r.lifetime.as_secs(),
                "establishWith": r.establish_with.iter().map(|k| k.key()).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({ "groups": groups, "zones": zones, "sessionRules": sessions })).into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    pub kid: String,
    pub alg: String,
    pub created: String,
    /// Signs from then (published from creation).
    pub activates: String,
    pub retires: Option<String>,
}

/// The signing keys in the store (public parts only).
#[utoipa::path(get, path = "/api/v1/admin/keys",
    responses((status = 200, body = Vec<KeyView>), (status = 401, body = passway_protocol::ApiError),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn keys(State(app): State<AppState>, ctx: RequestContext) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::ConfigRead).await?;
    let keys = app.store.signing_keys().await.map_err(store_error)?;
    let views: Vec<KeyView> = keys
        .into_iter()
        .map(|k| KeyView {
            kid: k.kid,
            alg: k.alg,
            created: k.created_at.rfc3339(),
            activates: k.activates_at.rfc3339(),
            retires: k.retires_at.map(|t| t.rfc3339()),
        })
        .collect();
    Ok(Json(views).into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Validation {
    pub valid: bool,
    /// The first problem, as the server would report it at start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ValidationError>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValidationError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted key, e.g. `apps[0].redirect_uris[1]`.
    pub key: String,
    pub message: String,
}

/// Checks a config file (the body, TOML) as the server checks its own at start.
#[utoipa::path(post, path = "/api/v1/admin/config/validate",
    request_body(content = String, content_type = "text/plain", description = "The config file (TOML)"),
    responses((status = 200, body = Validation), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError)))]
pub async fn validate(
    State(app): State<AppState>,
    ctx: RequestContext,
    _headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::ConfigRead).await?;
    let text =
        std::str::from_utf8(&body).map_err(|_| AppError::bad_request("invalid_request", "the body is not UTF-8"))?;
    let answer = match Config::parse(text, &app.config.source) {
        Ok(_) => Validation { valid: true, error: None },
        Err(e) => Validation {
            valid: false,
            error: Some(ValidationError {
                line: e.position.map(|p| p.0),
                column: e.position.map(|p| p.1),
                key: e.key,
                message: e.message,
            }),
        },
    };
    Ok(Json(answer).into_response())
}
