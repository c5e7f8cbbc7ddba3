//! Delivers each event hook's outbox. One task per hook per instance; the one holding
//! the hook's lease in the store delivers, the others wait for it to lapse (an instance
//! that dies stops renewing: another takes over within [`LEASE`]).
//!
//! A hook is first verified (Okta's way): a `GET` with a one-time challenge in
//! `x-passway-verification-challenge`, which the endpoint must echo as
//! `{"verification": "…"}`. Until then it gets nothing, and its status says why.
//!
//! Deliveries go in batches of up to [`MAX_BATCH`] events. A batch's webhook-id is
//! fixed in the store when it is formed, so every retry (after a crash too) carries the
//! same id and the same events: receivers deduplicate by it. A 2xx answer delivers it;
//! anything else is retried with exponential backoff and jitter (1 s doubling to an
//! hour). A hook that keeps failing for [`FAILING_AFTER`] is marked `failing` (and
//! logged) and is still tried hourly; its backlog follows once it answers again.
//! Ordering is per hook and best effort: batches go one at a time, in outbox order.

use std::time::Duration;

use super::outbound::{Answer, CallError};
use super::{EventHook, signature};
use crate::app::AppState;
use crate::crypto::{SystemEntropy, random_token};
use crate::engine::{EventType, LogEntry, LogOutcome, Severity, Target, Timestamp};
use crate::events::{ClientInfo, Context};
use crate::store::{Commit, HookAttempt, HookState, HookUpdate};

/// How long a lease lasts unless renewed.
pub const LEASE: Duration = Duration::from_secs(10);
pub const MAX_BATCH: u32 = 200;
/// How often an idle hook looks for new deliveries.
pub const IDLE: Duration = Duration::from_millis(250);
pub const FAILING_AFTER: Duration = Duration::from_secs(24 * 3600);
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// An unverified hook is asked again this often.
const VERIFY_AGAIN: Duration = Duration::from_secs(60);
/// The header a verification request carries its challenge in.
pub const CHALLENGE_HEADER: &str = "x-passway-verification-challenge";

/// Starts a delivery task per configured hook; they end when the server shuts down.
pub fn spawn(app: &AppState) {
    let owner = format!("{}-{}", std::process::id(), random_token(&mut SystemEntropy, 8));
    for hook in &app.config.hooks.events {
        let (app, hook, owner) = (app.clone(), hook.clone(), owner.clone());
        tokio::spawn(async move { run(app, hook, owner).await });
    }
}

async fn run(app: AppState, hook: EventHook, owner: String) {
    let mut shutdown = app.shutdown.clone();
    let mut synced = false;
    loop {
        let wait = if !synced {
            synced = app.store.hook_sync(&hook.name, &hook.url).await.is_ok();
            Duration::from_secs(1)
        } else {
            let now = app.clock.now();
            match app.store.hook_lease(&hook.name, &owner, now, now.plus(LEASE)).await {
                Ok(Some(state)) => {
                    let span = tracing::debug_span!("event_hook", hook = %hook.name);
                    tracing::Instrument::instrument(step(&app, &hook, state), span).await
                }
                // Another instance delivers this hook.
                Ok(None) => LEASE / 3,
                Err(e) => {
                    tracing::warn!(hook = %hook.name, error = %e, "event hook: store");
                    Duration::from_secs(1)
                }
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
    }
    // Stopping: the lease ends now (if this instance holds it), so that another instance
    // delivers at once rather than after it lapses.
    let now = app.clock.now();
    let _ = app.store.hook_lease(&hook.name, &owner, now, now).await;
}

/// One thing to do for a hook whose lease this instance holds; returns how long to
/// wait before the next.
pub async fn step(app: &AppState, hook: &EventHook, state: HookState) -> Duration {
    let now = app.clock.now();
    if now < state.next_attempt_at {
        return now.until(state.next_attempt_at).min(IDLE);
    }
    if state.verified_at.is_none() {
        return verify(app, hook, &state, now).await;
    }
    let new_id = format!("msg_{}", random_token(&mut SystemEntropy, 16));
    let (batch, events) = match app.store.hook_batch(&hook.name, &new_id, MAX_BATCH).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(hook = %hook.name, error = %e, "event hook: store");
            return Duration::from_secs(1);
        }
    };
    if events.is_empty() {
        if state.batch.is_some() {
            // Its events were purged (a hook failing for the whole retention).
            let _ = app.store.hook_record(&hook.name, None, &HookUpdate::Delivered { batch }).await;
        }
        return IDLE;
    }
    let body = envelope(&events);
    let timestamp = now.unix_seconds();
    let headers = [
        ("webhook-id", batch.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature::sign(&hook.secret, &batch, timestamp, &body)),
    ];
    let (result, took) = call_with_retry(|| app.outbound.post(&hook.url, &headers, body.clone(), hook.timeout)).await;
    let delivered = matches!(&result, Ok(a) if (200..300).contains(&a.status));
    let attempt = attempt(hook, &batch, now, events.len() as u32, &result, took);
    if delivered {
        let recorded = app.store.hook_record(&hook.name, Some(&attempt), &HookUpdate::Delivered { batch }).await;
        if recorded.is_ok() && state.status == "failing" {
            log(app, hook, EventType::EventHookRecovered, LogOutcome::Success, "Event hook delivers again", None).await;
        }
        return Duration::ZERO;
    }
    let reason = attempt.error.clone().unwrap_or_default();
    let failing_since = state.failing_since.unwrap_or(now);
    let failing = failing_since.until(now) >= FAILING_AFTER;
    let next = now.plus(backoff(state.attempts + 1));
    let update = HookUpdate::Failed {
        now,
        next_attempt_at: next,
        status: if failing { "failing" } else { "active" },
        reason: reason.clone(),
    };
    if app.store.hook_record(&hook.name, Some(&attempt), &update).await.is_ok() && failing && state.status != "failing"
    {
        log(app, hook, EventType::EventHookFailing, LogOutcome::Failure, "Event hook failing for a day", Some(reason))
            .await;
    }
    now.until(next).min(IDLE)
}

