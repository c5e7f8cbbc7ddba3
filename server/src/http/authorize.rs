//! `/oauth2/v1/authorize`: checks the request, then — unless a live SSO session lets
//! it finish at once — sends the browser to the hosted sign-in page for a new flow.

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::context::RequestContext;
use super::flows::{device_or_new, new_flow, set_device_cookie};
use super::pages::{self, Page};
use crate::app::AppState;
use crate::branding::DEFAULT_BRAND;
use crate::engine::{Origin, Reply, Texts};
use crate::journey::{self, JourneyError, StartOptions};
use crate::oidc::request::{self, Params, RequestError};

/// Unknown parameters are ignored, as OAuth 2.0 requires.
#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    response_mode: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    login_hint: Option<String>,
    prompt: Option<String>,
    max_age: Option<String>,
    acr_values: Option<String>,
    ui_locales: Option<String>,
    resource: Option<String>,
    request: Option<String>,
    request_uri: Option<String>,
}

/// `GET /oauth2/v1/authorize`.
pub async fn get(State(app): State<AppState>, ctx: RequestContext, Query(q): Query<AuthorizeParams>) -> Response {
    authorize(app, ctx, q).await
}

/// `POST /oauth2/v1/authorize` (OIDC Core §3.1.2.1: both methods are served).
pub async fn post(State(app): State<AppState>, ctx: RequestContext, Form(q): Form<AuthorizeParams>) -> Response {
    authorize(app, ctx, q).await
}

async fn authorize(app: AppState, ctx: RequestContext, q: AuthorizeParams) -> Response {
    let params = Params {
        client_id: q.client_id.as_deref(),
        redirect_uri: q.redirect_uri.as_deref(),
        response_type: Some(q.response_type.as_deref().unwrap_or("")),
        response_mode: q.response_mode.as_deref(),
        scope: q.scope.as_deref(),
        state: q.state.as_deref(),
        nonce: q.nonce.as_deref(),
        code_challenge: q.code_challenge.as_deref(),
        code_challenge_method: q.code_challenge_method.as_deref(),
        login_hint: q.login_hint.as_deref(),
        prompt: q.prompt.as_deref(),
        max_age: q.max_age.as_deref(),
        acr_values: q.acr_values.as_deref(),
        ui_locales: q.ui_locales.as_deref(),
        resource: q.resource.as_deref(),
        request: q.request.as_deref(),
        request_uri: q.request_uri.as_deref(),
    };
    let back_to_client = |error: &str, description: &str| {
        let mut url = url::Url::parse(q.redirect_uri.as_deref().unwrap_or_default()).expect("validated redirect_uri");
        url.query_pairs_mut().append_pair("error", error).append_pair("error_description", description);
        if let Some(state) = q.state.as_deref().filter(|s| !s.is_empty()) {
            url.query_pairs_mut().append_pair("state", state);
        }
        url.query_pairs_mut().append_pair("iss", &app.issuer);
        Redirect::to(url.as_str()).into_response()
    };
    let authorization = match request::validate(&app.config, &params) {
        Ok(ok) => ok,
        Err(RequestError::UnknownClient) => {
            let message = format!("No app is registered with client_id {:?}.", q.client_id.unwrap_or_default());
            return error_page(&app, &ctx, None, &message);
        }
        Err(RequestError::BadRedirectUri) => {
            let brand = q.client_id.as_deref().and_then(|id| app.config.app(id)).map(|a| a.brand.clone());
            let message = "The redirect_uri is not registered for this app, so the sign-in cannot return to it.";
            return error_page(&app, &ctx, brand.as_deref(), message);
        }
        Err(RequestError::Redirect { error, description }) => return back_to_client(error, &description),
    };
    let (device, new_device) = device_or_new(&ctx);
    let options = StartOptions { session_cookie: ctx.session.as_deref(), no_prompt: authorization.no_prompt };
    let new = new_flow(&app, &ctx, &device, authorization, Origin::Hosted, passway_protocol::Intent::Login);
    let begun = match journey::start(&app, new, options).await {
        Ok(begun) => begun,
        Err(JourneyError::NeedsInteraction(error)) => {
            return back_to_client(error, "the person must sign in or answer a question to continue");
        }
        Err(e) => return super::error::AppError::from(e).into_response(),
    };
    let mut response = match begun.outcome.reply {
        // The session answered: straight back to the app.
        Reply::Success { .. } => {
            let locale = ctx.locale.clone();
            match journey::present_started(&app, begun, &locale).await {
                Ok(r) => Redirect::to(&r.success.and_then(|s| s.redirect_to).expect("hosted success")).into_response(),
                Err(e) => return super::error::AppError::from(e).into_response(),
            }
        }
        _ => Redirect::to(&format!("/signin?flow={}", begun.handle)).into_response(),
    };
    if new_device {
        set_device_cookie(&mut response, &device, &app.issuer);
    }
    response
}

pub(super) fn error_page(app: &AppState, ctx: &RequestContext, brand: Option<&str>, message: &str) -> Response {
    let brand = brand.and_then(|b| app.brands.get(b)).or_else(|| app.brands.get(DEFAULT_BRAND)).expect("default brand");
    let title = app.brands.texts(&brand.id, &ctx.locale).get("hosted.error.title").unwrap_or_default();
    let body = pages::card(&brand, &title, message, "");
    pages::render(StatusCode::BAD_REQUEST, Page { brand: &brand, lang: &ctx.locale, title: &title, body, scripts: &[] })
}
