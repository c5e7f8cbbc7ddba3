//! Invitations: an operator invites an address to an app (`POST
//! /api/v1/admin/users/invitations`); the email's link (`GET /invite?t=…`, good for 7
//! days) opens a registration flow bound to that address — on the hosted page, in the
//! app's brand, even in an app that takes no sign-ups. Nothing is created until the
//! person proves the address (the emailed code) and fills in the form; then the browser
//! lands on the account page. The link is a MAC of the address, the app and its expiry:
//! it proves nothing by itself, so it needs no single use.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::authorize::error_page;
use super::context::RequestContext;
use crate::app::AppState;
use crate::crypto::{Digest, b64url, b64url_decode};
use crate::engine::Timestamp;

/// How long an invitation's link works.
pub const LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

fn mac(app: &AppState, payload: &str) -> Digest {
    app.keyring.mac(&[b"passway/v1/invite", payload.as_bytes()])
}

/// The link inviting `email` to the app `client_id`, until `now` + [`LIFETIME`].
pub fn link(app: &AppState, client_id: &str, email: &str, now: Timestamp) -> String {
    let payload = format!("{}|{client_id}|{email}", now.plus(LIFETIME).unix_seconds());
    format!("{}/invite?t={}.{}", app.issuer, b64url(payload.as_bytes()), b64url(&mac(app, &payload).0))
}

/// The app and the address of a valid, unexpired invitation token.
fn read(app: &AppState, token: &str, now: Timestamp) -> Option<(String, String)> {
    let (payload, tag) = token.split_once('.')?;
    let payload = String::from_utf8(b64url_decode(payload)?).ok()?;
    let tag = Digest(b64url_decode(tag)?.try_into().ok()?);
    if !mac(app, &payload).ct_eq(&tag) {
        return None;
    }
    let mut parts = payload.splitn(3, '|');
    let expires: i64 = parts.next()?.parse().ok()?;
    let (client_id, email) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    (now.unix_seconds() < expires).then_some((client_id, email))
}

#[derive(Debug, Deserialize)]
pub struct InviteQuery {
    t: Option<String>,
}

/// `GET /invite?t=…`: the registration, bound to the invited address.
pub async fn open(State(app): State<AppState>, ctx: RequestContext, Query(q): Query<InviteQuery>) -> Response {
    let invitation = q.t.as_deref().and_then(|t| read(&app, t, app.clock.now()));
    let Some((client_id, email)) = invitation else {
        let message = "This invitation link is not valid, or it has expired. Ask for a new one.";
        return error_page(&app, &ctx, None, message);
    };
    let Some(client) = app.config.app(&client_id) else {
        return error_page(&app, &ctx, None, "The app of this invitation is gone.");
    };
    super::account::hosted(&app, &ctx, client, passway_protocol::Intent::Register, Some(email)).await
}
