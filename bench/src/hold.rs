//! `passway-load --hold FLOWS:STREAMS`: what a server holds costs memory, not CPU.
//! Starts FLOWS flows (left waiting at their first step, as people who walked away),
//! opens an event stream on STREAMS of them (as tabs waiting for a magic link), waits
//! until every stream answered, lets the server settle, and reports its memory
//! (`/proc/PID/status`) while all of it is held.

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

/// Flow starts in flight at once while filling.
const FILLING: usize = 32;
/// How long the server gets to settle (freed buffers, idle connections) before it is read.
const SETTLE: Duration = Duration::from_secs(5);

/// `FLOWS:STREAMS`, e.g. `10000:1000`.
pub fn parse(spec: &str) -> Result<(usize, usize)> {
    let (flows, streams) = spec.split_once(':').context("--hold wants FLOWS:STREAMS, e.g. 10000:1000")?;
    let (flows, streams): (usize, usize) = (flows.parse()?, streams.parse()?);
    if streams > flows {
        bail!("--hold {spec}: more streams than flows (one stream per flow)");
    }
    Ok((flows, streams))
}

/// Fills the server at `base` with `flows` flows started with `start` (a flow start
/// request's body) and `streams` event streams, and reports the memory of process `pid`
/// before and while they are held.
pub async fn hold(
    http: &reqwest::Client,
    base: &str,
    start: &Value,
    (flows, streams): (usize, usize),
    pid: Option<u32>,
) -> Result<Value> {
    let before = pid.and_then(crate::memory::of);
    // Every flow's handle and binding secret, to stream its events.
    let mut started: Vec<(String, String)> = Vec::with_capacity(flows);
    while started.len() < flows {
        let n = FILLING.min(flows - started.len());
        let batch = (0..n).map(|_| async {
            let flow: Value =
                http.post(format!("{base}/api/v1/flows")).json(start).send().await?.error_for_status()?.json().await?;
            match (flow["handle"].as_str(), flow["binding"].as_str()) {
                (Some(h), Some(b)) => Ok((h.to_owned(), b.to_owned())),
                _ => bail!("a flow without its handle or binding: {flow}"),
            }
        });
        for one in futures_util::future::join_all(batch).await {
            started.push(one?);
        }
    }
    let mut open = Vec::with_capacity(streams);
    for (handle, binding) in started.iter().take(streams) {
        let r = http.get(format!("{base}/api/v1/flows/{handle}/events")).query(&[("binding", binding)]).send().await?;
        if !r.status().is_success() {
            bail!("event stream {}: {}", open.len(), r.status());
        }
        // Held, unread: the connection stays open until the report is written.
        open.push(r);
    }
    tokio::time::sleep(SETTLE).await;
    let held = pid.and_then(crate::memory::of);
    Ok(json!({
        "flows": started.len(),
        "streams": open.len(),
        "server_memory_before": before,
        "server_memory_held": held,
    }))
}
