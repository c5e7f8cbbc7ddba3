//! The admin console's sign-in: an authorization code for the server's own client, the
//! console's cookie for members of the console group only, and the admin API through it
//! (with the console header) — ending with the session it signed in with.

use crate::support::*;

const CONSOLE: &str = "[admin]\nconsole_group = \"admins\"\n[groups.admins]\ndomains = [\"admins.example\"]\n";

/// Signs `email` in to the console in `b`; returns where the callback sent the browser.
async fn console_sign_in(b: &Browser<'_>, email: &str) -> Reply {
    let r = b.get("/admin").await;
    assert_eq!(r.header("location"), Some("/admin/signin"));
    let r = b.get("/admin/signin").await;
    let authorize =
        r.header("location").unwrap().strip_prefix(&format!("{ISSUER}/oauth2/v1/authorize?")).unwrap().to_owned();
    let back = b.authorize(&authorize, email).await.expect("signed in");
    b.get(&format!("{}?{}", back.path(), back.query().unwrap())).await
}

async fn users(b: &Browser<'_>, header: bool) -> u16 {
    let mut req = axum::http::Request::get("/api/v1/admin/users");
    if header {
        req = req.header("x-passway-console", "1");
    }
    b.send(req.body(axum::body::Body::empty()).unwrap()).await.status.as_u16()
}

#[tokio::test]
async fn only_the_console_group_gets_the_console_and_its_api() {
    let server = TestServer::with(CONSOLE, None).await;
    server.register("ops@admins.example", "Ops").await;
    server.register("eve@example.com", "Eve").await;

    let ops = Browser::new(&server);
    let r = console_sign_in(&ops, "ops@admins.example").await;
    assert_eq!((r.status.as_u16(), r.header("location")), (303, Some("/admin")), "{}", r.text());
    assert_eq!(ops.get("/admin").await.status, 200);
    assert_eq!(users(&ops, true).await, 200);
    assert_eq!(users(&ops, false).await, 401, "the cookie alone is not enough: the header is");

    let eve = Browser::new(&server);
    let r = console_sign_in(&eve, "eve@example.com").await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(users(&eve, true).await, 401);

    // Signed out everywhere (here, by the store), the console ends with the session.
    let id = server.app.store.user_by_email("ops@admins.example").await.unwrap().unwrap().id;
    server.app.store.revoke_user(&id, server.clock.now()).await.unwrap();
    assert_eq!(users(&ops, true).await, 401);
    assert_eq!(ops.get("/admin").await.header("location"), Some("/admin/signin"));
}

#[tokio::test]
async fn a_callback_without_its_state_is_refused() {
    let server = TestServer::with(CONSOLE, None).await;
    let b = Browser::new(&server);
    assert_eq!(b.get("/admin/callback?code=x&state=y").await.status, 400);
    assert_eq!(TestServer::new().await.get("/admin").await.status, 404, "off without a console group");
}
