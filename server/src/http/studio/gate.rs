//! The studio on a server outside dev mode: only for who holds an admin token
//! (`[admin] token_hashes`). A browser cannot send a bearer token with a page's frames
//! and event streams, so `/studio/sign-in` takes the token once and answers with a
//! cookie for `/studio` only: a MAC of the token's digest under the server's keyring
//! (nothing a stolen cookie jar could turn back into the token), `HttpOnly`,
//! `SameSite=Strict`, for eight hours.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::super::context::cookie;
use crate::app::AppState;
use crate::crypto::{Digest, b64url, sha256};
use crate::html::escape;

const COOKIE: &str = "pw_studio";
const LIFETIME_SECONDS: u64 = 8 * 3600;

/// The cookie value a token's digest earns.
fn pass(app: &AppState, token: &Digest) -> Digest {
    app.keyring.mac(&[b"passway/v1/studio", &token.0])
}

/// Lets through a request with a valid studio cookie, or the sign-in itself; sends a
/// page request to sign in, and refuses anything else.
pub async fn check(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/studio/sign-in" || path == "/studio/studio.css" {
        return next.run(request).await;
    }
    let held = cookie(request.headers(), COOKIE).and_then(|h| crate::crypto::b64url_decode(&h));
    let valid = held.and_then(|h| <[u8; 32]>::try_from(h.as_slice()).ok()).is_some_and(|h| {
        let held = Digest(h);
        app.config.admin_tokens.iter().any(|t| pass(&app, t).ct_eq(&held))
    });
    match (valid, path) {
        (true, _) => next.run(request).await,
        (false, "/studio") => Redirect::to("/studio/sign-in").into_response(),
        (false, _) => (StatusCode::UNAUTHORIZED, "sign in to the studio first: /studio/sign-in").into_response(),
    }
}

#[derive(serde::Deserialize)]
pub struct SignIn {
    token: String,
}

/// `GET /studio/sign-in`: the form.
pub async fn form() -> Response {
    page(StatusCode::OK, "")
}

/// `POST /studio/sign-in`: an admin token for the cookie.
pub async fn sign_in(State(app): State<AppState>, axum::Form(f): axum::Form<SignIn>) -> Response {
    let digest = sha256(f.token.trim().as_bytes());
    if !digest.matches_any(&app.config.admin_tokens) {
        return page(StatusCode::UNAUTHORIZED, "That is not an admin token of this server.");
    }
    let secure = if app.issuer.starts_with("https://") { "; Secure" } else { "" };
    let set = format!(
        "{COOKIE}={}; Path=/studio; Max-Age={LIFETIME_SECONDS}; HttpOnly; SameSite=Strict{secure}",
        b64url(&pass(&app, &digest).0)
    );
    let mut response = Redirect::to("/studio").into_response();
    if let Ok(v) = HeaderValue::from_str(&set) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

fn page(status: StatusCode, problem: &str) -> Response {
    let problem = if problem.is_empty() { String::new() } else { format!("<p role=\"alert\">{}</p>", escape(problem)) };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Passway studio</title>\
<link rel=\"stylesheet\" href=\"/studio/studio.css\"></head><body><main class=\"studio-gallery\"><h1>Passway studio</h1>\
{problem}<form method=\"post\" action=\"/studio/sign-in\"><label>Admin token <input type=\"password\" name=\"token\" \
autocomplete=\"off\" required></label> <button type=\"submit\">Sign in</button></form></main></body></html>"
    );
    let mut response = (status, Html(html)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
