//! The dev hook inbox (dev mode only), beside the dev mailbox: an event hook receiver
//! served by Passway itself, so that a newcomer sees deliveries arrive.
//!
//! - `GET /dev/hooks/inbox` answers the verification challenge, as a receiver must;
//! - `POST /dev/hooks/inbox` takes a delivery and checks its signature against the
//!   secret of the configured hook that points here (the last [`KEPT`] are kept, in
//!   memory: this process only);
//! - `POST /dev/hooks/registration` is the demo's inline registration hook: it refuses
//!   addresses at `blocked.example` (in English and French) and lets others through; a
//!   call whose signature does not verify under the hook's secret gets 401;
//! - `GET /dev/hooks` shows deliveries and calls, headers, verdict and events;
//!   `/dev/hooks/deliveries` as JSON.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::error::AppError;
use super::pages::{self, Page};
use crate::app::AppState;
use crate::branding::DEFAULT_BRAND;
use crate::hooks::worker::CHALLENGE_HEADER;
use crate::hooks::{Secret, signature};
use crate::html::escape;

/// Deliveries kept.
pub const KEPT: usize = 20;
/// The inbox's path: a hook whose URL ends with it is the one whose secret checks it.
pub const INBOX: &str = "/dev/hooks/inbox";
/// The demo registration hook's path (likewise).
pub const REGISTRATION: &str = "/dev/hooks/registration";
/// The domain the demo registration hook refuses.
pub const BLOCKED_DOMAIN: &str = "blocked.example";

#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub webhook_id: String,
    pub webhook_timestamp: String,
    pub webhook_signature: String,
    /// Whether the signature is right under a configured hook's secret.
    pub verified: bool,
    pub hook: Option<String>,
    pub body: Value,
}

/// The inbox: a bounded queue, newest first.
#[derive(Debug, Clone, Default)]
pub struct Inbox(Arc<Mutex<VecDeque<Received>>>);

impl Inbox {
    fn push(&self, r: Received) {
        let mut q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        q.push_front(r);
        q.truncate(KEPT);
    }

    fn list(&self) -> Vec<Received> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }
}

fn dev_only(app: &AppState) -> Result<(), AppError> {
    if app.config.dev_mode { Ok(()) } else { Err(AppError::not_found("the dev hook inbox is served in dev mode only")) }
}

