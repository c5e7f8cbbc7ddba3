//! Prometheus metrics, in the text exposition format, on a listener of their own
//! (`[metrics] listen`): an operator's scraper reaches it, the internet does not.
//!
//! Counters and histograms are kept here as the server works; gauges (queues, open
//! streams, live flows, key age) are read when scraped. Labels come only from closed
//! sets — configured apps, remediation names, authenticator kinds, limit kinds — so the
//! number of series is bounded whatever requests arrive.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::app::AppState;
use crate::engine::{EventType, LogEntry, LogOutcome};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// A latency histogram (cumulative when written out).
#[derive(Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(&self.counts) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }
}

/// A store call timed for `passway_store_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StoreOp {
    /// A flow (and what its step needs) read.
    Load,
    /// A step's one transaction.
    Commit,
}

impl StoreOp {
    fn name(self) -> &'static str {
        match self {
            StoreOp::Load => "load",
            StoreOp::Commit => "commit",
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    /// (app, outcome, method) → sign-ins.
    sign_ins: Mutex<BTreeMap<(String, &'static str, &'static str), u64>>,
    /// Remediation → step latency.
    steps: Mutex<BTreeMap<&'static str, std::sync::Arc<Histogram>>>,
    store: [Histogram; 2],
    /// Limit kind → requests refused.
    rate_limited: Mutex<BTreeMap<&'static str, u64>>,
    mail_sent: AtomicU64,
    mail_refused: AtomicU64,
    mail_retried: AtomicU64,
}

impl Metrics {
    /// Counts the sign-in outcomes a step's log entries tell of.
    pub fn logged(&self, app: &str, entry: &LogEntry, first_method: Option<&'static str>) {
        let outcome = match (entry.event_type, entry.outcome) {
            (EventType::UserSessionStart, LogOutcome::Success) => "success",
            (EventType::UserAuthenticationSso, LogOutcome::Success) => "sso",
            (EventType::UserAuthenticationVerify, LogOutcome::Failure) => "failure",
            (EventType::UserAccountLock, _) => "locked",
            (EventType::PolicyEvaluateSignOn, LogOutcome::Deny) => "denied",
            _ => return,
        };
        let method = match outcome {
            "sso" => "session",
            "success" => first_method.unwrap_or("none"),
            _ => entry.credential.map_or("none", |k| k.key()),
        };
        let mut map = self.sign_ins.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry((app.to_owned(), outcome, method)).or_default() += 1;
    }

    /// A step answered, for the remediation it was (one of `names::ALL`, or "other").
    pub fn step(&self, remediation: &'static str, took: Duration) {
        let histogram = {
            let mut map = self.steps.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(remediation).or_default().clone()
        };
        histogram.observe(took);
    }

    pub fn store(&self, op: StoreOp, took: Duration) {
        self.store[op as usize].observe(took);
    }

    pub fn rate_limited(&self, kind: &'static str) {
        let mut map = self.rate_limited.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(kind).or_default() += 1;
    }