/// The body of a delivery: the events, in outbox order.
pub fn envelope(events: &[String]) -> String {
    format!(r#"{{"type":"passway.events","data":{{"events":[{}]}}}}"#, events.join(","))
}

/// 1 s doubling per failed attempt to an hour, less up to a fifth at random (so
/// instances and hooks that failed together do not retry together).
pub fn backoff(attempts: u32) -> Duration {
    let full = Duration::from_secs(1u64 << attempts.saturating_sub(1).min(12)).min(MAX_BACKOFF);
    let mut byte = [0u8; 1];
    crate::crypto::Entropy::fill(&mut SystemEntropy, &mut byte);
    full - full.mul_f64(f64::from(byte[0]) / 255.0 / 5.0)
}

async fn verify(app: &AppState, hook: &EventHook, state: &HookState, now: Timestamp) -> Duration {
    let challenge = random_token(&mut SystemEntropy, 24);
    let headers = [(CHALLENGE_HEADER, challenge.clone())];
    let (result, took) = call_with_retry(|| app.outbound.get(&hook.url, &headers, hook.timeout)).await;
    let echoed = match &result {
        Ok(a) if (200..300).contains(&a.status) => serde_json::from_slice::<serde_json::Value>(&a.body)
            .ok()
            .and_then(|v| v["verification"].as_str().map(str::to_owned)),
        _ => None,
    };
    let mut attempt = attempt(hook, "verification", now, 0, &result, took);
    if echoed.as_deref() == Some(challenge.as_str()) {
        if app.store.hook_record(&hook.name, Some(&attempt), &HookUpdate::Verified { at: now }).await.is_ok() {
            log(app, hook, EventType::EventHookVerified, LogOutcome::Success, "Event hook verified", None).await;
        }
        return Duration::ZERO;
    }
    let reason = match (&result, &attempt.error) {
        (_, Some(error)) => error.clone(),
        (Ok(_), None) => "the answer did not echo the verification challenge as {\"verification\": \"…\"}".into(),
        (Err(_), None) => "no answer".into(),
    };
    attempt.error = Some(reason.clone());
    let update = HookUpdate::Unverified { reason: reason.clone(), retry_at: now.plus(VERIFY_AGAIN) };
    let changed = state.reason.as_deref() != Some(reason.as_str());
    if app.store.hook_record(&hook.name, Some(&attempt), &update).await.is_ok() && changed {
        log(
            app,
            hook,
            EventType::EventHookVerificationFailed,
            LogOutcome::Failure,
            "Event hook not verified",
            Some(reason),
        )
        .await;
    }
    VERIFY_AGAIN.min(IDLE * 4)
}

/// One call, and one more at once if no connection could be made.
async fn call_with_retry<F, Fut>(call: F) -> (Result<Answer, CallError>, Duration)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Answer, CallError>>,
{
    let started = std::time::Instant::now();
    let result = match call().await {
        Err(e) if e.is_connect() => call().await,
        other => other,
    };
    (result, started.elapsed())
}

fn attempt(
    hook: &EventHook,
    webhook_id: &str,
    at: Timestamp,
    events: u32,
    result: &Result<Answer, CallError>,
    took: Duration,
) -> HookAttempt {
    let latency_ms = took.as_millis().min(u128::from(u32::MAX)) as u32;
    let (status, error) = match result {
        Ok(a) => (Some(a.status), (!(200..300).contains(&a.status)).then(|| format!("answered {}", a.status))),
        Err(e) => (None, Some(e.to_string())),
    };
    HookAttempt { hook: hook.name.clone(), webhook_id: webhook_id.to_owned(), at, events, status, latency_ms, error }
}

async fn log(
    app: &AppState,
    hook: &EventHook,
    event_type: EventType,
    outcome: LogOutcome,
    message: &str,
    reason: Option<String>,
) {
    let mut entry = LogEntry::new(event_type, outcome, message).target(Target::EventHook { name: hook.name.clone() });
    if outcome != LogOutcome::Success {
        entry = entry.severity(Severity::Warn);
    }
    if let Some(reason) = reason {
        entry = entry.reason(reason);
    }
    entry = entry.debug("url", hook.url.clone());
    let client = ClientInfo::default();
    let event = app.events.record(&entry, &Context::request(&client), app.clock.now());
    if let Err(e) = app.store.commit(Commit { events: vec![event], ..Commit::default() }).await {
        tracing::warn!(hook = %hook.name, error = %e, "event hook: logging");
    }
}
