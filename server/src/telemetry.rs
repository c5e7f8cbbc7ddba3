//! OpenTelemetry traces, off unless `[telemetry] otlp_endpoint` is set: a tracing layer
//! that turns the server's spans (each request with its ID, store calls, argon2, hooks,
//! emails) into OTLP spans and posts them in batches, as OTLP/HTTP JSON, to the
//! collector's `/v1/traces`. Parents and children share a trace; a request's span is its
//! trace's root.
//!
//! Exporting must never slow or stop the server: finished spans go through a bounded
//! queue ([`QUEUE`]; when the collector is slow or away, spans are dropped and counted),
//! and one task posts them, [`BATCH`] at a time or every second.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tracing::span::{Attributes, Id, Record};
use tracing::{Subscriber, field};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

pub const QUEUE: usize = 8192;
pub const BATCH: usize = 512;

/// A finished span, ready to be written as OTLP.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedSpan {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub parent: Option<[u8; 8]>,
    pub name: &'static str,
    pub start: SystemTime,
    pub end: SystemTime,
    pub attributes: Vec<(&'static str, String)>,
}

/// What a live span carries (in its extensions).
struct Open {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    parent: Option<[u8; 8]>,
    start: SystemTime,
    attributes: Vec<(&'static str, String)>,
}

pub struct OtlpLayer {
    finished: mpsc::Sender<FinishedSpan>,
}

impl OtlpLayer {
    /// The layer, and the receiving end of its finished spans (for [`export`]).
    pub fn new() -> (OtlpLayer, mpsc::Receiver<FinishedSpan>) {
        let (finished, rx) = mpsc::channel(QUEUE);
        (OtlpLayer { finished }, rx)
    }
}

struct Fields<'a>(&'a mut Vec<(&'static str, String)>);

impl field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &field::Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &field::Field, value: &str) {
        self.0.push((field.name(), value.to_owned()));
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes).expect("system random source");
    bytes
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for OtlpLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let parent = span.parent().and_then(|p| p.extensions().get::<Open>().map(|o| (o.trace_id, o.span_id)));
        let mut attributes = vec![];
        attrs.record(&mut Fields(&mut attributes));
        span.extensions_mut().insert(Open {
            trace_id: parent.map_or_else(random, |p| p.0),
            span_id: random(),
            parent: parent.map(|p| p.1),
            start: SystemTime::now(),
            attributes,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(open) = span.extensions_mut().get_mut::<Open>()
        {
            values.record(&mut Fields(&mut open.attributes));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(open) = span.extensions_mut().remove::<Open>() else { return };
        let finished = FinishedSpan {
            trace_id: open.trace_id,
            span_id: open.span_id,
            parent: open.parent,
            name: span.name(),
            start: open.start,
            end: SystemTime::now(),
            attributes: open.attributes,
        };
        // Full: the collector is behind; the span is dropped rather than waited for.
        let _ = self.finished.try_send(finished);
    }
}

fn nanos(t: SystemTime) -> String {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()).to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An OTLP/HTTP JSON `ExportTraceServiceRequest` of `spans`.
pub fn request(service: &str, spans: &[FinishedSpan]) -> Value {
    let spans: Vec<Value> = spans
        .iter()
        .map(|s| {
            let mut span = json!({
                "traceId": hex(&s.trace_id),
                "spanId": hex(&s.span_id),
                "name": s.name,
                "kind": if s.parent.is_none() { 2 } else { 1 },
                "startTimeUnixNano": nanos(s.start),
                "endTimeUnixNano": nanos(s.end),
                "attributes": s.attributes.iter().map(|(k, v)| json!({ "key": k, "value": { "stringValue": v } })).collect::<Vec<_>>(),
            });
            if let Some(parent) = s.parent {
                span["parentSpanId"] = Value::String(hex(&parent));
            }
            span
        })
        .collect();
    json!({
        "resourceSpans": [{
            "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": service } }] },
            "scopeSpans": [{ "scope": { "name": "passway" }, "spans": spans }],
        }]
    })
}

/// Posts finished spans to `endpoint`/v1/traces until the layer is gone.
pub async fn export(mut finished: mpsc::Receiver<FinishedSpan>, endpoint: String, service: String) {
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("an HTTP client");
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let first = tokio::time::timeout(Duration::from_secs(1), finished.recv()).await;
        match first {
            Ok(Some(span)) => batch.push(span),
            Ok(None) => return,
            Err(_) => {}
        }
        while batch.len() < BATCH
            && let Ok(span) = finished.try_recv()
        {
            batch.push(span);
        }
        if batch.is_empty() {
            continue;
        }
        let body = request(&service, &batch);
        if let Err(e) = http.post(&url).json(&body).send().await.and_then(|r| r.error_for_status()) {
            // Not through tracing: a failing export must not make spans of its own.
            eprintln!("passway: OTLP export to {url} failed ({} spans dropped): {e}", batch.len());
        }
        batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[test]
    fn spans_become_otlp_with_their_parents_and_fields() {
        let (layer, mut rx) = OtlpLayer::new();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let request = tracing::info_span!("request", request_id = "req-1", path = "/x");
            let _in = request.enter();
            tracing::debug_span!("store", op = "commit").in_scope(|| {});
        });
        let store = rx.try_recv().expect("the inner span ends first");
        let request = rx.try_recv().expect("then the request's");
        assert_eq!((store.name, request.name), ("store", "request"));
        assert_eq!(store.trace_id, request.trace_id, "one trace");
        assert_eq!(store.parent, Some(request.span_id));
        assert_eq!(request.parent, None);
        assert!(request.attributes.contains(&("request_id", "req-1".into())));

        let otlp = request_json(&[store, request]);
        let spans = &otlp["resourceSpans"][0]["scopeSpans"][0]["spans"];
        assert_eq!(otlp["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"], "passway");
        assert_eq!(spans[1]["name"], "request");
        assert_eq!(spans[1]["traceId"].as_str().unwrap().len(), 32);
        assert_eq!(spans[0]["parentSpanId"], spans[1]["spanId"]);
        assert_eq!(spans[1]["attributes"][0], json!({ "key": "request_id", "value": { "stringValue": "req-1" } }));
    }

    fn request_json(spans: &[FinishedSpan]) -> Value {
        request("passway", spans)
    }
}
