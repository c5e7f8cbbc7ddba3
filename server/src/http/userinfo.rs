//! `/oauth2/v1/userinfo`: the bearer token from the `Authorization` header (or, for
//! POST, the form's `access_token`, RFC 6750 §2.2); refusals per RFC 6750 §3.

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::context::RequestContext;
use super::token::no_store;
use crate::app::AppState;
use crate::tokens::{self, UserinfoError};

/// The claims of the access token's account (OIDC Core §5.3), bearer token in the
/// `Authorization` header.
#[utoipa::path(get, path = "/oauth2/v1/userinfo",
    responses((status = 200, body = Object), (status = 401, description = "no valid bearer token (WWW-Authenticate says why)"),
        (status = 403, description = "the token lacks the openid scope")))]
pub async fn get(State(app): State<AppState>, ctx: RequestContext) -> Response {
    answer(&app, bearer(&ctx)).await
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct UserinfoForm {
    access_token: Option<String>,
}

/// Userinfo, with the token in the form (RFC 6750 §2.2) or the header.
#[utoipa::path(post, path = "/oauth2/v1/userinfo",
    request_body(content = UserinfoForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = Object), (status = 401, description = "no valid bearer token (WWW-Authenticate says why)"),
        (status = 403, description = "the token lacks the openid scope")))]
pub async fn post(
    State(app): State<AppState>,
    ctx: RequestContext,
    form: Result<Form<UserinfoForm>, FormRejection>,
) -> Response {
    let from_form = form.ok().and_then(|Form(f)| f.access_token);
    answer(&app, bearer(&ctx).or(from_form)).await
}

fn bearer(ctx: &RequestContext) -> Option<String> {
    let (scheme, token) = ctx.authorization.as_deref()?.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

async fn answer(app: &AppState, token: Option<String>) -> Response {
    match tokens::userinfo(app, token.as_deref()).await {
        Ok(claims) => no_store(Json(claims).into_response()),
        Err(e) => {
            let (status, challenge) = match e {
                UserinfoError::Missing => (StatusCode::UNAUTHORIZED, "Bearer realm=\"passway\"".to_owned()),
                UserinfoError::InvalidToken(why) => (
                    StatusCode::UNAUTHORIZED,
                    format!("Bearer realm=\"passway\", error=\"invalid_token\", error_description=\"{why}\""),
                ),
                UserinfoError::InsufficientScope => (
                    StatusCode::FORBIDDEN,
                    "Bearer realm=\"passway\", error=\"insufficient_scope\", scope=\"openid\"".to_owned(),
                ),
                UserinfoError::Server => {
                    return super::error::AppError::internal("userinfo failed").into_response();
                }
            };
            let mut response = no_store(status.into_response());
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            response
        }
    }
}
