//! `GET /account?app=CLIENT_ID`: the hosted account page. It starts an account flow
//! (intent `account`) for the app — its brand, its sign-on policy — with the browser's
//! SSO session, and shows it on the hosted page; without a live session the flow signs
//! the person in first. Websites embed the same with the widget's `intent: "account"`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::authorize::error_page;
use super::context::RequestContext;
use super::flows::{device_or_new, new_flow, set_device_cookie};
use crate::app::{AppState, custom_domain_base};
use crate::engine::{AuthRequest, Origin, Prompt};
use crate::journey::{self, StartOptions};
use crate::oidc::request::Authorization;

#[derive(Debug, Deserialize)]
pub struct AccountQuery {
    app: Option<String>,
}

pub async fn page(State(app): State<AppState>, ctx: RequestContext, Query(q): Query<AccountQuery>) -> Response {
    let Some(client) = q.app.as_deref().and_then(|id| app.config.app(id)) else {
        let message = "Name the app whose account page to show: /account?app=CLIENT_ID.";
        return error_page(&app, &ctx, None, message);
    };
    hosted(&app, &ctx, client, passway_protocol::Intent::Account, None).await
}

/// Starts a hosted flow of `intent` for `client` (with the browser's session, unless it
/// registers an `invited` address) and sends the browser to the hosted page; should it
/// end in a code (a sign-up, a recovery), the browser comes back to the account page.
pub(super) async fn hosted(
    app: &AppState,
    ctx: &RequestContext,
    client: &crate::config::App,
    intent: passway_protocol::Intent,
    invited: Option<String>,
) -> Response {
    let base = match &ctx.custom_host {
        Some(host) => custom_domain_base(&app.issuer, host),
        None => app.issuer.to_string(),
    };
    let back = url::Url::parse_with_params(&format!("{base}/account"), [("app", client.client_id.as_str())])
        .expect("the issuer is a URL");
    let request = AuthRequest {
        redirect_uri: back.into(),
        scope: "openid".into(),
        state: None,
        nonce: None,
        code_challenge: None,
        login_hint: None,
        prompt: Prompt::default(),
        max_age: None,
        acr_values: None,
        ui_locale: None,
        resource: None,
    };
    let authorization = Authorization { app: client, request, no_prompt: false, ui_locales: vec![] };
    let (device, new_device) = device_or_new(ctx);
    let mut new = new_flow(app, ctx, &device, authorization, Origin::Hosted, intent);
    let session_cookie = if invited.is_some() { None } else { ctx.session.as_deref() };
    new.invited = invited;
    let options = StartOptions { session_cookie, no_prompt: false };
    let begun = match journey::start(app, new, options).await {
        Ok(begun) => begun,
        Err(e) => return super::error::AppError::from(e).into_response(),
    };
    let mut response = Redirect::to(&format!("/signin?flow={}", begun.handle)).into_response();
    if new_device {
        set_device_cookie(&mut response, &device, &app.issuer);
    }
    response
}
