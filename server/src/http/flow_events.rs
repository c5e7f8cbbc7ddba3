//! `GET /api/v1/flows/{handle}/events`: server-sent events announcing that a flow
//! changed (e.g. its magic link was opened in another tab). Changes made in this
//! process arrive at once, and so do another instance's on PostgreSQL (its commit
//! notifies every instance); and each stream polls the flow's version every two seconds,
//! for a notification lost while the listener reconnected. A link opened before the stream was (the tab
//! may connect a moment after the email went out) is announced as soon as it opens.
//! The stream ends when the flow expires or the server shuts down.
//!
//! Streams hold a connection and poll the store, so each client address and each flow
//! may keep only so many open at once (`[rate_limits] event_streams_per_ip`,
//! `event_streams_per_flow`; counted per instance, since a stream is a connection to
//! one process). Browsers open event streams without custom headers, so the flow's
//! binding secret may come as the query parameter `binding`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;

use super::context::RequestContext;
use super::error::AppError;
use crate::app::AppState;
use crate::{engine, journey};

const POLL: Duration = Duration::from_secs(2);

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct StreamQuery {
    /// The flow's binding secret (browsers open event streams without custom headers).
    binding: Option<String>,
}

/// Server-sent `flow-changed` events while the flow waits for something done elsewhere
/// (a magic link opened).
#[utoipa::path(get, path = "/api/v1/flows/{handle}/events", params(("handle" = String, Path), StreamQuery),
    responses((status = 200, description = "an event stream", content_type = "text/event-stream", body = String),
        (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError),
        (status = 410, body = passway_protocol::ApiError), (status = 429, body = passway_protocol::ApiError)))]
pub async fn stream(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(handle): Path<String>,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let Query(q) = query.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let mut holder = ctx.holder();
    if holder.binding.is_none() {
        holder.binding = q.binding.as_deref();
    }
    let loaded = journey::load(&app, &handle, &holder).await.map_err(|e| super::flows::said(&app, &ctx, e))?;
    let config_app =
        app.config.app(&loaded.flow.client_id).ok_or_else(|| AppError::not_found("the flow's app is gone"))?;
    ctx.check_origin(config_app, &app.issuer)?;
    let limits = &app.config.rate_limits;
    let open = app
        .streams
        .open(
            [
                (format!("ip {}", crate::limits::client_subject(ctx.addr.ip)), limits.event_streams_per_ip),
                (format!("flow {}", loaded.flow.id), limits.event_streams_per_flow),
            ],
            limits.enabled,
        )
        .ok_or_else(|| {
            AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_streams",
                "too many event streams are open for this flow or from this address; poll instead",
            )
            .retry_after(Duration::from_secs(10))
        })?;
    let state = Watch {
        _open: open,
        changes: app.notifier.subscribe(&loaded.flow.id),
        shutdown: app.shutdown.clone(),
        deadline: tokio::time::Instant::now() + app.clock.now().until(loaded.flow.expires_at),
        next_poll: tokio::time::Instant::now() + POLL,
        already_changed: engine::poll_would_move_on(&loaded.flow),
        flow_id: loaded.flow.id,
        version: loaded.stored.version,
        app,
    };
    let events = futures_util::stream::unfold(state, |mut w| async move {
        let version = w.next_change().await?;
        let event = Event::default()
            .event("flow-changed")
            .data(format!("{{\"version\":{version}}}"))
            .retry(Duration::from_secs(3));
        Some((Ok(event), w))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

struct Watch {
    /// Counts this stream among its address's and its flow's until it ends.
    _open: crate::app::OpenStream,
    app: AppState,
    /// Announcements of this flow's changes.
    changes: journey::Subscription,
    shutdown: tokio::sync::watch::Receiver<bool>,
    deadline: tokio::time::Instant,
    /// When the stream reads the flow's version anyway: every [`POLL`], whatever it
    /// heard meanwhile.
    next_poll: tokio::time::Instant,
    /// The flow changed before the stream opened: announce it first.
    already_changed: bool,
    flow_id: String,
    version: i64,
}

impl Watch {
    /// The flow's next version, or `None` when the stream should end.
    async fn next_change(&mut self) -> Option<i64> {
        if std::mem::take(&mut self.already_changed) {
            return Some(self.version);
        }
        loop {
            if *self.shutdown.borrow() {
                return None;
            }
            tokio::select! {
                _ = self.changes.changed() => {}
                _ = tokio::time::sleep_until(self.next_poll) => {
                    self.next_poll = tokio::time::Instant::now() + POLL;
                }
                _ = tokio::time::sleep_until(self.deadline) => return None,
                _ = self.shutdown.changed() => return None,
            }
            match self.app.store.flow_version(&self.flow_id).await {
                Ok(Some(v)) if v != self.version => {
                    self.version = v;
                    return Some(v);
                }
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => return None,
            }
        }
    }
}
