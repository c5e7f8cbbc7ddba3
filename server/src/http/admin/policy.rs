//! `GET /api/v1/admin/policy/explain?app=…&user=…[&groups=a,b&ip=…&platform=…&device=new|known&session=email&acr_values=…&risk=high]`:
//! the same dry run as `passway policy explain`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Scope, authorize};
use crate::app::AppState;
use crate::http::context::RequestContext;
use crate::http::error::AppError;
use crate::journey::explain::{self, Ask, ExplainError};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExplainQuery {
    app: String,
    user: String,
    /// Comma-separated.
    groups: Option<String>,
    ip: Option<String>,
    platform: Option<String>,
    /// `new` or `known`.
    device: Option<String>,
    session: Option<String>,
    acr_values: Option<String>,
    /// `low`, `medium` or `high`.
    risk: Option<String>,
}

/// Which sign-on rule applies, and the steps the engine would ask for (a dry run), for a
/// bearer admin token (404 when none is configured).
#[utoipa::path(get, path = "/api/v1/admin/policy/explain", params(ExplainQuery),
    responses((status = 200, body = Object), (status = 400, body = passway_protocol::ApiError),
        (status = 401, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError)))]
pub async fn explain(
    State(app): State<AppState>,
    ctx: RequestContext,
    query: Result<Query<ExplainQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    authorize(&app, &ctx, Scope::ConfigRead).await?;
    let Query(q) = query.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let new_device = match q.device.as_deref() {
        None => None,
        Some("new") => Some(true),
        Some("known") => Some(false),
        Some(other) => {
            return Err(AppError::bad_request(
                "invalid_request",
                format!("device must be new or known, not {other:?}"),
            ));
        }
    };
    let ask = Ask {
        app: q.app,
        user: q.user,
        groups: q
            .groups
            .iter()
            .flat_map(|g| g.split(','))
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_owned)
            .collect(),
        ip: q.ip,
        platform: q.platform,
        new_device,
        session: q.session,
        acr_values: q.acr_values,
        risk: q.risk,
    };
    let explanation = explain::explain(&*app.store, &app.config, &ask, app.clock.now()).await.map_err(|e| match e {
        ExplainError::Store(e) => AppError::internal(e),
        ExplainError::UnknownApp(_) => AppError::not_found(e.to_string()),
        other => AppError::bad_request("invalid_request", other.to_string()),
    })?;
    let mut response = Json(json!({ "outcome": explanation.outcome, "lines": explanation.lines })).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
