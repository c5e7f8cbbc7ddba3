//! The admin API: operators find, change, deactivate and erase accounts, end their
//! sessions and tokens, remove their authenticators and put them in groups; automation
//! does the same with `client_credentials` tokens scoped to what it may do. Each write
//! is one commit with its log event, naming the admin.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use crate::oidc::decode_claims;
use crate::support::*;

const SHOP: &str = "https://shop.example/cb";

struct Admin<'a> {
    server: &'a TestServer,
    token: String,
}

impl Admin<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>, if_match: Option<&str>) -> Reply {
        let mut req =
            Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        if let Some(tag) = if_match {
            req = req.header(header::IF_MATCH, tag);
        }
        let req = match body {
            Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        self.server.send(req.unwrap()).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None, None).await
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let r = self.call(method.clone(), path, body, None).await;
        assert!(r.status.is_success(), "{method} {path}: {} {}", r.status, r.text());
        if r.status == 204 { Value::Null } else { r.json() }
    }

    /// The id of the account with this address.
    async fn id_of(&self, email: &str) -> String {
        let page = self.ok(Method::GET, &format!("/api/v1/admin/users?q={email}"), None).await;
        page["users"][0]["id"].as_str().unwrap_or_else(|| panic!("no account {email}: {page}")).to_owned()
    }

    /// The latest log event of `event_type`.
    async fn last_event(&self, event_type: &str) -> Value {
        let events = self.server.app.store.events(0, 1000).await.unwrap();
        let (_, e) = events.iter().rev().find(|(_, e)| e.event_type == event_type).expect(event_type);
        serde_json::from_str(&e.body).unwrap()
    }
}

/// Whether the browser is still signed in (`prompt=none` gets a code).
async fn quiet(b: &Browser<'_>) -> bool {
    let q = authorize_query("shop", SHOP, "openid", "&prompt=none");
    b.get(&format!("/oauth2/v1/authorize?{q}")).await.header("location").unwrap().contains("code=")
}

/// Signs in to payroll in a fresh browser.
async fn payroll(server: &TestServer) -> Result<url::Url, passway_protocol::FlowResponse> {
    Browser::new(server).authorize(&authorize_query("payroll", SHOP, "openid groups", ""), "ada@example.com").await
}

fn admin_config(extra: &str) -> (String, String) {
    let (token, hash) = passway_server::oidc::client_auth::new_secret(&[5; 32]);
    (token, format!("[admin]\ntoken_hashes = [\"{hash}\"]\n{extra}"))
}

