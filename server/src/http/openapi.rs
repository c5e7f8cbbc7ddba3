//! The flow API's OpenAPI document, generated from the protocol types and handlers.

use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Passway flow API",
        version = "1.0",
        description = "The remediation protocol: start a flow, render what it offers, submit."
    ),
    paths(super::flows::start, super::flows::get, super::flows::submit)
)]
pub struct ApiDoc;

static DOCUMENT: LazyLock<String> = LazyLock::new(|| ApiDoc::openapi().to_pretty_json().expect("OpenAPI serialises"));

pub fn json() -> &'static str {
    &DOCUMENT
}

pub async fn document() -> Response {
    let mut response = json().into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}
