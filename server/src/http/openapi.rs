//! The OpenAPI document of every JSON route, generated from the router itself
//! (`http::json_api`, utoipa-axum): a route cannot be served without being documented,
//! nor documented without being served.

use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(info(
    title = "Passway API",
    version = "1.0",
    description = "The remediation protocol (start a flow, render what it offers, submit), the OpenID Provider's \
JSON endpoints, the dev mailbox and the admin API. Every request about a flow comes from the browser that started \
it: its device cookie, or the flow's binding secret in the `passway-binding` header."
))]
pub struct ApiDoc;

static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| super::json_api(None).into_openapi().to_pretty_json().expect("OpenAPI serialises"));

pub fn json() -> &'static str {
    &DOCUMENT
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
pub async fn document() -> Response {
    let mut response = json().into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}
