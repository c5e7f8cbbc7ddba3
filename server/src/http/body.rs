//! A JSON body extractor whose every failure is an [`AppError`]: wrong content type
//! (415), too large (413), not JSON or not the expected shape (400, naming the field).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::AppError;

/// Largest JSON body accepted by the flow API.
pub const MAX_BODY: usize = 16 * 1024;

pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"));
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is larger than {MAX_BODY} bytes"),
            )
        })?;
        // An empty body stands for `{}` (e.g. `resend`), whatever its content type.
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &bytes };
        if !bytes.is_empty() && is_json != Some(true) {
            return Err(AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as Content-Type: application/json",
            ));
        }
        serde_json::from_slice(text)
            .map(JsonBody)
            .map_err(|e| AppError::bad_request("invalid_json", format!("the body is not valid here: {e}")))
    }
}
