//! The admin console (`/admin`): pages for operators on the admin API, for the people in
//! `[admin] console_group`. They sign in to Passway itself — an authorization code with
//! PKCE for the server's own client (`passway-console`), on the hosted page, through the
//! sign-on policy like anyone —, and the console's cookie then lets its pages call the
//! admin API (with the `X-Passway-Console` header, see `http/admin`): every action is the
//! API's, logged with the person as its actor.
//!
//! The cookie holds the account's id, the SSO session it signed in with and an expiry,
//! under a MAC of the server's keyring; each request checks again that the account is
//! active, still in the group, and that the session still lives (signed out, or its
//! sessions ended by another operator, the console ends too).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::context::cookie_up_to;
use crate::app::AppState;
use crate::config::CONSOLE_CLIENT_ID;
use crate::crypto::{Digest, SystemEntropy, b64url, b64url_decode, random_token, sha256};
use crate::engine::{Grant, User};
use crate::html::escape;
use crate::store::{AccountStatus, CodeUse};

pub const COOKIE: &str = "pw_console";
/// Longest console cookie read (an account id, a session id, an expiry and a MAC).
pub const COOKIE_MAX: usize = 200;
/// The header the console's pages send with their admin API calls.
pub const HEADER: &str = "x-passway-console";
/// The state and PKCE verifier of a sign-in under way.
const LOGIN_COOKIE: &str = "pw_console_login";
const LIFETIME_SECONDS: i64 = 8 * 3600;

const PAGE: &str = include_str!("console.html");
const SCRIPT: &str = include_str!("console.js");
const STYLE: &str = include_str!("console.css");

fn pass(app: &AppState, user_id: &str, session: &str, expires: i64) -> Digest {
    app.keyring.mac(&[b"passway/v1/console", user_id.as_bytes(), session.as_bytes(), &expires.to_be_bytes()])
}

/// The console's user behind `value` (the cookie), if it is valid, unexpired, and the
/// account is active and in the console group.
pub async fn holder(app: &AppState, value: &str) -> Option<User> {
    let group = app.config.console_group.as_ref()?;
    let mut parts = value.splitn(4, '.');
    let (user_id, session, expires) = (parts.next()?, parts.next()?, parts.next()?.parse::<i64>().ok()?);
    let mac = Digest(b64url_decode(parts.next()?)?.try_into().ok()?);
    let now = app.clock.now();
    if !pass(app, user_id, session, expires).ct_eq(&mac) || now.unix_seconds() >= expires {
        return None;
    }
    let user = app.store.user_by_id(user_id).await.ok()??;
    let live = app.store.sessions_of(user_id, now).await.ok()?.iter().any(|s| s.id == session);
    (live && member(app, &user, group).await).then_some(user)
}

async fn member(app: &AppState, user: &User, group: &str) -> bool {
    let Ok((status, groups)) = app.store.standing(&user.id).await else { return false };
    status == AccountStatus::Active
        && (groups.iter().any(|g| g == group) || app.config.engine.groups.of(&user.email).contains(group))
}

/// The answer while the console is off (no `[admin] console_group`).
fn off(app: &AppState) -> Option<Response> {
    app.config
        .console_group
        .is_none()
        .then(|| (StatusCode::NOT_FOUND, "the admin console is off: set [admin] console_group").into_response())
}

/// `GET /admin`: the console, or off to sign in.
pub async fn page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(off) = off(&app) {
        return off;
    }
    match cookie_up_to(&headers, COOKIE, COOKIE_MAX) {
        Some(value) if holder(&app, &value).await.is_some() => with_csp(Html(PAGE).into_response()),
        _ => Redirect::to("/admin/signin").into_response(),
    }
}

pub async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT).into_response()
}

pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

fn callback_url(app: &AppState) -> String {
    format!("{}/admin/callback", app.issuer)
}

