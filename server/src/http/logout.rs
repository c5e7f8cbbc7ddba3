//! `/oauth2/v1/logout` (RP-Initiated Logout): ends the browser's SSO session and
//! sends it back to the app, or shows that it is signed out.
//!
//! With a valid `id_token_hint` for the session's account, the session ends at once.
//! Without one anybody could have sent the browser here (a cross-site image tag
//! would do), so the person is asked first; the answer comes back as a POST carrying
//! a token bound to the session, which another site cannot forge.

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::context::RequestContext;
use super::pages::{self, Page};
use super::session;
use crate::app::AppState;
use crate::branding::DEFAULT_BRAND;
use crate::crypto::b64url;
use crate::engine::{EventType, LogEntry, LogOutcome, Target, Texts};
use crate::html::escape;
use crate::journey::sessions;
use crate::oidc::logout::{self, Logout, LogoutParams};
use crate::store::Commit;

#[derive(Debug, Default, Deserialize)]
pub struct LogoutForm {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    /// The answer to the confirmation page.
    confirm: Option<String>,
}

pub async fn get(State(app): State<AppState>, ctx: RequestContext, Query(f): Query<LogoutForm>) -> Response {
    handle(app, ctx, f, false).await
}

pub async fn post(State(app): State<AppState>, ctx: RequestContext, Form(f): Form<LogoutForm>) -> Response {
    handle(app, ctx, f, true).await
}

async fn handle(app: AppState, ctx: RequestContext, f: LogoutForm, posted: bool) -> Response {
    let params = LogoutParams {
        id_token_hint: f.id_token_hint.as_deref(),
        client_id: f.client_id.as_deref(),
        post_logout_redirect_uri: f.post_logout_redirect_uri.as_deref(),
        state: f.state.as_deref(),
    };
    let keys = app.keys.get();
    let request = match logout::check(&app.config, &keys, &app.issuer, &params, app.clock.now()) {
        Ok(r) => r,
        Err(e) => return page(&app, &ctx, None, StatusCode::BAD_REQUEST, "hosted.error.title", &e.to_string(), ""),
    };
    let session = match ctx.session.as_deref() {
        Some(cookie) => match sessions::load(&app, cookie).await {
            Ok(s) => s,
            Err(e) => return super::error::AppError::internal(e).into_response(),
        },
        None => None,
    };
    // A cookie whose session is over anyway goes too.
    let Some(session) = session else { return signed_out(&app, &ctx, &request, ctx.session.is_some()) };
    let confirmed = posted && f.confirm.as_deref() == Some(confirm_token(&app, &session.id).as_str());
    let hinted_here = request.subject.as_deref() == Some(session.user.id.as_str());
    if hinted_here || confirmed {
        let now = app.clock.now();
        if let Err(e) = app.store.revoke_session(&session.id, now).await {
            return super::error::AppError::internal(e).into_response();
        }
        let entry = LogEntry::new(EventType::UserSessionEnd, LogOutcome::Success, "User signed out")
            .actor(session.user.id.clone(), session.user.email.clone())
            .target(Target::Session { id: session.id.clone() });
        let client_id = request.app.map(|a| a.client_id.as_str()).unwrap_or_default();
        let event = app.events.record(&entry, &crate::events::Context::request(&ctx.client).app(client_id), now);
        if let Err(e) = app.store.commit(Commit { events: vec![event], ..Commit::default() }).await {
            tracing::warn!(error = %e, "recording a sign-out failed");
        }
        return signed_out(&app, &ctx, &request, true);
    }
    if request.subject.is_some() {
        // The hint names another account: this browser's session is not the client's to end.
        return signed_out(&app, &ctx, &request, false);
    }
    confirm_page(&app, &ctx, &request, &f, &confirm_token(&app, &session.id))
}

/// Binds the confirmation to the session (and so to this browser).
fn confirm_token(app: &AppState, session_id: &str) -> String {
    b64url(&app.keyring.mac(&[b"logout-confirm", session_id.as_bytes()]).0)
}

/// Back to the app when it said where, else a page; the cookie goes when `ended`.
fn signed_out(app: &AppState, ctx: &RequestContext, request: &Logout<'_>, ended: bool) -> Response {
    let mut response = match &request.redirect_to {
        Some(url) => Redirect::to(url).into_response(),
        None => page(app, ctx, request.app, StatusCode::OK, "hosted.signed_out.title", "hosted.signed_out.body", ""),
    };
    // Only what was ended: a hint naming another account leaves this browser's
    // session, and its cookie, alone.
    if ended {
        session::clear(app, &mut response);
    }
    response
}

fn confirm_page(app: &AppState, ctx: &RequestContext, request: &Logout<'_>, f: &LogoutForm, token: &str) -> Response {
    let texts = app.brands.texts(brand_of(request.app), &ctx.locale);
    let hidden = |name: &str, value: Option<&str>| match value {
        Some(v) => format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escape(v)),
        None => String::new(),
    };
    let form = format!(
        "<form class=\"pw-form\" method=\"post\" action=\"/oauth2/v1/logout\">{}{}{}{}\
<button type=\"submit\" class=\"pw-button pw-button--primary\">{}</button></form>",
        hidden("confirm", Some(token)),
        hidden("client_id", request.app.map(|a| a.client_id.as_str())),
        hidden("post_logout_redirect_uri", f.post_logout_redirect_uri.as_deref()),
        hidden("state", f.state.as_deref()),
        escape(&texts.get("hosted.logout.confirm").unwrap_or_default()),
    );
    page(app, ctx, request.app, StatusCode::OK, "hosted.logout.title", "hosted.logout.body", &form)
}

fn brand_of(client: Option<&crate::config::App>) -> &str {
    client.map_or(DEFAULT_BRAND, |a| a.brand.as_str())
}

/// A branded card: `title` and `body` are i18n keys (or, for errors, the text).
fn page(
    app: &AppState,
    ctx: &RequestContext,
    client: Option<&crate::config::App>,
    status: StatusCode,
    title: &str,
    body: &str,
    extra: &str,
) -> Response {
    let brand_id = brand_of(client);
    let brand = app.brands.get(brand_id).or_else(|| app.brands.get(DEFAULT_BRAND)).expect("default brand");
    let texts = app.brands.texts(&brand.id, &ctx.locale);
    let params = [("app", client.map_or_else(|| brand.display_name.clone(), |a| a.name.clone()))];
    let text = |key: &str| texts.get(key).map_or_else(|| key.to_owned(), |t| texts.fill(&t, &params));
    let title = text(title);
    let html = pages::card(&brand, &title, &text(body), extra);
    pages::render(status, Page { brand: &brand, lang: &ctx.locale, title: &title, body: html, scripts: &[] })
}
