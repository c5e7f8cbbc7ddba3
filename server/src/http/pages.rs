//! The few HTML pages the server renders itself (hosted sign-in, magic-link results,
//! errors), branded, and served under a strict Content Security Policy: no inline
//! script or style, WebAssembly allowed (`'wasm-unsafe-eval'`), no framing.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::branding::Brand;
use crate::html::escape;

pub const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub struct Page<'a> {
    pub brand: &'a Brand,
    pub lang: &'a str,
    pub title: &'a str,
    /// Trusted HTML: callers escape what they interpolate.
    pub body: String,
    /// Module scripts to load (same origin).
    pub scripts: &'a [&'a str],
}

pub fn render(status: StatusCode, page: Page<'_>) -> Response {
    let mut response = (status, Html(html(&page))).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The page's HTML document.
pub fn html(page: &Page<'_>) -> String {
    let scripts: String =
        page.scripts.iter().map(|s| format!("<script type=\"module\" src=\"{}\"></script>", escape(s))).collect();
    format!(
        "<!doctype html>\n<html lang=\"{lang}\" dir=\"{dir}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><link rel=\"stylesheet\" href=\"/themes/{brand}/theme.css\"><link rel=\"icon\" href=\"/themes/{brand}/{logo}\">{scripts}</head>\
<body class=\"pw-theme pw-page\"><main>{body}</main></body></html>\n",
        lang = escape(page.lang),
        dir = crate::i18n::direction(page.lang),
        title = escape(page.title),
        brand = escape(&page.brand.id),
        logo = escape(&page.brand.logo_file),
        body = page.body,
    )
}

/// A card with the brand's logo, a heading and a paragraph (already escaped parts).
pub fn card(brand: &Brand, title: &str, text: &str, extra: &str) -> String {
    format!(
        "<div class=\"pw-root\"><div class=\"pw-card\"><img class=\"pw-logo\" src=\"/themes/{id}/{logo}\" alt=\"{name}\">\
<h1 class=\"pw-title\">{title}</h1><p class=\"pw-subtitle\">{text}</p>{extra}</div></div>",
        id = escape(&brand.id),
        logo = escape(&brand.logo_file),
        name = escape(&brand.display_name),
        title = escape(title),
        text = escape(text),
    )
}
