//! The token endpoint and its siblings: `/oauth2/v1/token`, `/revoke` (RFC 7009),
//! `/introspect` (RFC 7662). Parse the form, call the token service, present.

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::context::RequestContext;
use crate::app::AppState;
use crate::limits::Kind;
use crate::oidc::OAuthError;
use crate::oidc::client_auth;
pub use crate::oidc::token::TokenRequest;
use crate::tokens::{self, Caller};

/// Who calls: its client, its web origin (none for a page of the custom domain it
/// calls), its credentials.
fn caller<'a>(ctx: &'a RequestContext, issuer: &str) -> Caller<'a> {
    Caller { client: &ctx.client, origin: ctx.foreign_origin(issuer), authorization: ctx.authorization.as_deref() }
}

fn parse<T>(form: Result<Form<T>, FormRejection>) -> Result<T, OAuthError> {
    form.map(|Form(f)| f)
        .map_err(|e| OAuthError::invalid_request(format!("send an application/x-www-form-urlencoded body: {e}")))
}

/// The token endpoint (RFC 6749 §3.2): `authorization_code` with PKCE, `refresh_token`,
/// `client_credentials`.
#[utoipa::path(post, path = "/oauth2/v1/token",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = crate::oidc::token::TokenResponse), (status = 400, body = OAuthError),
        (status = 401, body = OAuthError), (status = 429, body = OAuthError)))]
pub async fn token(
    State(app): State<AppState>,
    ctx: RequestContext,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    let req = match parse(form) {
        Ok(req) => req,
        Err(e) => return oauth_error(e),
    };
    // Counted per app too (the client_id it claims: before authentication, so that
    // guessing a secret is limited as well).
    let claimed = client_auth::credentials(ctx.authorization.as_deref(), req.client_id.as_deref(), None)
        .map(|c| c.client_id().to_owned())
        .or_else(|_| req.client_id.clone().ok_or(()));
    if let Ok(client_id) = claimed
        && app.config.app(&client_id).is_some()
        && let Err(limited) = super::limit::hit(&app, Kind::TokenByClient, &client_id, &ctx.client).await
    {
        let mut e = OAuthError::new("rate_limited", super::limit::error(&app, &ctx.locale, limited).message);
        e.status = StatusCode::TOO_MANY_REQUESTS.as_u16();
        let mut response = oauth_error(e);
        if let Ok(v) = HeaderValue::from_str(&limited.retry_after.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return response;
    }
    match tokens::token(&app, &caller(&ctx, &app.issuer), req).await {
        Ok(tokens) => no_store(Json(tokens).into_response()),
        Err(e) => oauth_error(e),
    }
}

/// The form of `/revoke` and `/introspect`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    token: Option<String>,
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Revocation (RFC 7009): 200 with an empty body, whether or not the token was live.
#[utoipa::path(post, path = "/oauth2/v1/revoke",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "revoked, or nothing to revoke"), (status = 400, body = OAuthError),
        (status = 401, body = OAuthError), (status = 429, body = passway_protocol::ApiError)))]
pub async fn revoke(
    State(app): State<AppState>,
    ctx: RequestContext,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let result = match parse(form) {
        Ok(f) => {
            tokens::revoke(
                &app,
                &caller(&ctx, &app.issuer),
                f.client_id.as_deref(),
                f.client_secret.as_deref(),
                f.token.as_deref(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => oauth_error(e),
    }
}

/// Introspection (RFC 7662), for APIs (apps with a `resource`), about tokens for them.
#[utoipa::path(post, path = "/oauth2/v1/introspect",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = Object), (status = 400, body = OAuthError), (status = 401, body = OAuthError),
        (status = 403, body = OAuthError), (status = 429, body = passway_protocol::ApiError)))]
pub async fn introspect(
    State(app): State<AppState>,
    ctx: RequestContext,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let result = match parse(form) {
        Ok(f) => {
            let (id, secret) = (f.client_id.as_deref(), f.client_secret.as_deref());
            tokens::introspect(
                &app,
                &caller(&ctx, &app.issuer),
                id,
                secret,
                f.token.as_deref(),
                f.token_type_hint.as_deref(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(answer) => no_store(Json(answer).into_response()),
        Err(e) => oauth_error(e),
    }
}

/// An OAuth error as JSON (RFC 6749 §5.2), with `WWW-Authenticate` when the client
/// authenticated with Basic and failed.
pub fn oauth_error(e: OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let basic = e.www_authenticate;
    let mut response = no_store((status, Json(e)).into_response());
    if basic {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"passway\""));
    }
    response
}

pub fn no_store(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
