//! Custom domains (`[themes.hostnames]`): a flow started on one is presented, linked
//! and branded there, whatever the app's own brand; its pages' requests are same-origin.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::support::*;

const DOMAINS: &str = r#"
[themes.hostnames]
"id.globex.test" = "globex"
"login.acme.test" = "acme"
"#;

fn start_on(host: &str) -> Request<Body> {
    let body = json!({
        "client_id": "shop", "redirect_uri": REDIRECT, "state": "st-1", "nonce": "n-1",
        "scope": "openid email", "code_challenge": CHALLENGE, "code_challenge_method": "S256",
    });
    Request::post("/api/v1/flows")
        .header(header::HOST, host)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn submit_on(host: &str, origin: &str, href: &str, binding: &str, values: Value) -> Request<Body> {
    let path = href.split_once("/api/").map(|(_, p)| format!("/api/{p}")).unwrap();
    Request::post(path)
        .header(header::HOST, host)
        .header(header::ORIGIN, origin)
        .header(header::CONTENT_TYPE, "application/json")
        .header(passway_protocol::BINDING_HEADER, binding)
        .body(Body::from(values.to_string()))
        .unwrap()
}

#[tokio::test]
async fn a_flow_lives_on_the_domain_it_started_on_in_that_domains_brand() {
    let s = TestServer::with(DOMAINS, None).await;
    // The shop's own brand is acme; on Globex's domain it is Globex's.
    let flow = s.send(start_on("ID.Globex.test:8443")).await.flow();
    assert_eq!(flow.app.brand, "globex");
    assert_eq!(flow.app.logo_url.as_deref(), Some("http://id.globex.test:8443/themes/globex/logo.svg"));
    let identify = flow.remediation("identify").unwrap().href.clone();
    assert!(identify.starts_with("http://id.globex.test:8443/api/v1/flows/"), "{identify}");

    // Its page calls it from that domain: same origin. Another origin is refused.
    let binding = binding(&flow).to_owned();
    let evil = s
        .send(submit_on(
            "id.globex.test:8443",
            "http://evil.test",
            &identify,
            &binding,
            json!({ "identifier": "gus@example.com" }),
        ))
        .await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    let next = s
        .send(submit_on(
            "id.globex.test:8443",
            "http://id.globex.test:8443",
            &identify,
            &binding,
            json!({ "identifier": "gus@example.com" }),
        ))
        .await
        .flow();
    assert!(next.remediation("challenge-authenticator").unwrap().href.starts_with("http://id.globex.test:8443/"));

    // The email's link and logo are on that domain, in that brand's colours.
    let mails: Value = s.get("/dev/mailbox/messages?to=gus@example.com").await.json();
    let text = mails[0]["text"].as_str().unwrap();
    assert!(text.contains("http://id.globex.test:8443/email/verify?t="), "{text}");
    let html = mails[0]["html"].as_str().unwrap();
    assert!(html.contains("id.globex.test:8443") && html.contains("themes&#x2f;globex&#x2f;logo.svg"), "{html}");

    // The other domain: the same app in Acme's brand, on that domain.
    let flow = s.send(start_on("login.acme.test")).await.flow();
    assert_eq!(flow.app.brand, "acme");
    assert!(flow.remediation("identify").unwrap().href.starts_with("http://login.acme.test/api/"));

    // A host that is not a custom domain: the issuer, and the app's brand.
    let flow = s.send(start_on("elsewhere.test")).await.flow();
    assert_eq!(flow.app.brand, "acme");
    assert!(flow.remediation("identify").unwrap().href.starts_with(ISSUER));
}
