//! The token inline hook: before an account's tokens are signed (code exchange and
//! refresh), the app's `token` hook may add claims to the ID and access tokens, or
//! refuse them. Registered claims are refused when its answer is read
//! (`oidc::claims::refuses_hook_claim`); the engine's `hook::decide` decides.

use serde_json::{Map, Value, json};

use super::Caller;
use crate::app::AppState;
use crate::config::App;
use crate::engine::hook::{self, Decision, HookCall, HookPoint};
use crate::engine::{Grant, Timestamp, User};
use crate::events;
use crate::oidc::OAuthError;
use crate::store::StoredEvent;

/// Claims a hook added, for each token.
#[derive(Debug, Default)]
pub(super) struct ExtraClaims {
    pub id_token: Map<String, Value>,
    pub access_token: Map<String, Value>,
}

/// Asks the app's token hook, if it has one: the claims to add and the call's event,
/// or the refusal (with the event, which the caller records).
pub(super) async fn ask(
    app: &AppState,
    caller: &Caller<'_>,
    client: &App,
    grant: &Grant,
    grant_type: &str,
    user: &User,
    now: Timestamp,
) -> Result<(ExtraClaims, Option<StoredEvent>), (OAuthError, StoredEvent)> {
    let Some(rule) = client.inline_hooks.get(&HookPoint::Token) else { return Ok((ExtraClaims::default(), None)) };
    let call = HookCall {
        point: HookPoint::Token,
        hook: rule.name.clone(),
        data: json!({
            "app": { "id": client.client_id, "name": client.name },
            "request": { "ipAddress": caller.client.ip, "grantType": grant_type },
            "user": { "id": user.id, "email": user.email, "profile": user.profile },
            "scope": grant.scope,
            "amr": grant.amr,
        }),
    };
    let answer = crate::hooks::inline::call(app, &call, now).await;
    let (decision, entry) = hook::decide(rule, HookPoint::Token, Some(&answer), "en", |_| Ok(()));
    let entry = if user.email.is_empty() { entry } else { entry.actor(user.id.clone(), user.email.clone()) };
    let event = app.events.record(&entry, &events::Context::request(caller.client).app(&client.client_id), now);
    match decision {
        Decision::Allow(c) => Ok((ExtraClaims { id_token: c.id_token, access_token: c.access_token }, Some(event))),
        Decision::Deny(_) => {
            Err((OAuthError::new("access_denied", "the app's token hook refused these tokens"), event))
        }
    }
}