    pub fn mail_sent(&self, result: &Result<(), crate::mail::smtp::SendError>) {
        use crate::mail::smtp::SendError;
        let counter = match result {
            Ok(()) => &self.mail_sent,
            Err(SendError::Permanent(_)) => &self.mail_refused,
            Err(SendError::Transient(_)) => &self.mail_retried,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// What the server counted, in the text format.
    fn counted(&self, out: &mut String) {
        head(out, "passway_sign_ins_total", "counter", "Sign-in outcomes by app, outcome and first method.");
        for ((app, outcome, method), n) in self.sign_ins.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(
                out,
                "passway_sign_ins_total{{app=\"{}\",outcome=\"{outcome}\",method=\"{method}\"}} {n}",
                escape(app)
            );
        }
        head(out, "passway_step_seconds", "histogram", "Time to answer a flow step, by remediation.");
        let steps: Vec<_> = {
            let map = self.steps.lock().unwrap_or_else(|p| p.into_inner());
            map.iter().map(|(k, v)| (*k, v.clone())).collect()
        };
        for (remediation, h) in steps {
            h.write(out, "passway_step_seconds", &format!("remediation=\"{remediation}\""));
        }
        head(out, "passway_store_seconds", "histogram", "Store calls of a step: its reads and its one commit.");
        for op in [StoreOp::Load, StoreOp::Commit] {
            self.store[op as usize].write(out, "passway_store_seconds", &format!("op=\"{}\"", op.name()));
        }
        head(out, "passway_rate_limited_total", "counter", "Requests refused by a rate limit, by limit.");
        for (kind, n) in self.rate_limited.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "passway_rate_limited_total{{limit=\"{kind}\"}} {n}");
        }
        head(out, "passway_mail_attempts_total", "counter", "SMTP sends by result.");
        for (result, n) in [("sent", &self.mail_sent), ("refused", &self.mail_refused), ("retry", &self.mail_retried)] {
            let _ = writeln!(out, "passway_mail_attempts_total{{result=\"{result}\"}} {}", n.load(Ordering::Relaxed));
        }
    }
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The whole page: what was counted, then what is read now.
pub async fn render(app: &AppState) -> String {
    let mut out = String::with_capacity(8192);
    app.metrics.counted(&mut out);
    let now = app.clock.now();
    let gauge = |out: &mut String, name: &str, help: &str, value: f64| {
        head(out, name, "gauge", help);
        let _ = writeln!(out, "{name} {value}");
    };
    gauge(
        &mut out,
        "passway_argon2_queue",
        "Password answers waiting for a hashing slot.",
        app.hashing.queued() as f64,
    );
    gauge(&mut out, "passway_event_streams", "Event streams open on this instance.", app.streams.total() as f64);
    let up = |r: Result<f64, crate::store::StoreError>| r.unwrap_or(f64::NAN);
    gauge(
        &mut out,
        "passway_active_flows",
        "Flows not yet expired (all instances).",
        up(app.store.live_flows(now).await.map(|n| n as f64)),
    );
    match app.store.mail_queue().await {
        Ok(q) => {
            gauge(&mut out, "passway_mail_queue", "SMTP emails waiting (all instances).", q.count as f64);
            let age = q.oldest.map_or(0.0, |t| t.until(now).as_secs_f64());
            gauge(&mut out, "passway_mail_queue_oldest_seconds", "Age of the oldest SMTP email waiting.", age);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: the mail queue"),
    }
    head(&mut out, "passway_hook_outbox", "gauge", "Event hook deliveries waiting, by hook.");
    head(&mut out, "passway_hook_outbox_oldest_seconds", "gauge", "Age of a hook's oldest waiting delivery.");
    for hook in app.store.hooks().await.unwrap_or_default() {
        let name = escape(&hook.name);
        let age = hook.oldest.map_or(0.0, |t| t.until(now).as_secs_f64());
        let _ = writeln!(out, "passway_hook_outbox{{hook=\"{name}\"}} {}", hook.pending);
        let _ = writeln!(out, "passway_hook_outbox_oldest_seconds{{hook=\"{name}\"}} {age}");
    }
    head(&mut out, "passway_signing_key_age_seconds", "gauge", "Age of the key signing each algorithm's tokens.");
    let keys = app.keys.get();
    for alg in crate::app::signing_algs(&app.config) {
        if let Some(key) = keys.signer(alg, now) {
            let age = key.activates_at.until(now).as_secs_f64();
            let _ = writeln!(out, "passway_signing_key_age_seconds{{alg=\"{}\"}} {age}", alg.name());
        }
    }
    out
}

/// Serves `/metrics` on `listener` until the server stops.
pub async fn serve(listener: tokio::net::TcpListener, app: AppState) -> std::io::Result<()> {
    use axum::routing::get;
    let mut shutdown = app.shutdown.clone();
    let router = axum::Router::new()
        .route(
            "/metrics",
            get(|axum::extract::State(app): axum::extract::State<AppState>| async move {
                ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], render(&app).await)
            }),
        )
        .with_state(app);
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authenticators::AuthenticatorKind;
    use crate::engine::LogEntry;

    #[test]
    fn a_histogram_is_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(10));
        let mut out = String::new();
        h.write(&mut out, "x", "a=\"b\"");
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.0005\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.005\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"2.5\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_count{a=\"b\"} 3\n"), "{out}");
    }

    #[test]
    fn sign_ins_are_counted_from_the_log() {
        let m = Metrics::default();
        let start = LogEntry::new(EventType::UserSessionStart, LogOutcome::Success, "signed in");
        let wrong = LogEntry::new(EventType::UserAuthenticationVerify, LogOutcome::Failure, "wrong")
            .credential(AuthenticatorKind::Password);
        let sent = LogEntry::new(EventType::UserAuthenticationChallengeSent, LogOutcome::Success, "sent");
        m.logged("shop", &start, Some("email"));
        m.logged("shop", &start, Some("email"));
        m.logged("shop\"x", &wrong, None);
        m.logged("shop", &sent, None);
        let mut out = String::new();
        m.counted(&mut out);
        assert!(out.contains("passway_sign_ins_total{app=\"shop\",outcome=\"success\",method=\"email\"} 2\n"), "{out}");
        assert!(
            out.contains("passway_sign_ins_total{app=\"shop\\\"x\",outcome=\"failure\",method=\"password\"} 1\n"),
            "{out}"
        );
        assert_eq!(out.matches("passway_sign_ins_total{").count(), 2, "a sent challenge is no outcome");
    }
}
