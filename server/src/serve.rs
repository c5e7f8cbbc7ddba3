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

/// Deletes expired flows and codes every ten minutes.
async fn purge_expired(app: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        match app.store.purge_expired(app.clock.now()).await {
            Ok(n) if n > 0 => tracing::debug!(rows = n, "purged expired flows and codes"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging expired rows failed"),
        }
    }
}
