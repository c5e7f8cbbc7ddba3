//! The system log API: LogEvents filtered, paged by `Link` headers, and polled.

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::Value;

use crate::support::*;

struct Admin {
    server: TestServer,
    token: String,
}

impl Admin {
    async fn new() -> Admin {
        let (token, hash) = passway_server::oidc::client_auth::new_secret(&[9; 32]);
        let server = TestServer::with(&format!("[admin]\ntoken_hashes = [\"{hash}\"]\n"), None).await;
        Admin { server, token }
    }

    async fn logs(&self, query: &str) -> Reply {
        let req = Request::get(format!("/api/v1/logs{query}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .body(Body::empty())
            .unwrap();
        self.server.send(req).await
    }

    /// The events of a page, and its next page's path.
    async fn page(&self, query: &str) -> (Vec<Value>, Option<String>) {
        let reply = self.logs(query).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
        let next = reply.headers.get_all(header::LINK).iter().find_map(|l| {
            let l = l.to_str().unwrap();
            l.ends_with("rel=\"next\"").then(|| {
                let url = &l[1..l.find('>').unwrap()];
                url.strip_prefix(&format!("{ISSUER}/api/v1/logs")).unwrap().to_owned()
            })
        });
        (reply.json().as_array().unwrap().clone(), next)
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["eventType"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_log_is_filtered_paged_and_polled_by_an_admin_only() {
    let admin = Admin::new().await;
    let server = &admin.server;
    server.register("ada@example.com", "Ada").await;
    server.register("bob@example.com", "Bob").await;
    server.advance(3); // polling reads two seconds behind

    let no_token = server.get("/api/v1/logs").await;
    assert_eq!(no_token.error(), (401, "unauthorized".into()));

    let (all, _) = admin.page("?limit=1000").await;
    let created = all.iter().find(|e| e["eventType"] == "user.lifecycle.create").expect("an account was created");
    assert_eq!(created["target"][0]["alternateId"], "ada@example.com");
    assert_eq!(created["outcome"]["result"], "SUCCESS");
    assert!(created["transaction"]["id"].is_string(), "{created}");
    assert!(created["published"].as_str().unwrap().ends_with('Z'));
    // No secrets: the mailed code appears in no event.
    assert!(!all.iter().any(|e| e.to_string().contains("\"code\"")), "{all:?}");

    // Filters: Okta's SCIM subset.
    let filter =
        |f: &str| format!("?filter={}", url::form_urlencoded::byte_serialize(f.as_bytes()).collect::<String>());
    let (starts, _) = admin.page(&filter(r#"eventType eq "user.session.start" and actor.alternateId sw "ada""#)).await;
    assert_eq!(types(&starts), ["user.session.start"]);
    assert_eq!(starts[0]["actor"]["alternateId"], "ada@example.com");
    let (either, _) =
        admin.page(&filter(r#"(eventType eq "user.session.start" or eventType eq "user.lifecycle.create")"#)).await;
    assert_eq!(
        types(&either),
        ["user.lifecycle.create", "user.session.start", "user.lifecycle.create", "user.session.start"]
    );
    let bad = admin.logs(&filter(r#"eventType eq "x" and (severity eq"#)).await;
    let (status, _) = bad.error();
    assert_eq!(status, 400);
    assert!(bad.text().contains("at character"), "{}", bad.text());
    assert_eq!(admin.logs("?sortOrder=sideways").await.error().0, 400);
    assert_eq!(admin.logs("?limit=0").await.error().0, 400);
    assert_eq!(admin.logs("?since=yesterday").await.error().0, 400);

    // Keywords, and newest first.
    let (bobs, _) = admin.page("?q=bob%40example.com%20session").await;
    assert_eq!(types(&bobs), ["user.session.start"]);
    let (newest, _) = admin.page("?sortOrder=DESCENDING&limit=1").await;
    assert_eq!(newest[0]["uuid"], all.last().unwrap()["uuid"]);

    // Pages of two, by the next links, are the whole log, each event once.
    let mut paged = vec![];
    let mut next = Some("?limit=2".to_owned());
    while let Some(query) = next {
        let (events, link) = admin.page(&query).await;
        if events.is_empty() {
            next = None;
            // Polling: the last link keeps answering, with what arrives later.
            let link = link.expect("polling keeps a next link");
            server.register("cy@example.com", "Cy").await;
            server.advance(3);
            let (later, _) = admin.page(&link).await;
            assert_eq!(later.len().min(2), 2, "{later:?}");
            assert!(later.iter().all(|e| e["actor"]["alternateId"] == "cy@example.com"), "{later:?}");
        } else {
            paged.extend(events);
            next = link;
        }
    }
    let uuids = |events: &[Value]| events.iter().map(|e| e["uuid"].to_string()).collect::<Vec<_>>();
    assert_eq!(uuids(&paged), uuids(&all));

    // A closed range ends: no next link after its last page.
    let (_, link) = admin.page("?until=1s&limit=1000").await;
    assert_eq!(link, None);
}
