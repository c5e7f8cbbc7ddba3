//! The flow API (`/api/v1/flows…`): start a flow, read it, submit a remediation.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use passway_protocol::{FlowResponse, Intent, StartFlow, Submission};

use super::body::JsonBody;
use super::context::{RequestContext, device_cookie_header};
use super::error::AppError;
use super::session;
use crate::app::AppState;
use crate::crypto::{SystemEntropy, random_token, sha256};
use crate::engine::{NewFlow, Origin, Requester};
use crate::events::describe_browser;
use crate::journey::{self, JourneyError, StartOptions};
use crate::oidc::request::{self, Authorization, Params, RequestError};
use crate::policy::{Platform, RiskLevel};

/// Start a flow for an app. The answer's `binding` goes with every later request about
/// the flow (header `passway-binding`): the flow belongs to the browser that started it.
#[utoipa::path(post, path = "/api/v1/flows", request_body = StartFlow,
    responses((status = 200, body = FlowResponse), (status = 400, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 429, body = passway_protocol::ApiError)))]
pub async fn start(
    State(app): State<AppState>,
    ctx: RequestContext,
    JsonBody(body): JsonBody<StartFlow>,
) -> Result<Response, AppError> {
    let max_age = body.max_age.map(|m| m.to_string());
    let params = Params {
        client_id: Some(&body.client_id),
        redirect_uri: Some(&body.redirect_uri),
        scope: body.scope.as_deref(),
        state: body.state.as_deref(),
        nonce: body.nonce.as_deref(),
        code_challenge: Some(&body.code_challenge),
        code_challenge_method: Some(&body.code_challenge_method),
        login_hint: body.login_hint.as_deref(),
        prompt: body.prompt.as_deref(),
        max_age: max_age.as_deref(),
        acr_values: body.acr_values.as_deref(),
        ui_locales: body.ui_locales.as_deref(),
        resource: body.resource.as_deref(),
        ..Params::default()
    };
    let authorization = request::validate(&app.config, &params).map_err(|e| match e {
        RequestError::UnknownClient => {
            AppError::bad_request("invalid_client", format!("no app has client_id {:?}", body.client_id))
        }
        RequestError::BadRedirectUri => AppError::bad_request(
            "invalid_redirect_uri",
            "redirect_uri is not one of the app's redirect_uris (exact match)",
        ),
        RequestError::Redirect { error, description } => AppError::bad_request(error, description),
    })?;
    let config_app = authorization.app;
    ctx.check_origin(config_app, &app.issuer)?;
    let intent = body.intent.unwrap_or_default();
    let (device, new_device) = device_or_new(&ctx);
    let options = StartOptions { session_cookie: ctx.session.as_deref(), no_prompt: authorization.no_prompt };
    let new = new_flow(&app, &ctx, &device, authorization, Origin::Embedded, intent);
    let begun = match journey::start(&app, new, options).await {
        Err(JourneyError::NeedsInteraction(error)) => {
            return Err(AppError::bad_request(error, "prompt=none, but the person must be asked to continue"));
        }
        other => other?,
    };
    let response = journey::present_started(&app, begun, &ctx.locale).await?;
    let mut response = flow_json(response);
    if new_device {
        set_device_cookie(&mut response, &device, &app.issuer);
    }
    Ok(response)
}

/// The current state of a flow (resume after a reload), for the browser that started it.
#[utoipa::path(get, path = "/api/v1/flows/{handle}", params(("handle" = String, Path)),
    responses((status = 200, body = FlowResponse), (status = 403, body = passway_protocol::ApiError), (status = 404, body = passway_protocol::ApiError),
        (status = 410, body = passway_protocol::ApiError), (status = 429, body = passway_protocol::ApiError)))]
pub async fn get(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path(handle): Path<String>,
) -> Result<Response, AppError> {
    let loaded = journey::load(&app, &handle, &ctx.holder()).await.map_err(|e| said(&app, &ctx, e))?;
    check_flow_origin(&app, &ctx, &loaded.flow)?;
    Ok(flow_json(journey::show(&app, &loaded.flow, &handle, &ctx.locale).await?))
}

