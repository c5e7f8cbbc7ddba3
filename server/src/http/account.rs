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
    let base = match &ctx.custom_host {
        Some(host) => custom_domain_base(&app.issuer, host),
        None => app.issuer.to_string(),
    };
    // Should anything end in a code (a recovery that signs in), the browser comes back here.
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
    let (device, new_device) = device_or_new(&ctx);
    let new = new_flow(&app, &ctx, &device, authorization, Origin::Hosted, passway_protocol::Intent::Account);
    let options = StartOptions { session_cookie: ctx.session.as_deref(), no_prompt: false };
    let begun = match journey::start(&app, new, options).await {
        Ok(begun) => begun,
        Err(e) => return super::error::AppError::from(e).into_response(),
    };
    let mut response = Redirect::to(&format!("/signin?flow={}", begun.handle)).into_response();
    if new_device {
        set_device_cookie(&mut response, &device, &app.issuer);
    }
    response
}
