//! HTTP: the router and thin handlers. Handlers parse, call the journey shell or the
//! OIDC core, and present; they hold no journey logic.

mod account;
mod admin;
mod authorize;
mod body;
mod client_ip;
pub mod console;
mod context;
mod cors;
pub mod dev_hooks;
mod dev_mailbox;
pub mod error;
mod flow_events;
mod flows;
mod hosted;
mod invite;
mod limit;
mod link;
mod logout;
mod oidc;
pub mod openapi;
mod pages;
pub mod request_id;
mod session;
mod static_files;
pub mod studio;
mod token;
mod userinfo;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get};
use utoipa::OpenApi as _;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt as _};
use utoipa_axum::routes;

use crate::app::AppState;
pub use context::DEVICE_COOKIE;
use error::AppError;

/// The JSON API, every route documented: `/api/v1/openapi.json` is made from this, so
/// the two cannot drift apart. With `app`, routes carry their rate limits and the
/// browser-facing ones CORS; without, the router is only read for its document.
pub fn json_api(app: Option<&AppState>) -> OpenApiRouter<AppState> {
    use crate::limits::Kind;
    // Counts requests per client address (see `limit`).
    let limited = |kinds: &'static [Kind]| {
        let app = app.cloned();
        move |route: MethodRouter<AppState>| match app {
            Some(app) => route.layer(axum::middleware::from_fn_with_state(
                std::sync::Arc::new(limit::RouteLimit { app, kinds, page: false }),
                limit::by_client,
            )),
            None => route,
        }
    };
    const FLOW: &[Kind] = &[Kind::Submission];
    const TOKEN: &[Kind] = &[Kind::TokenByIp];
    let browser = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(flows::start).map(limited(FLOW_START)))
        .routes(routes!(flows::get).map(limited(FLOW)))
        .routes(routes!(flow_events::stream).map(limited(FLOW)))
        .routes(routes!(flows::submit).map(limited(FLOW)))
        .routes(routes!(token::token).map(limited(TOKEN)))
        .routes(routes!(token::revoke).map(limited(TOKEN)))
        .routes(routes!(userinfo::get, userinfo::post))
        .layer(DefaultBodyLimit::max(body::MAX_BODY));
    let browser = match app {
        Some(app) => browser.layer(axum::middleware::from_fn_with_state(app.clone(), cors::layer)),
        None => browser,
    };
    browser
        .routes(routes!(token::introspect).map(limited(TOKEN)))
        .routes(routes!(oidc::configuration))
        .routes(routes!(oidc::keys))
        .routes(routes!(oidc::webauthn_origins))
        .routes(routes!(openapi::document))
        .routes(routes!(dev_mailbox::messages))
        .routes(routes!(admin::policy::explain))
        .routes(routes!(admin::logs::list))
        .routes(routes!(admin::hooks::list))
        .routes(routes!(admin::hooks::deliveries))
        .routes(routes!(admin::hooks::retry))
        .routes(routes!(admin::users::search, admin::users::create))
        .routes(routes!(admin::users::get, admin::users::update, admin::users::erase))
        .routes(routes!(admin::users::deactivate))
        .routes(routes!(admin::users::reactivate))
        .routes(routes!(admin::users::unlock))
        .routes(routes!(admin::users::invite))
        .routes(routes!(admin::access::authenticators))
        .routes(routes!(admin::access::rename, admin::access::remove))
        .routes(routes!(admin::access::reset))
        .routes(routes!(admin::access::sessions, admin::access::revoke_all))
        .routes(routes!(admin::access::revoke_session))
        .routes(routes!(admin::access::tokens))
        .routes(routes!(admin::access::revoke_tokens))
        .routes(routes!(admin::groups::list, admin::groups::create))
        .routes(routes!(admin::groups::delete))
        .routes(routes!(admin::groups::members))
        .routes(routes!(admin::groups::add, admin::groups::remove))
        .routes(routes!(admin::config::apps))
        .routes(routes!(admin::config::brands))
        .routes(routes!(admin::config::policies))
        .routes(routes!(admin::config::keys))
        .routes(routes!(admin::config::validate))
}

