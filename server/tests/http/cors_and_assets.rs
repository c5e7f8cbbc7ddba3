//! CORS for the browser APIs, and the widget and theme assets.

use axum::body::Body;
use axum::http::Request;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn preflight_and_origin_checks() {
    let s = TestServer::new().await;
    let preflight = |origin: &'static str| {
        Request::options("/api/v1/flows")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let ok = s.send(preflight(SHOP_ORIGIN)).await;
    assert_eq!(ok.status, 204);
    assert_eq!(ok.header("access-control-allow-origin"), Some(SHOP_ORIGIN));
    assert_eq!(ok.header("access-control-allow-credentials"), Some("true"));
    assert!(ok.header("access-control-allow-headers").unwrap().contains("content-type"));
    let refused = s.send(preflight("https://evil.example")).await;
    assert_eq!(refused.status, 403);
    assert!(refused.header("access-control-allow-origin").is_none());

    let body = json!({"client_id": "shop", "redirect_uri": REDIRECT, "code_challenge": CHALLENGE, "code_challenge_method": "S256"});
    let post = |origin: &'static str, client: &'static str| {
        let mut b = body.clone();
        b["client_id"] = json!(client);
        Request::post("/api/v1/flows")
            .header("origin", origin)
            .header("content-type", "application/json")
            .body(Body::from(b.to_string()))
            .unwrap()
    };
    let allowed = s.send(post(SHOP_ORIGIN, "shop")).await;
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(SHOP_ORIGIN));
    // The shop's origin may not start flows of another app.
    let other_app = s.send(post(SHOP_ORIGIN, "closed")).await;
    assert_eq!(other_app.error(), (403, "origin_not_allowed".into()));
    let same_origin = s.send(post(ISSUER, "closed")).await;
    assert_eq!(same_origin.status, 200, "the server's own pages may");
}

#[tokio::test]
async fn widget_files_with_etag_and_brotli() {
    let s = TestServer::new().await;
    let r = s.get("/widget/passway.js").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"), "loaded as a cross-origin module");
    let etag = r.header("etag").unwrap().to_owned();
    let again =
        s.send(Request::get("/widget/passway.js").header("if-none-match", &etag).body(Body::empty()).unwrap()).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let br = s
        .send(Request::get("/widget/passway.js").header("accept-encoding", "gzip, br").body(Body::empty()).unwrap())
        .await;
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert!(br.body.len() < r.body.len());
    assert_eq!(s.get("/widget/passway_bg.wasm").await.header("content-type"), Some("application/wasm"));
    assert_eq!(s.get("/widget/nope.js").await.error(), (404, "not_found".into()));
}

#[tokio::test]
async fn theme_css_and_logo() {
    let s = TestServer::new().await;
    let css = s.get("/themes/acme/theme.css").await;
    assert_eq!(css.status, 200);
    assert!(css.text().contains("--pw-color-primary: #b93c0b;"));
    assert!(css.header("etag").is_some());
    let logo = s.get("/themes/acme/logo.svg").await;
    assert_eq!(logo.header("content-type"), Some("image/svg+xml"));
    // Opened on its own, a logo runs nothing and loads nothing.
    let csp = logo.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("default-src 'none'") && csp.ends_with("sandbox"), "{csp}");
    assert!(s.get("/favicon.ico").await.header("content-security-policy").is_some_and(|c| c.contains("sandbox")));
    assert_eq!(s.get("/themes/nope/theme.css").await.status, 404);
    assert_eq!(s.get("/themes/acme/../../passway.toml").await.status, 404);
}

#[tokio::test]
async fn openapi_document_describes_the_flow_api() {
    let s = TestServer::new().await;
    let doc = s.get("/api/v1/openapi.json").await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/api/v1/flows", "/api/v1/flows/{handle}", "/api/v1/flows/{handle}/{remediation}"] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    for schema in
        ["FlowResponse", "Remediation", "Field", "Message", "StartFlow", "ApiError", "CurrentAuthenticator", "Success"]
    {
        assert!(doc["components"]["schemas"].get(schema).is_some(), "{schema} in components");
    }
}
