//! Rate limits on requests (see [`crate::limits`]): a route layer counts each request
//! against the client's address, the token endpoint also against the app. A refused
//! request gets `429` with `Retry-After` — JSON for the APIs, a branded page for pages
//! a person opens — and the first refusal of a burst goes to the system log as
//! `security.request.blocked`.
//!
//! Counts live in the store, the source of truth for every instance. In front of it,
//! each instance remembers which keys it saw refused and until when ([`Refused`]), and
//! refuses their next requests from memory: a flood then costs a lookup per request,
//! not a store write. That refuses nothing the store would allow (the store refused it,
//! and more requests only push the end further), and holds nothing the store has not.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::context::client_addr_of;
use super::error::AppError;
use super::pages::{self, Page};
use crate::app::AppState;
use crate::branding::DEFAULT_BRAND;
use crate::engine::{EventType, LogEntry, LogOutcome, Texts};
use crate::events::ClientInfo;
use crate::limits::{self, Kind, Verdict};
use crate::store::{Commit, RateHit};

/// A refused request: how long until it may come again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub kind: Kind,
    pub retry_after: Duration,
}

/// What a route counts, and how it answers a refusal.
#[derive(Clone)]
pub struct RouteLimit {
    pub app: AppState,
    pub kinds: &'static [Kind],
    /// A page a person opens (answered with a branded page, not JSON).
    pub page: bool,
}

/// The route layer: counts the request for the client's address under each kind.
pub async fn by_client(State(route): State<std::sync::Arc<RouteLimit>>, req: Request, next: Next) -> Response {
    if !route.app.config.rate_limits.enabled {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let addr = client_addr_of(&parts, &route.app);
    let subject = limits::client_subject(addr.ip);
    let locale = route
        .app
        .brands
        .catalog
        .negotiate(parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or(""))
        .to_owned();
    for kind in route.kinds {
        let client = ClientInfo {
            ip: addr.ip.to_string(),
            user_agent: parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned(),
            ip_chain: addr.chain.iter().map(ToString::to_string).collect(),
            request_id: super::request_id::of(&parts.extensions),
        };
        if let Err(limited) = hit(&route.app, *kind, &subject, &client).await {
            return if route.page {
                page(&route.app, &locale, limited)
            } else {
                error(&route.app, &locale, limited).into_response()
            };
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Counts one `kind` for `subject`; `Err` when over the limit. Limits off, or a store
/// failure (logged), let the request through: a limit must not take the service down.
pub async fn hit(app: &AppState, kind: Kind, subject: &str, client: &ClientInfo) -> Result<(), Limited> {
    let limits = &app.config.rate_limits;
    if !limits.enabled {
        return Ok(());
    }
    let now = app.clock.now();
    let limit = limits.limit(kind);
    let key = limits::key(&app.keyring, kind, subject);
    if let Some(until) = app.refused.until(&key, now) {
        app.metrics.rate_limited(kind.name());
        return Err(Limited { kind, retry_after: now.until(until) });
    }
    let counts = match app.store.hit(&RateHit { key, limit, now }).await {
        Ok(counts) => counts,
        Err(e) => {
            tracing::warn!(error = %e, kind = kind.name(), "counting a rate-limit hit failed; let through");
            return Ok(());
        }
    };
    match limits::judge(limit, counts, now) {
        Verdict::Allowed => Ok(()),
        Verdict::Limited { retry_after, first } => {
            if first {
                log_blocked(app, kind, client, limit).await;
            }
            app.refused.remember(key, now.plus(retry_after), now);
            app.metrics.rate_limited(kind.name());
            Err(Limited { kind, retry_after })
        }
    }
}

async fn log_blocked(app: &AppState, kind: Kind, client: &ClientInfo, limit: limits::Limit) {
    let entry = LogEntry::new(EventType::RequestBlocked, LogOutcome::Deny, "Request blocked by a rate limit")
        .reason(format!("rate limit {}: more than {} in {} s", kind.name(), limit.max, limit.window.as_secs()))
        .debug("limit", kind.name());
    let event = app.events.record(&entry, &crate::events::Context::request(client), app.clock.now());
    if let Err(e) = app.store.commit(Commit { events: vec![event], ..Commit::default() }).await {
        tracing::warn!(error = %e, "logging a blocked request failed");
    }
}

/// Minutes, rounded up, for people.
pub fn minutes(d: Duration) -> u64 {
    d.as_secs().div_ceil(60).max(1)
}

/// The JSON answer to a refused API request.
pub fn error(app: &AppState, locale: &str, limited: Limited) -> AppError {
    let texts = app.brands.texts(DEFAULT_BRAND, locale);
    let text = texts.get("widget.error.rate_limited").unwrap_or_default();
    let message = texts.fill(&text, &[("minutes", minutes(limited.retry_after).to_string())]);
    AppError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message).retry_after(limited.retry_after)
}

/// The branded page for a refused page request.
pub fn page(app: &AppState, locale: &str, limited: Limited) -> Response {
    let brand = app.brands.get(DEFAULT_BRAND).expect("the default brand is loaded");
    let texts = app.brands.texts(DEFAULT_BRAND, locale);
    let title = texts.get("hosted.rate_limited.title").unwrap_or_default();
    let text = texts.get("widget.error.rate_limited").unwrap_or_default();
    let body = texts.fill(&text, &[("minutes", minutes(limited.retry_after).to_string())]);
    let html = pages::card(&brand, &title, &body, "");
    let mut response = pages::render(
        StatusCode::TOO_MANY_REQUESTS,
        Page { brand: &brand, lang: locale, title: &title, body: html, scripts: &[] },
    );
    if let Ok(v) = HeaderValue::from_str(&limited.retry_after.as_secs().max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}
