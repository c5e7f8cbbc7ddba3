//! `passway serve` as operators run it: JSON logs, metrics on a listener of their own,
//! traces to an OTLP collector, and a stop (SIGTERM) that ends event streams and exits
//! cleanly.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use serde_json::{Value, json};

/// An OTLP/HTTP collector on loopback: keeps every span it is sent.
async fn collector() -> (String, Arc<Mutex<Vec<Value>>>) {
    let spans: Arc<Mutex<Vec<Value>>> = Arc::default();
    let kept = spans.clone();
    let router = axum::Router::new().route(
        "/v1/traces",
        post(move |axum::Json(body): axum::Json<Value>| async move {
            for s in body["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array().into_iter().flatten() {
                kept.lock().unwrap().push(s.clone());
            }
            "{}"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, spans)
}

async fn until<T>(what: &str, mut found: impl FnMut() -> Option<T>) -> T {
    for _ in 0..100 {
        if let Some(t) = found() {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_logs_metrics_and_traces_and_stops_it_cleanly() {
    let (otlp, spans) = collector().await;
    let metrics_port = common::free_port();
    let dir = tempfile::tempdir().unwrap();
    let themes = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes");
    let config = dir.path().join("passway.toml");
    std::fs::write(
        &config,
        format!(
            "dev_mode = true\ndata_dir = \"{data}\"\n[themes]\ndir = \"{themes}\"\n\
             [metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n[telemetry]\notlp_endpoint = \"{otlp}\"\n\
             [[apps]]\nclient_id = \"shop\"\nname = \"Shop\"\nredirect_uris = [\"https://shop.example/cb\"]\n",
            data = dir.path().join("data").display(),
            themes = themes.display(),
        ),
    )
    .unwrap();
    let mut served = common::serve(&config, &["--log-format", "json"]);
    let http = reqwest::Client::new();

    // A flow's step, under a request ID of ours.
    let start = json!({
        "client_id": "shop", "redirect_uri": "https://shop.example/cb", "state": "s", "scope": "openid",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
    });
    let flow: Value = http
        .post(format!("{}/api/v1/flows", served.base))
        .header("x-request-id", "trace-me-1")
        .json(&start)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Traces: the request, with its ID and status, and its store call in the same trace.
    let (request, child) = until("the request's spans at the collector", || {
        let spans = spans.lock().unwrap();
        let request = spans.iter().find(|s| {
            s["name"] == "request"
                && s["attributes"].as_array().unwrap().iter().any(|a| a["value"]["stringValue"] == "trace-me-1")
        })?;
        let child = spans.iter().find(|s| s["traceId"] == request["traceId"] && s["name"] != "request")?;
        Some((request.clone(), child.clone()))
    })
    .await;
    assert!(
        request["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == &json!({ "key": "status", "value": { "stringValue": "200" } })),
        "{request}"
    );
    assert_eq!(child["parentSpanId"], request["spanId"], "{child}");

    // Metrics, on their own listener (and not on the public one).
    let page = http.get(format!("http://127.0.0.1:{metrics_port}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("passway_active_flows 1\n"), "{page}");
    assert_eq!(http.get(format!("{}/metrics", served.base)).send().await.unwrap().status(), 404);

    // Logs: one JSON object per line.
    let lines = served.stderr.lock().unwrap().clone();
    let logged: Vec<Value> = lines.iter().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(!logged.is_empty() && logged.len() == lines.len(), "JSON lines only: {lines:?}");
    assert!(logged.iter().any(|l| l["fields"]["message"] == "created a signing key"), "{lines:?}");

    // A stop: the open event stream ends, the process exits 0.
    let events = flow["current_authenticator"]["poll"]["events"].as_str().map(str::to_owned);
    let binding = flow["binding"].as_str().unwrap();
    let events = events.unwrap_or_else(|| {
        format!("{}/api/v1/flows/{}/events?binding={binding}", served.base, flow["handle"].as_str().unwrap())
    });
    let mut stream = http.get(&events).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let stopped = std::process::Command::new("kill").args(["-TERM", &served.child.id().to_string()]).status().unwrap();
    assert!(stopped.success());
    let ended =
        tokio::time::timeout(Duration::from_secs(10), async { while let Ok(Some(_)) = stream.chunk().await {} }).await;
    assert!(ended.is_ok(), "the event stream ends at the stop");
    let status = until("the process to exit", || served.child.try_wait().unwrap()).await;
    assert!(status.success(), "{status:?}");
}
