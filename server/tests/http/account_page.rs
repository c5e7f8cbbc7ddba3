//! The hosted account page over HTTP: a browser with a session opens it, changes its
//! profile, signs its other browser out, and deletes the account with a fresh proof.

use serde_json::json;

use crate::support::*;

const SHOP: &str = "https://shop.example/cb";

/// Opens the account page in `b` and returns its flow.
async fn open(b: &Browser<'_>) -> passway_protocol::FlowResponse {
    let r = b.get("/account?app=shop").await;
    assert_eq!(r.status, 303, "{}", r.text());
    let handle = r.header("location").unwrap().strip_prefix("/signin?flow=").expect("the hosted page").to_owned();
    b.get(&format!("/api/v1/flows/{handle}")).await.flow()
}

async fn signed_in(b: &Browser<'_>) -> bool {
    let q = authorize_query("shop", SHOP, "openid", "&prompt=none");
    b.get(&format!("/oauth2/v1/authorize?{q}")).await.header("location").unwrap().contains("code=")
}

#[tokio::test]
async fn a_signed_in_person_manages_and_deletes_their_account() {
    on_each_store(|server| async move {
        server.register("ada@example.com", "Ada").await;
        let (home, work) = (Browser::new(&server), Browser::new(&server));
        for b in [&home, &work] {
            server.advance(1);
            b.authorize(&authorize_query("shop", SHOP, "openid", ""), "ada@example.com").await.unwrap();
        }

        let page = open(&home).await;
        assert_eq!(page.strings["title"], "Your account");
        assert!(names(&page).contains(&"delete-account"), "{:?}", names(&page));
        let session = page.remediation("end-session").expect("the other browser is listed");
        assert_eq!(session.fields[0].options.len(), 2, "registration and work: {:?}", session.fields[0].options);

        let saved = home.submit(&page, "update-profile", json!({ "given_name": "Augusta" })).await.flow();
        assert_eq!(saved.messages[0].key, "account.saved");
        let profile = server.app.store.user_by_email("ada@example.com").await.unwrap().unwrap().profile;
        assert_eq!(profile["given_name"], "Augusta");
        let bad = home.submit(&saved, "update-profile", json!({ "given_name": "x".repeat(500) })).await.flow();
        assert_eq!(bad.messages[0].field.as_deref(), Some("given_name"), "{:?}", bad.messages);

        let others = home.submit(&bad, "end-other-sessions", json!({})).await.flow();
        assert_eq!(others.messages[0].key, "account.signed_out_others");
        assert!(!signed_in(&work).await, "work is signed out");
        assert!(signed_in(&home).await, "this browser is not");

        // Ten minutes on, deleting asks for a fresh proof first: a code by email.
        server.advance(600);
        let asked = home.submit(&others, "delete-account", json!({ "confirm": true })).await.flow();
        assert_eq!(names(&asked)[0], "challenge-authenticator", "{:?}", names(&asked));
        assert!(server.app.store.user_by_email("ada@example.com").await.unwrap().is_some(), "not yet");
        let (code, _) = server.mailed("ada@example.com").await;
        let gone = home.submit(&asked, "challenge-authenticator", json!({ "code": code })).await.flow();
        assert_eq!(gone.strings["title"], "Your account is deleted");
        assert!(server.app.store.user_by_email("ada@example.com").await.unwrap().is_none());
        assert!(!signed_in(&home).await, "no account, no session");
    })
    .await;
}

#[tokio::test]
async fn the_account_page_signs_in_first_and_names_an_app() {
    let server = TestServer::new().await;
    server.register("ada@example.com", "Ada").await;
    let b = Browser::new(&server);
    let page = open(&b).await;
    assert_eq!(names(&page)[0], "identify");
    let flow = b.submit(&page, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (code, _) = server.mailed("ada@example.com").await;
    let r = b.submit(&flow, "challenge-authenticator", json!({ "code": code })).await;
    assert!(r.header("set-cookie").is_some_and(|c| c.contains("pw_session")), "a session starts");
    assert_eq!(r.flow().strings["title"], "Your account");
    assert!(signed_in(&b).await);

    let unknown = b.get("/account?app=nope").await;
    assert_eq!(unknown.status, 400);
    assert_eq!(b.get("/account").await.status, 400);
}

/// The attack: a page opened before an operator (or the owner elsewhere) ended the
/// session keeps its handle; it must change nothing.
#[tokio::test]
async fn an_open_page_whose_session_ended_changes_nothing() {
    let server = TestServer::new().await;
    server.register("ada@example.com", "Ada").await;
    let b = Browser::new(&server);
    b.authorize(&authorize_query("shop", SHOP, "openid", ""), "ada@example.com").await.unwrap();
    let page = open(&b).await;
    let id = server.app.store.user_by_email("ada@example.com").await.unwrap().unwrap().id;
    server.app.store.revoke_user(&id, server.clock.now()).await.unwrap();

    let after = b.submit(&page, "update-profile", json!({ "given_name": "Mallory" })).await.flow();
    assert_eq!(names(&after)[0], "identify", "{:?}", names(&after));
    assert_eq!(after.messages[0].key, "account.session_ended");
    let profile = server.app.store.user_by_email("ada@example.com").await.unwrap().unwrap().profile;
    assert_eq!(profile["given_name"], "Ada");
}