#[tokio::test]
async fn operators_find_change_and_deactivate_accounts() {
    let (token, extra) = admin_config("");
    on_each_store_with(&extra, |server| {
        let token = token.clone();
        async move {
            let admin = Admin { server: &server, token };
            for (email, name) in [("ada@example.com", "Ada"), ("adam@example.com", "Adam"), ("bob@example.com", "Bob")]
            {
                server.register(email, name).await;
            }
            // Search by prefix, a page at a time.
            let page = admin.ok(Method::GET, "/api/v1/admin/users?q=ad&limit=1", None).await;
            assert_eq!(page["users"][0]["email"], "ada@example.com");
            let next = page["next"].as_str().unwrap();
            let page = admin.ok(Method::GET, &format!("/api/v1/admin/users?q=ad&limit=1&after={next}"), None).await;
            assert_eq!((page["users"][0]["email"].as_str(), page.get("next")), (Some("adam@example.com"), None));
            let bad = admin.get("/api/v1/admin/users?limit=0").await;
            assert_eq!(bad.error(), (400, "invalid_request".into()));

            // Get: the ETag is the version; a write naming an old one is refused whole.
            let ada = admin.id_of("ada@example.com").await;
            let got = admin.get(&format!("/api/v1/admin/users/{ada}")).await;
            let etag = got.header("etag").unwrap().to_owned();
            assert_eq!(
                (got.json()["status"].as_str(), got.json()["profile"]["given_name"].as_str()),
                (Some("active"), Some("Ada"))
            );
            let path = format!("/api/v1/admin/users/{ada}");
            let change = json!({ "profile": { "given_name": "Augusta" } });
            let r = admin.call(Method::PATCH, &path, Some(change.clone()), Some(&etag)).await;
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(r.json()["profile"]["given_name"], "Augusta");
            let stale =
                admin.call(Method::PATCH, &path, Some(json!({ "profile": { "given_name": "X" } })), Some(&etag)).await;
            assert_eq!(stale.error(), (409, "version_conflict".into()));
            // Bad input names the field, and writes nothing.
            for (body, field) in [
                (json!({ "profile": { "shoe_size": "9" } }), "profile.shoe_size"),
                (json!({ "profile": { "given_name": null } }), "profile.given_name"),
                (json!({ "profile": { "email": "eve@example.com" } }), "profile.email"),
            ] {
                let r = admin.call(Method::PATCH, &path, Some(body), None).await;
                assert_eq!(r.status, 400, "{}", r.text());
                assert!(r.json()["message"].as_str().unwrap().starts_with(field), "{}", r.text());
            }
            assert_eq!(admin.get(&path).await.json()["profile"]["given_name"], "Augusta");
            let event = admin.last_event("user.account.update_profile.admin").await;
            assert_eq!(event["actor"]["type"], "AdminToken");
            assert!(event["actor"]["id"].as_str().unwrap().starts_with("admin-token:"), "{event}");
            assert!(!event.to_string().contains(&admin.token), "the token is never logged");

            // Deactivated: signed out, and refused after proving the address again.
            let b = Browser::new(&server);
            let back = b.authorize(&authorize_query("shop", SHOP, "openid", ""), "ada@example.com").await.unwrap();
            assert!(param(&back, "code").is_some());
            admin.ok(Method::POST, &format!("{path}/lifecycle/deactivate"), None).await;
            assert_eq!(admin.get(&path).await.json()["status"], "deactivated");
            let quiet = b
                .get(&format!("/oauth2/v1/authorize?{}", authorize_query("shop", SHOP, "openid", "&prompt=none")))
                .await;
            assert!(quiet.header("location").unwrap().contains("error=login_required"), "the session ended");
            let refused = server.sign_in("ada@example.com").await;
            assert!(refused.success.is_none() && names(&refused).is_empty(), "{refused:?}");
            let found = admin.ok(Method::GET, "/api/v1/admin/users?status=deactivated", None).await;
            assert_eq!(found["users"].as_array().unwrap().len(), 1);
            admin.ok(Method::POST, &format!("{path}/lifecycle/reactivate"), None).await;
            assert!(server.sign_in("ada@example.com").await.success.is_some(), "active again");
            let event = admin.last_event("user.lifecycle.deactivate").await;
            assert_eq!(event["target"][0]["alternateId"], "ada@example.com");

            // Created by an operator: the address proves itself at the first sign-in.
            let made = admin
                .ok(
                    Method::POST,
                    "/api/v1/admin/users",
                    Some(json!({ "email": "Cy@Example.com", "profile": { "given_name": "Cy" } })),
                )
                .await;
            assert_eq!(made["email"], "cy@example.com");
            assert!(server.sign_in("cy@example.com").await.success.is_some());
            let twice = admin
                .call(
                    Method::POST,
                    "/api/v1/admin/users",
                    Some(json!({ "email": "cy@example.com", "profile": { "given_name": "Cy" } })),
                    None,
                )
                .await;
            assert_eq!(twice.error(), (409, "duplicate".into()));
            let missing = admin
                .call(Method::POST, "/api/v1/admin/users", Some(json!({ "email": "dee@example.com" })), None)
                .await;
            assert_eq!(missing.error().0, 400, "given_name is required");
        }
    })
    .await;
}

