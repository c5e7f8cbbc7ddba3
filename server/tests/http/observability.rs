//! What an operator sees: request IDs, readiness, and the metrics page.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::support::*;

/// A load balancer's ID is kept and echoed; none, or a doubtful one, gets a new one.
/// A step's system log events carry it.
#[tokio::test]
async fn a_request_id_follows_the_request_into_the_log() {
    let s = TestServer::new().await;
    let with = |id: &str| Request::get("/healthz").header("x-request-id", id).body(Body::empty()).unwrap();
    assert_eq!(s.send(with("lb-7f3a:2")).await.header("x-request-id"), Some("lb-7f3a:2"));
    let made = s.get("/healthz").await.header("x-request-id").unwrap().to_owned();
    assert!(made.len() >= 16, "{made}");
    assert_ne!(s.get("/healthz").await.header("x-request-id").unwrap(), made, "one per request");
    let doubtful = s.send(with("a b\"c")).await.header("x-request-id").unwrap().to_owned();
    assert!(!doubtful.contains(' ') && !doubtful.contains('"'), "{doubtful}");

    let flow = s.start().await;
    let r = flow.remediation("identify").unwrap();
    let req = Request::post(r.href.strip_prefix(ISSUER).unwrap())
        .header(header::CONTENT_TYPE, "application/json")
        .header(passway_protocol::BINDING_HEADER, binding(&flow))
        .header("x-request-id", "trace-42")
        .body(Body::from(json!({ "identifier": "ada@example.com" }).to_string()))
        .unwrap();
    assert_eq!(s.send(req).await.status, StatusCode::OK);
    let events = s.app.store.events(0, 50).await.unwrap();
    let sent = events.iter().find(|(_, e)| e.event_type == "user.authentication.challenge.sent").expect("logged");
    let body: serde_json::Value = serde_json::from_str(&sent.1.body).unwrap();
    assert_eq!(body["debugContext"]["debugData"]["requestId"], "trace-42");
}

#[tokio::test]
async fn ready_means_the_store_answers() {
    on_each_store(|s| async move {
        let r = s.get("/readyz").await;
        assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "ready"));
        assert_eq!(s.get("/healthz").await.status, StatusCode::OK);
    })
    .await;
}

/// After a sign-in the page counts it by app, outcome and method, times its steps and
/// store calls, and reads the queues and keys; it is served on a listener of its own.
#[tokio::test]
async fn metrics_count_what_happened() {
    let s = TestServer::new().await;
    s.register("ada@example.com", "Ada").await;
    s.sign_in("ada@example.com").await;
    let flow = s.start().await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    s.submit(&flow, "challenge-authenticator", json!({ "code": "000000" })).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    tokio::spawn(passway_server::metrics::serve(listener, s.app.clone()));
    let page = reqwest::get(&url).await.unwrap();
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let page = page.text().await.unwrap();
    for line in [
        "passway_sign_ins_total{app=\"shop\",outcome=\"success\",method=\"email\"} 2\n",
        "passway_sign_ins_total{app=\"shop\",outcome=\"failure\",method=\"email\"} 1\n",
        "passway_step_seconds_count{remediation=\"identify\"} 3\n",
        "passway_step_seconds_count{remediation=\"challenge-authenticator\"} 3\n",
        "passway_mail_queue 0\n",
        "passway_argon2_queue 0\n",
        "passway_event_streams 0\n",
        "passway_active_flows 3\n",
    ] {
        assert!(page.contains(line), "{line:?} not in\n{page}");
    }
    assert!(page.contains("passway_store_seconds_count{op=\"commit\"} "), "{page}");
    assert!(page.contains("passway_signing_key_age_seconds{alg=\"ES256\"} "), "{page}");
    assert_eq!(reqwest::get(url.replace("/metrics", "/other")).await.unwrap().status(), 404);
}
