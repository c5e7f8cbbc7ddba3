//! The dev mailbox (dev mode only): emails kept in the store's outbox, as a page with
//! clickable links at `/dev/mailbox` and as JSON at `/dev/mailbox/messages`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::error::AppError;
use super::pages::{self, Page};
use crate::app::AppState;
use crate::branding::DEFAULT_BRAND;
use crate::html::escape;
use crate::store::Mail;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct MailQuery {
    /// Only the emails to this address.
    to: Option<String>,
    /// At most this many (1 to 500; default 50).
    limit: Option<u32>,
}

/// The dev outbox, newest first (dev mode only; 404 otherwise).
#[utoipa::path(get, path = "/dev/mailbox/messages", params(MailQuery),
    responses((status = 200, body = Vec<Mail>), (status = 400, body = passway_protocol::ApiError),
        (status = 404, body = passway_protocol::ApiError)))]
pub async fn messages(
    State(app): State<AppState>,
    query: Result<Query<MailQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Mail>>, AppError> {
    if !app.config.dev_mode {
        return Err(AppError::not_found("the dev mailbox is served in dev mode only"));
    }
    let Query(q) = query.map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    let to = q.to.map(|t| t.trim().to_lowercase());
    let mails =
        app.store.mails(to.as_deref(), q.limit.unwrap_or(50).clamp(1, 500)).await.map_err(AppError::internal)?;
    Ok(Json(mails))
}

/// `GET /dev/mailbox/messages/{id}/html`: one email's HTML part, as a mail client shows it.
pub async fn message_html(State(app): State<AppState>, Path(id): Path<i64>) -> Result<Response, AppError> {
    let mails = app.store.mails(None, 500).await.map_err(AppError::internal)?;
    let mail = mails
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(|| AppError::not_found(format!("no email {id} among the latest 500")))?;
    let mut response = Html(mail.html).into_response();
    // Email HTML uses inline styles; allow them here only, never scripts.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src *"),
    );
    Ok(response)
}

/// `GET /dev/mailbox`.
pub async fn page(State(app): State<AppState>, Query(q): Query<MailQuery>) -> Result<Response, AppError> {
    let to = q.to.map(|t| t.trim().to_lowercase());
    let mails = app.store.mails(to.as_deref(), 50).await.map_err(AppError::internal)?;
    let brand = app.brands.get(DEFAULT_BRAND).expect("default brand");
    let mut body =
        String::from("<div class=\"pw-root\"><div class=\"pw-card\"><h1 class=\"pw-title\">Dev mailbox</h1>");
    body.push_str(
        "<p class=\"pw-subtitle\">Emails Passway sent in dev mode, newest first. Nothing here leaves this machine.</p>",
    );
    if mails.is_empty() {
        body.push_str("<p>No email yet. Sign in or sign up from one of the demo apps.</p>");
    }
    for m in &mails {
        body.push_str(&format!(
            "<article class=\"pw-message\"><h2 class=\"pw-label\">{subject}</h2><p class=\"pw-field-error\">To {to} · {at} · <a class=\"pw-link\" href=\"/dev/mailbox/messages/{id}/html\">HTML version</a></p><p>{text}</p></article>",
            subject = escape(&m.subject),
            to = escape(&m.to),
            at = escape(&m.sent_at.rfc3339()),
            id = m.id,
            text = linkify(&m.text),
        ));
    }
    body.push_str("</div></div>");
    Ok(pages::render(StatusCode::OK, Page { brand: &brand, lang: "en", title: "Dev mailbox", body, scripts: &[] }))
}

/// Escapes text, turns http(s) URLs into links and newlines into line breaks.
fn linkify(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        for (j, word) in line.split(' ').enumerate() {
            if j > 0 {
                out.push(' ');
            }
            if word.starts_with("http://") || word.starts_with("https://") {
                out.push_str(&format!("<a class=\"pw-link\" href=\"{0}\">{0}</a>", escape(word)));
            } else {
                out.push_str(&escape(word));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn links() {
        assert_eq!(
            super::linkify("Open http://a/b?t=1&x=<2>\nthen <b>"),
            "Open <a class=\"pw-link\" href=\"http://a/b?t=1&amp;x=&lt;2&gt;\">http://a/b?t=1&amp;x=&lt;2&gt;</a><br>then &lt;b&gt;"
        );
    }
}
