//! Request IDs: every request gets one — the caller's `x-request-id` when it is a
//! plausible ID (a load balancer's or a client's), else a new one —, echoed in the
//! answer, carried by every log line of the request (a tracing span) and by every
//! system log event it records (`debugContext.debugData.requestId`), so that one
//! complaint leads to its lines on whichever instance served it.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

use crate::crypto::{SystemEntropy, random_token};

pub const HEADER: &str = "x-request-id";

/// The request's ID, in its extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub std::sync::Arc<str>);

/// An ID from outside is kept only if short and plain: it goes into logs.
fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

pub async fn layer(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| acceptable(id))
        .map_or_else(|| random_token(&mut SystemEntropy, 12), str::to_owned);
    req.extensions_mut().insert(RequestId(id.as_str().into()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
        status = tracing::field::Empty,
    );
    let mut response = next.run(req).instrument(span.clone()).await;
    span.record("status", response.status().as_u16());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

/// The ID of the request whose extensions these are ("" outside the layer).
pub fn of(extensions: &axum::http::Extensions) -> String {
    extensions.get::<RequestId>().map(|r| r.0.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_plain_short_ids_are_kept() {
        assert!(acceptable("f3a9-01:lb.2_x"));
        assert!(!acceptable(""));
        assert!(!acceptable(&"a".repeat(65)));
        assert!(!acceptable("a b"));
        assert!(!acceptable("a\u{1b}[31m"));
        assert!(!acceptable("\"quoted\""));
    }
}
