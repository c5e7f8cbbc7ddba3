//! Running the HTTP server: binding, serving until asked to stop, housekeeping.
//!
//! Connections are served by hyper directly (not `axum::serve`) so that slow or idle
//! clients cannot hold connections forever: request headers must arrive within
//! [`HEADER_READ_TIMEOUT`] (which also closes a kept-alive connection that sits idle
//! that long), and a handler must answer within [`REQUEST_TIMEOUT`] (an event stream's
//! body goes on; only its start is timed).

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::AppState;

/// How long a client may take to send a request's headers, or to start its next one
/// on a kept-alive connection.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a handler may take to answer (its body, e.g. an event stream, may go on).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long open requests may finish after a stop, before their connections are cut.
const DRAIN: Duration = Duration::from_secs(10);

/// How long a client may be slow (see the module's docs).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub header_read: Duration,
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { header_read: HEADER_READ_TIMEOUT, request: REQUEST_TIMEOUT }
    }
}

/// Serves `app` on `listener` until `stop` completes, then lets open requests finish
/// (event streams end at once).
pub async fn serve(
    listener: TcpListener,
    app: AppState,
    shutdown: watch::Sender<bool>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, shutdown, stop, Timeouts::default()).await
}

/// [`serve`], with the timeouts given.
pub async fn serve_with(
    listener: TcpListener,
    app: AppState,
    shutdown: watch::Sender<bool>,
    stop: impl Future<Output = ()> + Send + 'static,
    timeouts: Timeouts,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let housekeeping = tokio::spawn(purge_expired(app.clone()));
    let keys = tokio::spawn(maintain_keys(app.clone()));
    // Themes are reloaded as they are saved: at once for a designer (dev mode), within
    // a few seconds in production.
    let period = Duration::from_millis(if app.config.dev_mode { 250 } else { 3000 });
    let themes = tokio::spawn(crate::branding::watch(app.brands.clone(), app.config.themes_dir.clone(), period));
    crate::hooks::worker::spawn(&app);
    let mail = crate::mail::worker::spawn(&app);
    let router = crate::http::router(app).layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        timeouts.request,
    ));
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(timeouts.header_read);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(Some(Duration::from_secs(30)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(move |req: hyper::Request<hyper::body::Incoming>| {
            let mut req = req.map(axum::body::Body::new);
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            req
        });
        let connection = builder
            .serve_connection_with_upgrades(
                TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(service),
            )
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::trace!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = shutdown.send(true);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("some requests were still open {} s after the stop; cut", DRAIN.as_secs());
    }
    // Emails under way finish (each within the SMTP timeout); the rest wait in the store.
    if let Some(mail) = mail {
        let _ = tokio::time::timeout(DRAIN, mail).await;
    }
    housekeeping.abort();
    keys.abort();
    themes.abort();
    Ok(())
}

/// Rotates signing keys on schedule and picks up keys other instances (or
/// `passway keys rotate`) made, every minute. A new key is published a day (by
/// default) before it signs, so a minute's delay is harmless.
async fn maintain_keys(app: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.tick().await; // the keys were just loaded
    loop {
        tick.tick().await;
        if let Err(e) = app.refresh_keys().await {
            tracing::warn!(error = %e, "refreshing the signing keys failed; the current ones stay in use");
        }
    }
}

/// Deletes what is past its time, every minute, in batches (so a backlog never holds
/// the store for long). What is kept, and how long, is in `store::Retention`.
async fn purge_expired(app: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        loop {
            match app.store.purge(&retention(&app.config, app.clock.now())).await {
                Ok(n) if n >= u64::from(crate::store::PURGE_BATCH) => {
                    tracing::debug!(rows = n, "purged a batch; more to go");
                    tokio::task::yield_now().await;
                }
                Ok(n) => {
                    if n > 0 {
                        tracing::debug!(rows = n, "purged rows past their time");
                    }
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "purging rows past their time failed");
                    break;
                }
            }
        }
    }
}

/// How long each kind of row is kept (the README's "What is kept, and for how long").
pub fn retention(config: &crate::config::Config, now: crate::engine::Timestamp) -> crate::store::Retention {
    const DAY: Duration = Duration::from_secs(24 * 3600);
    let l = &config.lifetimes;
    crate::store::Retention {
        now,
        used_codes: DAY,
        lockout_counts: DAY,
        events: config.events_retention,
        // A family issues refresh tokens for at most `refresh_token_max`, and the last
        // access token it issued lives `access_token` more.
        families: l.refresh_token_max + l.access_token,
        mails: DAY,
        mail_queue: crate::mail::worker::GIVE_UP,
        known_devices: 180 * DAY,
        hook_attempts: 7 * DAY,
    }
}