#[tokio::test]
async fn an_erased_account_leaves_its_id_and_not_its_address() {
    let (token, extra) = admin_config("");
    on_each_store_with(&extra, |server| {
        let token = token.clone();
        async move {
            let admin = Admin { server: &server, token };
            server.register("ada@example.com", "Ada").await;
            let flow = server.start_with(json!({ "scope": "openid email offline_access" })).await;
            let flow = server.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
            let (code, _) = server.mailed("ada@example.com").await;
            let done = server.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
            let tokens = server.exchange(done.success.unwrap().code.as_deref().unwrap()).await.json();
            let ada = admin.id_of("ada@example.com").await;

            let r = admin.call(Method::DELETE, &format!("/api/v1/admin/users/{ada}"), None, None).await;
            assert_eq!(r.status, 204, "{}", r.text());
            assert_eq!(admin.get(&format!("/api/v1/admin/users/{ada}")).await.error(), (404, "not_found".into()));
            let refresh = server
                .post_form(
                    "/oauth2/v1/token",
                    &[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
                        ("client_id", "shop"),
                    ],
                )
                .await;
            assert_eq!(refresh.error(), (400, "invalid_grant".into()));
            let userinfo = server
                .send(
                    Request::get("/oauth2/v1/userinfo")
                        .header(header::AUTHORIZATION, format!("Bearer {}", tokens["access_token"].as_str().unwrap()))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            assert_eq!(userinfo.status, 401);
            // The log: the id stays, the address is gone from every event.
            let events = server.app.store.events(0, 1000).await.unwrap();
            assert!(events.iter().all(|(_, e)| !e.body.contains("ada@example.com")), "{events:?}");
            assert!(events.iter().any(|(_, e)| e.body.contains(&ada)));
            let erased = admin.last_event("user.lifecycle.delete.completed").await;
            assert_eq!(erased["target"][0]["id"], ada.as_str());
            assert!(server.app.store.mails(Some("ada@example.com"), 10).await.unwrap().is_empty());
            // The address may register again: a new account.
            server.register("ada@example.com", "Ada").await;
            assert_ne!(admin.id_of("ada@example.com").await, ada);
        }
    })
    .await;
}

#[tokio::test]
async fn sessions_tokens_and_authenticators_end_one_by_one() {
    let (token, extra) = admin_config("");
    let server = TestServer::with(&extra, None).await;
    let admin = Admin { server: &server, token };
    server.register("ada@example.com", "Ada").await;
    let ada = admin.id_of("ada@example.com").await;
    let user = format!("/api/v1/admin/users/{ada}");
    let (home, work) = (Browser::new(&server), Browser::new(&server));
    let query = authorize_query("shop", SHOP, "openid offline_access", "");
    for b in [&home, &work] {
        server.advance(1); // sessions are listed oldest first
        b.authorize(&query, "ada@example.com").await.unwrap();
    }
    let sessions = admin.ok(Method::GET, &format!("{user}/sessions"), None).await;
    let ids: Vec<&str> = sessions.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "registration, home and work: {sessions}");
    assert_eq!(sessions[1]["authenticators"], json!(["email"]));

    // One session ends: that browser is signed out, the other is not.
    admin.ok(Method::DELETE, &format!("{user}/sessions/{}", ids[1]), None).await;
    assert!(!quiet(&home).await, "home was signed out");
    assert!(quiet(&work).await, "work was not");
    let other = admin.call(Method::DELETE, &format!("{user}/sessions/nope"), None, None).await;
    assert_eq!(other.error().0, 404);
    admin.ok(Method::DELETE, &format!("{user}/sessions"), None).await;
    assert!(!quiet(&work).await, "signed out everywhere");
    assert_eq!(admin.ok(Method::GET, &format!("{user}/sessions"), None).await, json!([]));
    let event = admin.last_event("user.session.clear").await;
    assert_eq!(event["actor"]["type"], "AdminToken");

    // A token family ends alone: its refresh token stops working.
    let flow = server.start_with(json!({ "scope": "openid offline_access" })).await;
    let flow = server.submit(&flow, "identify", json!({ "identifier": "ada@example.com" })).await.flow();
    let (code, _) = server.mailed("ada@example.com").await;
    let done = server.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    let tokens = server.exchange(done.success.unwrap().code.as_deref().unwrap()).await.json();
    let families = admin.ok(Method::GET, &format!("{user}/tokens"), None).await;
    assert_eq!((families.as_array().unwrap().len(), families[0]["clientId"].as_str()), (1, Some("shop")));
    admin.ok(Method::DELETE, &format!("{user}/tokens/{}", families[0]["id"].as_str().unwrap()), None).await;
    let refresh = server
        .post_form(
            "/oauth2/v1/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
                ("client_id", "shop"),
            ],
        )
        .await;
    assert_eq!(refresh.error(), (400, "invalid_grant".into()));
    assert_eq!(admin.ok(Method::GET, &format!("{user}/tokens"), None).await, json!([]));

    // Authenticators: listed without secrets, renamed, removed, reset.
    let store = &server.app.store;
    let passkey = |cred: &str| passway_server::store::StoredPasskey {
        cred_id: cred.into(),
        user_id: ada.clone(),
        name: "Passkey".into(),
        passkey: r#"{"cred":{"backup_eligible":true}}"#.into(),
        created_at: passway_server::engine::Timestamp(1_000),
        last_used_at: None,
    };
    let now = passway_server::engine::Timestamp(2_000);
    let commit = passway_server::store::Commit {
        passkeys: vec![passkey("k1"), passkey("k2")],
        passwords: vec![(ada.clone(), "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(), now)],
        ..Default::default()
    };
    store.commit(commit).await.unwrap();
    let list = admin.ok(Method::GET, &format!("{user}/authenticators"), None).await;
    let kinds: Vec<&str> = list.as_array().unwrap().iter().map(|a| a["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["passkey", "passkey", "password"]);
    assert_eq!(list[0]["synced"], true);
    assert!(!list.to_string().contains("argon2"), "no secret: {list}");
    let renamed = admin
        .call(Method::PATCH, &format!("{user}/authenticators/k1"), Some(json!({ "name": "Work laptop" })), None)
        .await;
    assert_eq!(renamed.status, 204, "{}", renamed.text());
    admin.ok(Method::DELETE, &format!("{user}/authenticators/k2"), None).await;
    let gone = admin.call(Method::DELETE, &format!("{user}/authenticators/k2"), None, None).await;
    assert_eq!(gone.error().0, 404);
    let list = admin.ok(Method::GET, &format!("{user}/authenticators"), None).await;
    assert_eq!((list[0]["name"].as_str(), list.as_array().unwrap().len()), (Some("Work laptop"), 2));
    admin.ok(Method::POST, &format!("{user}/authenticators/reset"), None).await;
    assert_eq!(admin.ok(Method::GET, &format!("{user}/authenticators"), None).await, json!([]));
    assert_eq!(admin.last_event("user.mfa.factor.reset_all").await["debugContext"]["debugData"]["removed"], "2");
}

#[tokio::test]
async fn store_groups_count_in_rules_and_in_tokens() {
    let (token, extra) = admin_config(
        r#"
[groups.contractors]
[[apps]]
client_id = "payroll"
name = "Payroll"
redirect_uris = ["https://shop.example/cb"]
[[apps.sign_on]]
name = "No contractors"
groups = ["contractors"]
access = "deny"
[[apps.sign_on]]
name = "Everyone"
"#,
    );
    on_each_store_with(&extra, |server| {
        let token = token.clone();
        async move {
            let admin = Admin { server: &server, token };
            server.register("ada@example.com", "Ada").await;
            let ada = admin.id_of("ada@example.com").await;
            let made = admin
                .ok(
                    Method::POST,
                    "/api/v1/admin/groups",
                    Some(json!({ "name": "contractors", "description": "Temps" })),
                )
                .await;
            assert_eq!(made["source"], "store");
            let bad =
                admin.call(Method::POST, "/api/v1/admin/groups", Some(json!({ "name": "no spaces" })), None).await;
            assert_eq!(bad.error(), (400, "invalid_field".into()));
            admin.ok(Method::PUT, &format!("/api/v1/admin/groups/contractors/users/{ada}"), None).await;
            let members = admin.ok(Method::GET, "/api/v1/admin/groups/contractors/users", None).await;
            assert_eq!(members["users"][0]["email"], "ada@example.com");
            assert_eq!(
                admin.ok(Method::GET, &format!("/api/v1/admin/users/{ada}"), None).await["groups"],
                json!(["contractors"])
            );

            // The rule sees the store group: payroll turns her away.
            assert!(payroll(&server).await.is_err(), "denied to a contractor");
            // The groups scope releases them.
            let back = Browser::new(&server)
                .authorize(&authorize_query("shop", SHOP, "openid groups", ""), "ada@example.com")
                .await
                .unwrap();
            let r = server
                .post_form(
                    "/oauth2/v1/token",
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &param(&back, "code").unwrap()),
                        ("redirect_uri", SHOP),
                        ("client_id", "shop"),
                        ("code_verifier", VERIFIER),
                    ],
                )
                .await;
            assert_eq!(decode_claims(r.json()["id_token"].as_str().unwrap())["groups"], json!(["contractors"]));

            admin.ok(Method::DELETE, &format!("/api/v1/admin/groups/contractors/users/{ada}"), None).await;
            assert!(payroll(&server).await.is_ok(), "no longer a contractor");
            admin.ok(Method::DELETE, "/api/v1/admin/groups/contractors", None).await;
            assert_eq!(admin.call(Method::DELETE, "/api/v1/admin/groups/contractors", None, None).await.error().0, 404);
            let event = admin.last_event("group.user_membership.remove").await;
            assert_eq!(event["target"][1]["displayName"], "contractors");
        }
    })
    .await;
}

#[tokio::test]
async fn automation_gets_standard_tokens_scoped_to_what_it_may_do() {
    let (secret, hash) = passway_server::oidc::client_auth::new_secret(&[8; 32]);
    let extra = format!(
        r#"
[[apps]]
client_id = "directory-sync"
grant_types = ["client_credentials"]
client_secret_hashes = ["{hash}"]
api_scopes = ["passway.users.read", "passway.groups.manage"]
"#
    );
    let server = TestServer::with(&extra, None).await;
    server.register("ada@example.com", "Ada").await;
    let token_for = |resource: &str| {
        let resource = resource.to_owned();
        let secret = secret.clone();
        let server = &server;
        async move {
            server
                .post_form(
                    "/oauth2/v1/token",
                    &[
                        ("grant_type", "client_credentials"),
                        ("client_id", "directory-sync"),
                        ("client_secret", &secret),
                        ("resource", &resource),
                    ],
                )
                .await
        }
    };
    let r = token_for(&format!("{ISSUER}/api/v1/admin")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["scope"], "passway.users.read passway.groups.manage");
    let robot = Admin { server: &server, token: r.json()["access_token"].as_str().unwrap().to_owned() };
    let ada = robot.id_of("ada@example.com").await;
    let write = robot.call(Method::POST, &format!("/api/v1/admin/users/{ada}/lifecycle/deactivate"), None, None).await;
    assert_eq!(write.error(), (403, "insufficient_scope".into()));
    assert_eq!(robot.get("/api/v1/logs").await.error(), (403, "insufficient_scope".into()));
    robot.ok(Method::POST, "/api/v1/admin/groups", Some(json!({ "name": "synced" }))).await;
    let event = robot.last_event("group.lifecycle.create").await;
    assert_eq!(
        (event["actor"]["type"].as_str(), event["actor"]["id"].as_str()),
        (Some("PublicClientApp"), Some("directory-sync"))
    );

    // A token for another audience, or a person's, or garbage, is not an admin token.
    assert_eq!(token_for("https://elsewhere.example").await.error(), (400, "invalid_target".into()));
    let flow = server.sign_in("ada@example.com").await;
    let person = server.exchange(flow.success.unwrap().code.as_deref().unwrap()).await.json();
    for token in [person["access_token"].as_str().unwrap(), "garbage"] {
        let stranger = Admin { server: &server, token: token.to_owned() };
        assert_eq!(stranger.get("/api/v1/admin/users").await.error(), (401, "unauthorized".into()));
    }
}

#[tokio::test]
async fn a_config_file_is_checked_as_at_start() {
    let (token, extra) = admin_config("");
    let server = TestServer::with(&extra, None).await;
    let admin = Admin { server: &server, token };
    let check = |text: &'static str| {
        let req = Request::post("/api/v1/admin/config/validate")
            .header(header::AUTHORIZATION, format!("Bearer {}", admin.token))
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(text))
            .unwrap();
        async { server.send(req).await.json() }
    };
    let bad = check("dev_mode = true\n[store]\nurl = \"sqlite://x.db\"\n[[apps]]\nclient_id = \"a\"\nredirect_uris = [\"not a url\"]\n").await;
    assert_eq!(bad["valid"], false, "{bad}");
    assert_eq!(
        (bad["error"]["line"].as_u64(), bad["error"]["key"].as_str()),
        (Some(6), Some("apps[0].redirect_uris[0]"))
    );
    let good = check("dev_mode = true\n[store]\nurl = \"sqlite://x.db\"\n").await;
    assert_eq!(good["valid"], true, "{good}");
    let apps = admin.ok(Method::GET, "/api/v1/admin/apps", None).await;
    assert!(apps.as_array().unwrap().iter().any(|a| a["clientId"] == "shop"));
    assert!(!apps.to_string().contains("sha256:"), "no secret digests");
}

