//! `GET /signin?flow=…`: the hosted sign-in page, the widget on a page branded for
//! the flow's app.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::context::RequestContext;
use super::error::AppError;
use super::pages::{self, Page};
use crate::app::AppState;
use crate::branding::DEFAULT_BRAND;
use crate::engine::Texts;
use crate::html::escape;
use crate::journey::{self, JourneyError};

#[derive(Deserialize)]
pub struct SigninQuery {
    flow: Option<String>,
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Query(q): Query<SigninQuery>,
) -> Result<Response, AppError> {
    let handle = q.flow.unwrap_or_default();
    let loaded = match journey::load(&app, &handle, &ctx.holder()).await {
        Ok(loaded) => loaded,
        Err(JourneyError::NotFound | JourneyError::Expired | JourneyError::Finished | JourneyError::AppGone(_)) => {
            return Ok(cannot_go_on(&app, &ctx, &handle, StatusCode::GONE, "hosted.expired").await);
        }
        // Another browser holds the handle (shared, or planted): it moves nothing.
        Err(JourneyError::NotHeld) => {
            return Ok(cannot_go_on(&app, &ctx, &handle, StatusCode::FORBIDDEN, "hosted.not_bound").await);
        }
        Err(e) => return Err(e.into()),
    };
    let config_app = app
        .config
        .app(&loaded.flow.client_id)
        .ok_or_else(|| AppError::from(JourneyError::AppGone(loaded.flow.client_id.clone())))?;
    let brand =
        app.brands.get(app.config.brand_of_flow(&loaded.flow, config_app)).expect("configured brands are loaded");
    // `ui_locales` of the authorization request wins over the browser's languages.
    let locale = loaded.flow.request.ui_locale.as_deref().unwrap_or(&ctx.locale);
    let noscript = app.brands.texts(&brand.id, locale).get("hosted.noscript").unwrap_or_default();
    let body = body(&config_app.name, &handle, &app.base_of(&loaded.flow), &brand.id, &noscript);
    Ok(pages::render(
        StatusCode::OK,
        Page { brand: &brand, lang: locale, title: &config_app.name, body, scripts: &["/widget/passway.js"] },
    ))
}

/// The hosted page's content: the widget resuming the flow `handle` of `base_url`.
pub fn body(app_name: &str, handle: &str, base_url: &str, brand: &str, noscript: &str) -> String {
    format!(
        "<h1 class=\"pw-visually-hidden\">{name}</h1><passway-signin flow=\"{flow}\" base-url=\"{base}\" brand=\"{brand}\"></passway-signin><noscript><p>{noscript}</p></noscript>",
        name = escape(app_name),
        flow = escape(handle),
        base = escape(base_url),
        brand = escape(brand),
        noscript = escape(noscript),
    )
}

/// The page for a flow that cannot go on here (`key`: the texts saying why), branded
/// for its app when it still exists.
async fn cannot_go_on(app: &AppState, ctx: &RequestContext, handle: &str, status: StatusCode, key: &str) -> Response {
    let stored = app.store.flow_by_handle(&crate::crypto::sha256(handle.as_bytes())).await.ok().flatten();
    let client_id =
        stored.and_then(|s| serde_json::from_str::<crate::engine::Flow>(&s.state).ok()).map(|f| f.client_id);
    let config_app = client_id.as_deref().and_then(|id| app.config.app(id));
    let brand_id = config_app.map_or(DEFAULT_BRAND, |a| a.brand.as_str());
    let brand = app.brands.get(brand_id).expect("configured brands are loaded");
    let texts = app.brands.texts(brand_id, &ctx.locale);
    let params = [("app", config_app.map_or_else(|| "the app".to_owned(), |a| a.name.clone()))];
    let t = |k: &str| texts.fill(&texts.get(k).unwrap_or_default(), &params);
    let title = t(&format!("{key}.title"));
    let body = pages::card(&brand, &title, &t(&format!("{key}.body")), "");
    pages::render(status, Page { brand: &brand, lang: &ctx.locale, title: &title, body, scripts: &[] })
}
