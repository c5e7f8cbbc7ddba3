//! Provider metadata: discovery, the JWKS, and the WebAuthn related-origins file.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::oidc::discovery;

/// OpenID Provider metadata (OIDC Discovery).
#[utoipa::path(get, path = "/.well-known/openid-configuration", responses((status = 200, body = Object)))]
pub async fn configuration(State(app): State<AppState>) -> Response {
    let locales: Vec<&str> = app.brands.catalog.locales().collect();
    let mut response = Json(discovery::metadata(&app.issuer, &locales)).into_response();
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// `/.well-known/webauthn` (WebAuthn Related Origin Requests): the other origins
/// allowed to use passkeys whose RP ID is this server's host name.
#[utoipa::path(get, path = "/.well-known/webauthn",
    responses((status = 200, body = Object), (status = 404, body = passway_protocol::ApiError)))]
pub async fn webauthn_origins(State(app): State<AppState>) -> Response {
    let host = url::Url::parse(&app.issuer).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    let mut origins: Vec<&str> = vec![];
    for party in app.config.passkeys.values().filter(|p| p.rp_id == host) {
        for o in &party.origins {
            if !origins.contains(&o.as_str()) {
                origins.push(o);
            }
        }
    }
    if app.config.passkeys.values().all(|p| p.rp_id != host) {
        return super::error::AppError::not_found("no passkeys are scoped to this host").into_response();
    }
    let mut response = Json(serde_json::json!({ "origins": origins })).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

/// `/oauth2/v1/keys`: the published signing keys. Cached briefly: a new key is
/// published long (a day by default) before it signs.
#[utoipa::path(get, path = "/oauth2/v1/keys", responses((status = 200, description = "a JWK Set (RFC 7517)", body = Object)))]
pub async fn keys(State(app): State<AppState>) -> Response {
    let mut response = app.keys.get().jwks(app.clock.now()).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}