/// Submit field values to a remediation offered by the flow.
#[utoipa::path(post, path = "/api/v1/flows/{handle}/{remediation}", request_body = Submission,
    params(("handle" = String, Path), ("remediation" = String, Path)),
    responses((status = 200, body = FlowResponse), (status = 400, body = passway_protocol::ApiError), (status = 403, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError), (status = 409, body = passway_protocol::ApiError), (status = 410, body = passway_protocol::ApiError),
        (status = 429, body = passway_protocol::ApiError), (status = 503, body = passway_protocol::ApiError)))]
pub async fn submit(
    State(app): State<AppState>,
    ctx: RequestContext,
    Path((handle, remediation)): Path<(String, String)>,
    JsonBody(values): JsonBody<Submission>,
) -> Result<Response, AppError> {
    let loaded = journey::load(&app, &handle, &ctx.holder()).await.map_err(|e| said(&app, &ctx, e))?;
    check_flow_origin(&app, &ctx, &loaded.flow)?;
    let answer = journey::submit(&app, loaded, &handle, &remediation, values, &ctx.client, &ctx.locale)
        .await
        .map_err(|e| said(&app, &ctx, e))?;
    let mut response = flow_json(answer.response);
    if let Some(cookie) = &answer.session_cookie {
        session::open(&app, &ctx, &mut response, cookie).await;
    }
    Ok(response)
}

/// A journey error whose message a person reads (the widget shows it as it is), in
/// their language.
pub fn said(app: &AppState, ctx: &RequestContext, e: JourneyError) -> AppError {
    use crate::engine::Texts;
    let key = match &e {
        JourneyError::NotHeld => "widget.error.not_bound",
        JourneyError::Busy => "widget.error.busy",
        JourneyError::Limited(after) => {
            let limited = super::limit::Limited { kind: crate::limits::Kind::Email, retry_after: *after };
            return super::limit::error(app, &ctx.locale, limited);
        }
        _ => return e.into(),
    };
    let mut error = AppError::from(e);
    if let Some(text) = app.brands.texts(crate::branding::DEFAULT_BRAND, &ctx.locale).get(key) {
        error.message = text;
    }
    error
}

fn check_flow_origin(app: &AppState, ctx: &RequestContext, flow: &crate::engine::Flow) -> Result<(), AppError> {
    match app.config.app(&flow.client_id) {
        Some(config_app) => ctx.check_origin(config_app, &app.issuer),
        None => Err(journey::JourneyError::AppGone(flow.client_id.clone()).into()),
    }
}

/// The browser's device cookie, or a new one to set.
pub fn device_or_new(ctx: &RequestContext) -> (String, bool) {
    match &ctx.device {
        Some(d) => (d.clone(), false),
        None => (random_token(&mut SystemEntropy, 24), true),
    }
}

pub fn set_device_cookie(response: &mut Response, device: &str, issuer: &str) {
    if let Ok(v) = HeaderValue::from_str(&device_cookie_header(device, issuer)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A flow for a validated authorization request, in the language `ui_locales` asks
/// for when it is one we have, else the browser's.
pub fn new_flow(
    app: &AppState,
    ctx: &RequestContext,
    device: &str,
    authorization: Authorization<'_>,
    origin: Origin,
    intent: Intent,
) -> NewFlow {
    let mut request = authorization.request;
    request.ui_locale = app.brands.catalog.best(&authorization.ui_locales.join(" ")).map(str::to_owned);
    let requester = Requester {
        device: Some(sha256(device.as_bytes())),
        browser: describe_browser(&ctx.client.user_agent),
        ip: ctx.client.ip.clone(),
        locale: request.ui_locale.clone().unwrap_or_else(|| ctx.locale.clone()),
        platform: Platform::from_user_agent(&ctx.client.user_agent),
        // Nothing assesses risk yet (an inline hook will).
        risk: RiskLevel::Low,
        host: ctx.custom_host.clone(),
    };
    NewFlow { client_id: authorization.app.client_id.clone(), intent, origin, request, requester, invited: None }
}

fn flow_json(body: FlowResponse) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