/// `GET /dev/hooks/inbox`: echoes the verification challenge.
pub async fn verify(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    dev_only(&app)?;
    let challenge = headers.get(CHALLENGE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    Ok(Json(json!({ "verification": challenge })).into_response())
}

/// `POST /dev/hooks/inbox`: a delivery.
pub async fn receive(State(app): State<AppState>, headers: HeaderMap, body: String) -> Result<Response, AppError> {
    dev_only(&app)?;
    let secrets = app.config.hooks.events.iter().filter(|h| h.url.ends_with(INBOX)).map(|h| (&h.name, &h.secret));
    keep(&app, &headers, body, secrets);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Keeps a call in the inbox, with whether its signature is right under one of the
/// `secrets` of the hooks that point here; returns it.
fn keep<'h>(
    app: &AppState,
    headers: &HeaderMap,
    body: String,
    mut secrets: impl Iterator<Item = (&'h String, &'h Secret)>,
) -> Received {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (id, timestamp, signatures) = (h("webhook-id"), h("webhook-timestamp"), h("webhook-signature"));
    let now = app.clock.now().unix_seconds();
    let hook = secrets.find(|(_, secret)| signature::verify(secret, &id, &timestamp, &signatures, &body, now));
    let received = Received {
        webhook_id: id,
        webhook_timestamp: timestamp,
        webhook_signature: signatures,
        verified: hook.is_some(),
        hook: hook.map(|(name, _)| name.clone()),
        body: serde_json::from_str(&body).unwrap_or(Value::String(body)),
    };
    app.dev_hooks.push(received.clone());
    received
}

/// `POST /dev/hooks/registration`: the demo's inline registration hook.
pub async fn registration(State(app): State<AppState>, headers: HeaderMap, body: String) -> Result<Response, AppError> {
    dev_only(&app)?;
    let secrets =
        app.config.hooks.inline.iter().filter(|h| h.url.ends_with(REGISTRATION)).map(|h| (&h.name, &h.secret));
    let Received { verified, body: request, .. } = keep(&app, &headers, body, secrets);
    if !verified {
        return Ok(StatusCode::UNAUTHORIZED.into_response());
    }
    let email = request["data"]["user"]["email"].as_str().unwrap_or_default();
    let blocked = email.rsplit_once('@').is_some_and(|(_, domain)| domain.eq_ignore_ascii_case(BLOCKED_DOMAIN));
    Ok(Json(if blocked {
        json!({ "error": {
            "message": format!("Addresses at {BLOCKED_DOMAIN} cannot sign up here. Use another email address."),
            "messages": { "fr": format!("Les adresses {BLOCKED_DOMAIN} ne peuvent pas s'inscrire ici. Utilisez une autre adresse.") },
        } })
    } else {
        json!({ "commands": [{ "type": "allow" }] })
    })
    .into_response())
}

/// `GET /dev/hooks/deliveries`: the deliveries as JSON, newest first.
pub async fn deliveries(State(app): State<AppState>) -> Result<Json<Vec<Received>>, AppError> {
    dev_only(&app)?;
    Ok(Json(app.dev_hooks.list()))
}

/// `GET /dev/hooks`.
pub async fn page(State(app): State<AppState>) -> Result<Response, AppError> {
    dev_only(&app)?;
    let brand = app.brands.get(DEFAULT_BRAND).expect("default brand");
    let mut body = String::from(
        "<div class=\"pw-root\"><div class=\"pw-card pw-inbox\"><h1 class=\"pw-title\">Dev hook inbox</h1>",
    );
    body.push_str(&format!(
        "<p class=\"pw-subtitle\">Event hook deliveries Passway sent to {INBOX}, and its calls to the inline registration hook at {REGISTRATION}, newest first (the last {KEPT}, in this process's memory). Reload to see new ones.</p>"
    ));
    let received = app.dev_hooks.list();
    if received.is_empty() {
        body.push_str(
            "<p>No delivery yet. Sign up or sign in from a demo app: deliveries follow within a second or two.</p>",
        );
    }
    for r in &received {
        let events = r.body["data"]["events"].as_array().cloned().unwrap_or_default();
        let mut types: Vec<&str> = events.iter().filter_map(|e| e["eventType"].as_str()).collect();
        let what = match r.body["type"].as_str().filter(|t| t.starts_with("com.passway.inline.")) {
            Some(inline) => {
                types = vec![inline];
                "inline hook call".to_owned()
            }
            None => format!("{} event(s)", events.len()),
        };
        body.push_str(&format!(
            "<article class=\"pw-message\"><h2 class=\"pw-label\">{verdict} · {what}: {types}</h2>\
             <p class=\"pw-subtitle\">webhook-id: {id}<br>webhook-timestamp: {ts}<br>webhook-signature: {sig}</p>\
             <details><summary>Body</summary><pre>{json}</pre></details></article>",
            verdict = if r.verified { "✔ signature verified" } else { "✘ signature NOT verified" },
            types = escape(&types.join(", ")),
            id = escape(&r.webhook_id),
            ts = escape(&r.webhook_timestamp),
            sig = escape(&r.webhook_signature),
            json = escape(&serde_json::to_string_pretty(&r.body).unwrap_or_default()),
        ));
    }
    body.push_str("</div></div>");
    Ok(pages::render(StatusCode::OK, Page { brand: &brand, lang: "en", title: "Dev hook inbox", body, scripts: &[] }))
}
