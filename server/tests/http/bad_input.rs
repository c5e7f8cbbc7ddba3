//! Bad requests get a 4xx JSON error naming the problem, never a 5xx, and leave the
//! flow as it was.

use axum::body::Body;
use axum::http::Request;
use serde_json::json;

use crate::support::*;

async fn raw(s: &TestServer, path: &str, content_type: Option<&str>, body: impl Into<Body>) -> Reply {
    bound_raw(s, None, path, content_type, body).await
}

/// [`raw`], with a flow's binding secret.
async fn bound_raw(
    s: &TestServer,
    binding: Option<&str>,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Reply {
    let mut req = Request::post(path);
    if let Some(b) = binding {
        req = req.header(passway_protocol::BINDING_HEADER, b);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    s.send(req.body(body.into()).unwrap()).await
}

#[tokio::test]
async fn malformed_bodies() {
    let s = TestServer::new().await;
    let r = raw(&s, "/api/v1/flows", Some("application/json"), "{not json").await;
    assert_eq!(r.error(), (400, "invalid_json".into()));
    assert!(r.json()["message"].as_str().unwrap().contains("key must be a string"), "{}", r.text());

    let r = raw(&s, "/api/v1/flows", Some("text/plain"), "{}").await;
    assert_eq!(r.error(), (415, "unsupported_media_type".into()));

    let r =
        raw(&s, "/api/v1/flows", Some("application/json"), format!("{{\"client_id\": \"{}\"}}", "x".repeat(40_000)))
            .await;
    assert_eq!(r.error(), (413, "payload_too_large".into()));

    let r = s.post_json("/api/v1/flows", &json!({ "client_id": "shop" })).await;
    assert_eq!(r.error(), (400, "invalid_json".into()));
    assert!(r.json()["message"].as_str().unwrap().contains("missing field `redirect_uri`"));

    let r = s
        .post_json(
            "/api/v1/flows",
            &json!({"client_id": "shop", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE, "code_challenge_method": "S256", "admin": true}),
        )
        .await;
    assert_eq!(r.error(), (400, "invalid_json".into()));
    assert!(r.json()["message"].as_str().unwrap().contains("unknown field `admin`"));
}

#[tokio::test]
async fn bad_authorization_requests_on_the_flow_api() {
    let s = TestServer::new().await;
    for (overrides, expected) in [
        (json!({ "client_id": "nobody" }), "invalid_client"),
        (json!({ "redirect_uri": "https://evil.example/cb" }), "invalid_redirect_uri"),
        (json!({ "code_challenge_method": "plain" }), "invalid_request"),
        (json!({ "code_challenge": "too-short" }), "invalid_request"),
        (json!({ "scope": "email" }), "invalid_scope"),
    ] {
        let mut body = json!({"client_id": "shop", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE, "code_challenge_method": "S256"});
        for (k, v) in overrides.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = s.post_json("/api/v1/flows", &body).await;
        assert_eq!(r.error(), (400, expected.to_owned()), "{overrides}");
    }
    let r = s.post_json("/api/v1/flows", &json!({"client_id": "shop", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE, "code_challenge_method": "S256", "intent": "teleport"})).await;
    assert_eq!(r.error(), (400, "invalid_json".into()));
}

#[tokio::test]
async fn unknown_and_expired_handles() {
    let s = TestServer::new().await;
    assert_eq!(s.get("/api/v1/flows/nope").await.error(), (404, "flow_not_found".into()));
    assert_eq!(s.post_json("/api/v1/flows/nope/identify", &json!({})).await.error(), (404, "flow_not_found".into()));
    assert_eq!(s.get("/api/v1/flows/nope/events").await.error(), (404, "flow_not_found".into()));
    let flow = s.start().await;
    s.advance(30 * 60);
    assert_eq!(s.get_flow(&flow).await.error(), (410, "flow_expired".into()));
    assert_eq!(
        s.submit(&flow, "identify", json!({ "identifier": "a@b.co" })).await.error(),
        (410, "flow_expired".into())
    );
}

#[tokio::test]
async fn submissions_that_do_not_fit_the_step() {
    let s = TestServer::new().await;
    let flow = s.start().await;
    let path = |name: &str| format!("/api/v1/flows/{}/{name}", flow.handle);
    assert_eq!(
        s.post_bound(&flow, &path("challenge-authenticator"), &json!({ "code": "123456" })).await.error(),
        (400, "remediation_not_offered".into())
    );
    assert_eq!(
        s.post_bound(&flow, &path("make-me-admin"), &json!({})).await.error(),
        (400, "remediation_not_offered".into())
    );
    assert_eq!(
        s.post_bound(&flow, &path("identify"), &json!({ "identifier": "a@b.co", "role": "admin" })).await.error(),
        (400, "unknown_field".into())
    );
    assert_eq!(
        s.post_bound(&flow, &path("identify"), &json!({ "identifier": true })).await.error(),
        (400, "invalid_field_type".into())
    );
    assert_eq!(
        s.post_bound(&flow, &path("identify"), &json!({ "identifier": 42 })).await.error(),
        (400, "invalid_json".into())
    );
    assert_eq!(s.post_bound(&flow, &path("identify"), &json!([1, 2])).await.error(), (400, "invalid_json".into()));

    // A validation problem: 200, the same step, the message bound to the field, the value kept.
    let r = s.submit(&flow, "identify", json!({ "identifier": "not an email" })).await.flow();
    assert_eq!(names(&r), ["identify", "select-enroll-profile"]);
    assert_eq!(
        (r.messages[0].key.as_str(), r.messages[0].field.as_deref()),
        ("field.email.invalid", Some("identifier"))
    );
    assert_eq!(
        r.remediation("identify").unwrap().field("identifier").unwrap().value,
        Some(passway_protocol::FieldValue::Text("not an email".into()))
    );

    // None of that changed the flow.
    let now = s.get_flow(&flow).await.flow();
    assert_eq!(names(&now), names(&flow));
    assert!(now.messages.is_empty());
    assert!(s.get("/dev/mailbox/messages").await.json().as_array().unwrap().is_empty(), "no email was sent");

    // Unknown routes and methods.
    assert_eq!(s.get("/api/v1/nothing").await.error(), (404, "not_found".into()));
    let r = s.send(Request::delete(format!("/api/v1/flows/{}", flow.handle)).body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn an_empty_body_means_no_values() {
    let s = TestServer::new().await;
    let flow = s.start().await;
    let path = format!("/api/v1/flows/{}/select-enroll-profile", flow.handle);
    let r = bound_raw(&s, flow.binding.as_deref(), &path, None, "").await;
    assert_eq!(names(&r.flow())[0], "enroll-profile");
}

#[tokio::test]
async fn bad_magic_links() {
    let s = TestServer::new().await;
    for link in ["/email/verify", "/email/verify?t=", "/email/verify?t=garbage", "/email/verify?t=nope.nope"] {
        let r = s.get(link).await;
        assert_eq!(r.status, 404, "{link}");
        assert!(r.text().contains("This link is not valid"));
    }
    let flow = s.start().await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (_, link) = s.mailed("ada@example.com").await;
    let forged = format!("{}x", &link[..link.len() - 1]);
    assert_eq!(s.get(&forged).await.status, 404);
    assert!(s.submit(&flow, "challenge-poll", json!({})).await.flow().success.is_none());
}