/// `GET /admin/signin`: to the hosted sign-in page, for the console's own client.
pub async fn sign_in(State(app): State<AppState>) -> Response {
    if let Some(off) = off(&app) {
        return off;
    }
    let state = random_token(&mut SystemEntropy, 16);
    let verifier = random_token(&mut SystemEntropy, 32);
    let challenge = b64url(&sha256(verifier.as_bytes()).0);
    let url = url::Url::parse_with_params(
        &format!("{}/oauth2/v1/authorize", app.issuer),
        [
            ("response_type", "code"),
            ("client_id", CONSOLE_CLIENT_ID),
            ("redirect_uri", &callback_url(&app)),
            ("scope", "openid"),
            ("state", &state),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .expect("the issuer is a URL");
    let mut response = Redirect::to(url.as_str()).into_response();
    // Sent back on the top-level navigation from the sign-in page: `Lax`.
    set_cookie(&mut response, &app, LOGIN_COOKIE, &format!("{state}.{verifier}"), 600, "Path=/admin; SameSite=Lax");
    response
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /admin/callback`: the code for the console's cookie, if the account is an admin.
pub async fn callback(State(app): State<AppState>, headers: HeaderMap, Query(q): Query<Callback>) -> Response {
    if let Some(off) = off(&app) {
        return off;
    }
    let login = cookie_up_to(&headers, LOGIN_COOKIE, COOKIE_MAX).unwrap_or_default();
    let (state, verifier) = login.split_once('.').unwrap_or(("", ""));
    let same_state = q.state.as_deref().is_some_and(|s| !state.is_empty() && bool_eq(s, state));
    let (Some(code), true, None) = (q.code.as_deref(), same_state, q.error.as_deref()) else {
        return notice(StatusCode::BAD_REQUEST, "The sign-in did not come back as it left. Try again from /admin.");
    };
    let now = app.clock.now();
    let grant = match app.store.use_code(&sha256(code.as_bytes()), now, &random_token(&mut SystemEntropy, 16)).await {
        Ok(CodeUse::Fresh(grant)) => serde_json::from_str::<Grant>(&grant).ok(),
        _ => None,
    };
    let valid = grant.filter(|g| {
        g.client_id == CONSOLE_CLIENT_ID
            && g.redirect_uri == callback_url(&app)
            && g.code_challenge.as_deref().is_some_and(|c| crate::oidc::pkce::verify(verifier, c))
    });
    let Some(grant) = valid else {
        return notice(StatusCode::BAD_REQUEST, "That sign-in cannot be used. Try again from /admin.");
    };
    let user = app.store.user_by_id(&grant.user_id).await.ok().flatten();
    let group = app.config.console_group.as_deref().unwrap_or_default();
    let Some(user) = user else { return notice(StatusCode::FORBIDDEN, "No such account.") };
    if !member(&app, &user, group).await {
        return notice(StatusCode::FORBIDDEN, &format!("{} is not in the group {group}.", user.email));
    }
    let Some(session) = grant.session_id.as_deref() else {
        return notice(StatusCode::BAD_REQUEST, "That sign-in opened no session. Try again from /admin.");
    };
    let expires = now.unix_seconds() + LIFETIME_SECONDS;
    let mac = b64url(&pass(&app, &user.id, session, expires).0);
    let value = format!("{}.{session}.{expires}.{mac}", user.id);
    let mut response = Redirect::to("/admin").into_response();
    // Path `/`: the console's pages call the admin API with it (and the header).
    set_cookie(&mut response, &app, COOKIE, &value, LIFETIME_SECONDS, "Path=/; SameSite=Strict");
    set_cookie(&mut response, &app, LOGIN_COOKIE, "", 0, "Path=/admin; SameSite=Lax");
    response
}

/// `POST /admin/signout`: the console's cookie goes (the SSO session stays).
pub async fn sign_out(State(app): State<AppState>) -> Response {
    let mut response = Redirect::to("/").into_response();
    set_cookie(&mut response, &app, COOKIE, "", 0, "Path=/; SameSite=Strict");
    response
}

fn bool_eq(a: &str, b: &str) -> bool {
    sha256(a.as_bytes()).ct_eq(&sha256(b.as_bytes()))
}

fn set_cookie(response: &mut Response, app: &AppState, name: &str, value: &str, max_age: i64, attributes: &str) {
    let secure = if app.issuer.starts_with("https://") { "; Secure" } else { "" };
    let set = format!("{name}={value}; Max-Age={max_age}; HttpOnly; {attributes}{secure}");
    if let Ok(v) = HeaderValue::from_str(&set) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn with_csp(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn notice(status: StatusCode, message: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Passway admin</title>\
<link rel=\"stylesheet\" href=\"/admin/console.css\"></head><body><main><h1>Passway admin</h1>\
<p role=\"alert\">{}</p><p><a href=\"/admin/signin\">Sign in</a></p></main></body></html>",
        escape(message)
    );
    with_csp((status, Html(html)).into_response())
}
