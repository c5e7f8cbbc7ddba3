//! The studio outside dev mode: an admin token, given once at `/studio/sign-in`, earns
//! a cookie for `/studio` only; nothing else gets in.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use passway_server::http::studio;
use tower::ServiceExt;

use crate::support::*;

async fn send(s: &TestServer, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let router = studio::gated(studio::Studio::new(s.app.brands.clone(), s.app.config.engine.clone()), s.app.clone())
        .with_state(s.app.clone());
    let r = router.oneshot(req).await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut r = Request::get(path);
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    r.body(Body::empty()).unwrap()
}

fn sign_in(token: &str) -> Request<Body> {
    Request::post("/studio/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={token}")))
        .unwrap()
}

#[tokio::test]
async fn only_an_admin_token_opens_the_studio() {
    let (token, hash) = passway_server::oidc::client_auth::new_secret(&[5; 32]);
    let s = TestServer::with(&format!("[admin]\ntoken_hashes = [\"{hash}\"]\n"), None).await;

    let (status, headers, _) = send(&s, get("/studio", None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/studio/sign-in");
    assert_eq!(send(&s, get("/studio/gallery.json", None)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&s, get("/studio/frame/acme/en/light/A/identify", None)).await.0, StatusCode::UNAUTHORIZED);
    let (status, _, form) = send(&s, get("/studio/sign-in", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("name=\"token\""), "{form}");

    let (status, headers, body) = send(&s, sign_in("not-the-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.get(header::SET_COOKIE).is_none() && body.contains("not an admin token"));

    let (status, headers, _) = send(&s, sign_in(&token)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set.contains("Path=/studio") && set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    assert!(!set.contains(&token), "the cookie is not the token");
    let cookie = set.split(';').next().unwrap().to_owned();
    assert_eq!(send(&s, get("/studio/gallery.json", Some(&cookie))).await.0, StatusCode::OK);
    assert_eq!(send(&s, get("/studio", Some(&cookie))).await.0, StatusCode::OK);

    // A cookie made up, or one of another server's keyring, opens nothing.
    let forged = format!("pw_studio={}", passway_server::crypto::b64url(&[7; 32]));
    assert_eq!(send(&s, get("/studio/gallery.json", Some(&forged))).await.0, StatusCode::UNAUTHORIZED);
}
