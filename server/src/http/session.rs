//! The SSO session cookie on responses: set when a sign-in opens a session, cleared
//! at logout. A browser that signs in afresh while holding another session ends it.

use axum::http::{HeaderValue, header};
use axum::response::Response;

use super::context::{RequestContext, session_cookie_header};
use crate::app::AppState;
use crate::crypto::sha256;

/// Sets the new session's cookie, ending the session the browser held before.
pub async fn open(app: &AppState, ctx: &RequestContext, response: &mut Response, value: &str) {
    if let Some(old) = ctx.session.as_deref().filter(|old| *old != value) {
        end(app, old).await;
    }
    set(response, &session_cookie_header(value, &app.issuer, app.config.engine.sessions.longest()));
}

/// Deletes the cookie in the browser.
pub fn clear(app: &AppState, response: &mut Response) {
    set(response, &session_cookie_header("", &app.issuer, std::time::Duration::ZERO));
}

/// Revokes the session behind a cookie value, if it is live.
pub async fn end(app: &AppState, cookie: &str) {
    let now = app.clock.now();
    match app.store.session(&sha256(cookie.as_bytes()), now).await {
        Ok(Some(s)) => {
            if let Err(e) = app.store.revoke_session(&s.id, now).await {
                tracing::warn!(error = %e, "ending a replaced session failed");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "looking up a replaced session failed"),
    }
}

fn set(response: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}
