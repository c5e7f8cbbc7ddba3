//! One error type for the JSON APIs: a status, a stable code and a sentence. Client
//! mistakes are 4xx; only the server's own failures are 5xx (and say little).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use passway_protocol::ApiError;

use crate::engine::Rejection;
use crate::journey::JourneyError;

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub error: &'static str,
    pub message: String,
    /// Sent as `Retry-After` (a rate limit, a busy server).
    pub retry_after: Option<std::time::Duration>,
}

impl AppError {
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> AppError {
        AppError { status, error, message: message.into(), retry_after: None }
    }
    pub fn retry_after(mut self, after: std::time::Duration) -> AppError {
        self.retry_after = Some(after);
        self
    }
    pub fn bad_request(error: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, error, message)
    }
    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %e, "internal error");
        AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "The server failed to handle this request.")
    }
}

impl From<JourneyError> for AppError {
    fn from(e: JourneyError) -> AppError {
        let message = e.to_string();
        match e {
            JourneyError::NotFound => AppError::new(StatusCode::NOT_FOUND, "flow_not_found", message),
            JourneyError::Expired => AppError::new(StatusCode::GONE, "flow_expired", message),
            JourneyError::Finished => AppError::new(StatusCode::GONE, "flow_finished", message),
            JourneyError::NotHeld => AppError::new(StatusCode::FORBIDDEN, "flow_not_bound", message),
            JourneyError::Conflict | JourneyError::AttemptRaced => {
                AppError::new(StatusCode::CONFLICT, "flow_conflict", message)
            }
            JourneyError::AppGone(_) => AppError::new(StatusCode::GONE, "app_not_configured", message),
            JourneyError::Rejected(Rejection::NotOffered(_)) => {
                AppError::bad_request("remediation_not_offered", message)
            }
            JourneyError::Rejected(Rejection::UnknownField { .. }) => AppError::bad_request("unknown_field", message),
            JourneyError::Rejected(Rejection::WrongType { .. }) => AppError::bad_request("invalid_field_type", message),
            JourneyError::Rejected(r) => AppError::bad_request("invalid_request", r.to_string()),
            JourneyError::Store(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "store unavailable");
                AppError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", "Please try again in a moment.")
                    .retry_after(std::time::Duration::from_secs(1))
            }
            JourneyError::Store(e) => AppError::internal(e),
            JourneyError::Passkeys(e) => AppError::internal(e),
            JourneyError::NeedsInteraction(error) => AppError::bad_request(error, message),
            JourneyError::Limited(after) => {
                AppError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message).retry_after(after)
            }
            JourneyError::Busy => AppError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
                .retry_after(std::time::Duration::from_secs(2)),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ApiError { error: self.error.to_owned(), message: self.message };
        let mut response = (self.status, axum::Json(body)).into_response();
        let h = response.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(after) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&after.as_secs().max(1).to_string())
        {
            h.insert(header::RETRY_AFTER, v);
        }
        response
    }
}
