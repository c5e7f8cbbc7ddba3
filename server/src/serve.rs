//! Running the HTTP server: binding, serving until asked to stop, housekeeping.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::AppState;

/// Serves `app` on `listener` until `stop` completes, then lets open requests finish
/// (event streams end at once).
pub async fn serve(
    listener: TcpListener,
    app: AppState,
    shutdown: watch::Sender<bool>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let housekeeping = tokio::spawn(purge_expired(app.clone()));
    let keys = tokio::spawn(maintain_keys(app.clone()));
    let router = crate::http::router(app);
    let result = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            stop.await;
            let _ = shutdown.send(true);
        })
        .await;
    housekeeping.abort();
    keys.abort();
    result
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
    }
}
