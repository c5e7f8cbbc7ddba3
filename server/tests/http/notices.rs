//! Notice emails: sent in the step's own commit when the app has them on, in the
//! person's language and the app's brand; nothing for an app that has them off.

use serde_json::json;

use crate::support::*;

const NOTICED: &str = r#"
[[apps]]
client_id = "noticed"
name = "Noticed"
brand = "acme"
redirect_uris = ["https://shop.example/cb"]
emails = ["welcome", "new_device"]
"#;

async fn subjects(s: &TestServer, to: &str) -> Vec<String> {
    let mails: serde_json::Value = s.get(&format!("/dev/mailbox/messages?to={to}")).await.json();
    mails.as_array().unwrap().iter().map(|m| m["subject"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn welcome_and_new_browser_notices_follow_the_apps_choice() {
    let s = TestServer::with(NOTICED, None).await;
    let start = json!({ "client_id": "noticed" });
    // Registration: the challenge, then a welcome (no "new browser": the account is new).
    let flow = s.start_with(start.clone()).await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "nia@example.com" })).await.flow();
    let (code, _) = s.mailed("nia@example.com").await;
    let flow = s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    s.submit(&flow, "enroll-profile", json!({ "email": "nia@example.com", "given_name": "Nia" })).await.flow();
    assert_eq!(subjects(&s, "nia@example.com").await, ["Welcome to Noticed", "Confirm your email for Noticed"]);
    let mails: serde_json::Value = s.get("/dev/mailbox/messages?to=nia@example.com").await.json();
    assert!(mails[0]["text"].as_str().unwrap().contains("You created it with nia@example.com"), "{mails}");
    assert!(mails[0]["html"].as_str().unwrap().contains("Acme Shop · 1 Market Street"), "the brand's footer");

    // A later sign-in from a browser the account has not used (no device cookie here).
    let flow = s.start_with(start).await;
    let flow = s.submit(&flow, "identify", json!({ "identifier": "nia@example.com" })).await.flow();
    let (code, _) = s.mailed("nia@example.com").await;
    s.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    let got = subjects(&s, "nia@example.com").await;
    assert_eq!(got[0], "New sign-in to your Noticed account", "{got:?}");

    // The shop has no notices on: its people get only their challenges.
    s.register("ola@example.com", "Ola").await;
    s.sign_in("ola@example.com").await;
    assert_eq!(
        subjects(&s, "ola@example.com").await,
        ["Sign in to Shop", "Confirm your email for Shop"],
        "no welcome, no new-browser notice"
    );
}
