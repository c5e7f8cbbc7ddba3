//! HTTP: the router and thin handlers. Handlers parse, call the journey shell or the
//! OIDC core, and present; they hold no journey logic.

mod admin;
mod authorize;
mod body;
mod client_ip;
mod context;
mod cors;
mod dev_mailbox;
pub mod error;
mod flow_events;
mod flows;
mod hosted;
mod limit;
mod link;
mod logout;
mod oidc;
pub mod openapi;
mod pages;
mod session;
mod static_files;
mod token;
mod userinfo;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::app::AppState;
pub use context::DEVICE_COOKIE;
use error::AppError;

pub fn router(app: AppState) -> Router {
    use crate::limits::Kind;
    // Counts requests per client address (see `limit`); `page` answers a refusal with
    // a branded page instead of JSON.
    let limited = |kinds: &'static [Kind], page: bool| {
        axum::middleware::from_fn_with_state(limit::RouteLimit { app: app.clone(), kinds, page }, limit::by_client)
    };
    let flow_start = &[Kind::FlowStart, Kind::LiveFlows];
    let browser_api = Router::new()
        .route("/api/v1/flows", post(flows::start).layer(limited(flow_start, false)))
        .route("/api/v1/flows/{handle}", get(flows::get).layer(limited(&[Kind::Submission], false)))
        .route("/api/v1/flows/{handle}/events", get(flow_events::stream).layer(limited(&[Kind::Submission], false)))
        .route("/api/v1/flows/{handle}/{remediation}", post(flows::submit).layer(limited(&[Kind::Submission], false)))
        .route("/oauth2/v1/token", post(token::token).layer(limited(&[Kind::TokenByIp], false)))
        .route("/oauth2/v1/revoke", post(token::revoke).layer(limited(&[Kind::TokenByIp], false)))
        .route("/oauth2/v1/userinfo", get(userinfo::get).post(userinfo::post))
        .layer(DefaultBodyLimit::max(body::MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(app.clone(), cors::layer));

    let mut router = Router::new()
        .merge(browser_api)
        .route("/", get(home))
        .route("/healthz", get(|| async { "ok" }))
        .route("/favicon.ico", get(static_files::favicon))
        .route("/signin", get(hosted::page).layer(limited(&[Kind::Submission], true)))
        .route("/email/verify", get(link::open).layer(limited(&[Kind::LinkOpen], true)))
        .route("/.well-known/openid-configuration", get(oidc::configuration))
        .route("/oauth2/v1/authorize", get(authorize::get).post(authorize::post).layer(limited(flow_start, true)))
        .route("/oauth2/v1/keys", get(oidc::keys))
        .route("/oauth2/v1/introspect", post(token::introspect).layer(limited(&[Kind::TokenByIp], false)))
        .route("/oauth2/v1/logout", get(logout::get).post(logout::post))
        .route("/.well-known/webauthn", get(oidc::webauthn_origins))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/widget/{*path}", get(static_files::widget))
        .route("/themes/{brand}/{file}", get(static_files::theme));
    if app.config.dev_mode {
        router = router
            .route("/dev/mailbox", get(dev_mailbox::page))
            .route("/dev/mailbox/messages", get(dev_mailbox::messages))
            .route("/dev/mailbox/messages/{id}/html", get(dev_mailbox::message_html));
    }
    if !app.config.admin_tokens.is_empty() {
        router = router.route("/api/v1/admin/policy/explain", get(admin::explain));
    }
    if let Some(dir) = &app.config.demo_dir {
        router = router
            .nest_service("/demo", tower_http::services::ServeDir::new(dir).append_index_html_on_directories(true));
    }
    let headers = axum::middleware::from_fn_with_state(app.clone(), security_headers);
    router.fallback(not_found).layer(headers).with_state(app)
}

/// Headers every answer gets: JSON is never sniffed as something else, nor cached
/// unless its handler said how (public metadata: discovery, keys); over HTTPS, browsers
/// are told to come back over HTTPS only (HSTS).
async fn security_headers(
    axum::extract::State(app): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::{HeaderValue, header};
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let json = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.contains("json"));
    if json {
        h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        if !h.contains_key(header::CACHE_CONTROL) {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
    if app.issuer.starts_with("https://") {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    }
    response
}

async fn home(axum::extract::State(app): axum::extract::State<AppState>) -> Response {
    if app.config.demo_dir.is_some() {
        return Redirect::to("/demo/").into_response();
    }
    Html(format!(
        "<!doctype html><title>Passway</title><h1>Passway is running</h1><p>OpenID configuration: <a href=\"{0}/.well-known/openid-configuration\">{0}/.well-known/openid-configuration</a></p>",
        crate::html::escape(&app.issuer)
    ))
    .into_response()
}

async fn not_found(uri: Uri) -> AppError {
    AppError::new(StatusCode::NOT_FOUND, "not_found", format!("nothing is served at {}", uri.path()))
}
