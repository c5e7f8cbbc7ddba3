//! `GET /email/verify?t=…`: the page a magic link opens.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::context::RequestContext;
use super::error::AppError;
use super::pages::{self, Page};
use crate::app::AppState;
use crate::branding::DEFAULT_BRAND;
use crate::engine::{LinkReply, Texts};
use crate::html::escape;
use crate::journey::{self, JourneyError};

#[derive(Deserialize)]
pub struct LinkQuery {
    t: Option<String>,
}

/// The code a link opened in another browser shows, to type where the flow started.
pub fn code_block(code: &str) -> String {
    format!("<p class=\"pw-code\" aria-label=\"{0}\">{0}</p>", escape(code))
}

pub async fn open(
    State(app): State<AppState>,
    ctx: RequestContext,
    Query(q): Query<LinkQuery>,
) -> Result<Response, AppError> {
    let token = q.t.unwrap_or_default();
    let (flow, reply) = match journey::open_link(&app, &token, ctx.device.as_deref(), &ctx.client).await {
        Ok((flow, reply)) => (Some(flow), reply),
        Err(JourneyError::NotFound) => (None, LinkReply::Invalid),
        Err(e) => return Err(e.into()),
    };
    let config_app = flow.as_ref().and_then(|f| app.config.app(&f.client_id));
    let brand_id = match (&flow, config_app) {
        (Some(f), Some(a)) => app.config.brand_of_flow(f, a),
        _ => DEFAULT_BRAND,
    };
    let brand = app.brands.get(brand_id).or_else(|| app.brands.get(DEFAULT_BRAND)).expect("default brand");
    let texts = app.brands.texts(brand_id, &ctx.locale);
    let mut params = vec![("app", config_app.map_or_else(|| brand.display_name.clone(), |a| a.name.clone()))];
    if let Some(f) = &flow {
        params.push(("browser", f.requester.browser.clone()));
    }
    let t = |key: &str| texts.fill(&texts.get(key).unwrap_or_default(), &params);
    let (status, key, extra) = match &reply {
        LinkReply::Proven => (StatusCode::OK, "link.proven", String::new()),
        LinkReply::OtherDevice { code } => (StatusCode::OK, "link.other_device", code_block(code)),
        LinkReply::AlreadyUsed => (StatusCode::GONE, "link.used", String::new()),
        LinkReply::Expired => (StatusCode::GONE, "link.expired", String::new()),
        LinkReply::Invalid => (StatusCode::NOT_FOUND, "link.invalid", String::new()),
    };
    let title = t(&format!("{key}.title"));
    let body = pages::card(&brand, &title, &t(&format!("{key}.body")), &extra);
    Ok(pages::render(status, Page { brand: &brand, lang: &ctx.locale, title: &title, body, scripts: &[] }))
}