/// Starting a flow: counted per address, also over a flow lifetime.
const FLOW_START: &[crate::limits::Kind] = &[crate::limits::Kind::FlowStart, crate::limits::Kind::LiveFlows];

pub fn router(app: AppState) -> Router {
    use crate::limits::Kind;
    // A branded page (not JSON) answers a refused page request.
    let limited_page = |kinds: &'static [Kind]| {
        axum::middleware::from_fn_with_state(
            std::sync::Arc::new(limit::RouteLimit { app: app.clone(), kinds, page: true }),
            limit::by_client,
        )
    };
    let (api, _) = json_api(Some(&app)).split_for_parts();
    let mut router = api
        .route("/", get(home))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/favicon.ico", get(static_files::favicon))
        .route("/signin", get(hosted::page).layer(limited_page(&[Kind::Submission])))
        .route("/account", get(account::page).layer(limited_page(FLOW_START)))
        .route("/invite", get(invite::open).layer(limited_page(FLOW_START)))
        .route("/admin", get(console::page))
        .route("/admin/signin", get(console::sign_in).layer(limited_page(FLOW_START)))
        .route("/admin/callback", get(console::callback).layer(limited_page(FLOW_START)))
        .route("/admin/signout", axum::routing::post(console::sign_out))
        .route("/admin/console.js", get(console::script))
        .route("/admin/console.css", get(console::style))
        .route("/email/verify", get(link::open).layer(limited_page(&[Kind::LinkOpen])))
        .route("/oauth2/v1/authorize", get(authorize::get).post(authorize::post).layer(limited_page(FLOW_START)))
        .route("/oauth2/v1/logout", get(logout::get).post(logout::post))
        .route("/widget/{*path}", get(static_files::widget))
        .route("/themes/{brand}/{file}", get(static_files::theme));
    if app.config.dev_mode {
        router = router
            .route("/dev/mailbox", get(dev_mailbox::page))
            .route("/dev/mailbox/messages/{id}/html", get(dev_mailbox::message_html))
            .route("/dev/hooks", get(dev_hooks::page))
            .route("/dev/hooks/deliveries", get(dev_hooks::deliveries))
            .route(dev_hooks::INBOX, get(dev_hooks::verify).post(dev_hooks::receive))
            .route(dev_hooks::REGISTRATION, axum::routing::post(dev_hooks::registration))
            .merge(studio::router(studio::Studio::new(app.brands.clone(), app.config.engine.clone())));
    } else if !app.config.admin_tokens.is_empty() {
        router = router
            .merge(studio::gated(studio::Studio::new(app.brands.clone(), app.config.engine.clone()), app.clone()));
    }
    if let Some(dir) = &app.config.demo_dir {
        router = router
            .nest_service("/demo", tower_http::services::ServeDir::new(dir).append_index_html_on_directories(true));
    }
    let headers = axum::middleware::from_fn_with_state(app.issuer.starts_with("https://"), security_headers);
    let routed = router.fallback(not_found).with_state(app);
    // Around the router, not on its routes: `Router::layer` boxes a layer into every route,
    // and each request cloned its route's boxes (25 allocations of a token request's 164;
    // callgrind, `bench --instructions`).
    let around = tower::ServiceBuilder::new().layer(axum::middleware::from_fn(request_id::layer)).layer(headers);
    Router::new().fallback_service(around.service(routed))
}

/// Ready to serve: the store answers and has every migration this binary needs (a load
/// balancer sends nothing to an instance that says 503). `/healthz` only says the
/// process lives.
async fn readyz(axum::extract::State(app): axum::extract::State<AppState>) -> Response {
    let checked = tokio::time::timeout(std::time::Duration::from_secs(2), app.store.ready()).await;
    match checked {
        Ok(Ok(())) if !*app.shutdown.borrow() => "ready".into_response(),
        Ok(Ok(())) => (StatusCode::SERVICE_UNAVAILABLE, "stopping").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "store not ready").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store not answering").into_response(),
    }
}

/// Headers every answer gets: JSON is never sniffed as something else, nor cached
/// unless its handler said how (public metadata: discovery, keys); over HTTPS, browsers
/// are told to come back over HTTPS only (HSTS).
async fn security_headers(
    axum::extract::State(https): axum::extract::State<bool>,
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
    if https {
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