#[tokio::test]
async fn an_invitation_opens_a_closed_app_to_the_address_invited() {
    let (token, extra) = admin_config("");
    let server = TestServer::with(&extra, None).await;
    let admin = Admin { server: &server, token };
    let invite = |email: &str| json!({ "email": email, "app": "closed" });
    let r = admin.call(Method::POST, "/api/v1/admin/users/invitations", Some(invite("Grace@Example.com")), None).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let mail = server.app.store.mails(Some("grace@example.com"), 1).await.unwrap().remove(0);
    assert_eq!(mail.subject, "You are invited to Closed");
    let link = mail.text.split_whitespace().find(|w| w.contains("/invite?t=")).unwrap().strip_prefix(ISSUER).unwrap();

    // A link changed by one character is no invitation.
    let b = Browser::new(&server);
    assert_eq!(b.get(&format!("{}x", link)).await.status, 400);

    let r = b.get(link).await;
    let handle = r.header("location").unwrap().strip_prefix("/signin?flow=").unwrap().to_owned();
    let flow = b.get(&format!("/api/v1/flows/{handle}")).await.flow();
    let form = flow.remediation("enroll-profile").expect("the registration form");
    let email = form.fields.iter().find(|f| f.name == "email").unwrap();
    assert!(email.read_only, "bound to the address");
    let other = b.submit(&flow, "enroll-profile", json!({ "email": "eve@example.com", "given_name": "Eve" })).await;
    assert_eq!(other.flow().messages[0].field.as_deref(), Some("email"));
    let flow =
        b.submit(&flow, "enroll-profile", json!({ "email": "grace@example.com", "given_name": "Grace" })).await.flow();
    let (code, _) = server.mailed("grace@example.com").await;
    let done = b.submit(&flow, "challenge-authenticator", json!({ "code": code })).await.flow();
    let to = done.success.and_then(|s| s.redirect_to).expect("signed up");
    assert!(to.starts_with(&format!("{ISSUER}/account?app=closed")), "{to}");
    assert!(server.app.store.user_by_email("grace@example.com").await.unwrap().is_some());
    assert_eq!(admin.last_event("user.lifecycle.invite").await["actor"]["type"], "AdminToken");

    let again =
        admin.call(Method::POST, "/api/v1/admin/users/invitations", Some(invite("grace@example.com")), None).await;
    assert_eq!(again.error(), (409, "duplicate".into()));
    let nowhere = admin
        .call(
            Method::POST,
            "/api/v1/admin/users/invitations",
            Some(json!({ "email": "x@example.com", "app": "nope" })),
            None,
        )
        .await;
    assert_eq!(nowhere.error(), (400, "invalid_field".into()));
}
