//! The system log: every event in the shape of Okta's LogEvent (`uuid`, `published`,
//! `eventType`, `severity`, `displayMessage`, `actor`, `target`, `client`, `request`,
//! `outcome`, `transaction`, `authenticationContext`, `debugContext`), appended in the
//! same store commit as the step that caused it — and with it, in that same commit, the
//! event hook deliveries it is due for (the outbox, see `hooks/`).
//!
//! `filter.rs` is the query language (Okta's SCIM subset), `query.rs` reads pages of the
//! log for the API and the CLI.

mod client;
pub mod filter;
pub mod line;
pub mod query;

pub use client::{ClientInfo, describe_browser};

use std::sync::Arc;

use serde_json::{Value, json};

use crate::crypto::{SystemEntropy, uuid_v7};
use crate::engine::{LogEntry, Target, Timestamp};
use crate::hooks::Subscriptions;
use crate::store::StoredEvent;

/// What an event is about besides its entry: the app, the flow (transaction), the
/// request's client, and who the flow is about.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub client_id: &'a str,
    pub flow_id: &'a str,
    pub client: &'a ClientInfo,
    /// The person the flow is about (id, or "unknown" before an account is known; email),
    /// the actor when the entry names none.
    pub subject: Option<(&'a str, &'a str)>,
    /// The SSO session the event belongs to (`authenticationContext.externalSessionId`).
    pub session_id: Option<&'a str>,
    /// Proofs so far in the flow (`authenticationContext.authenticationStep`).
    pub step: usize,
}

impl<'a> Context<'a> {
    /// A request that is not part of a flow.
    pub fn request(client: &'a ClientInfo) -> Context<'a> {
        Context { client_id: "", flow_id: "", client, subject: None, session_id: None, step: 0 }
    }

    pub fn app(self, client_id: &'a str) -> Context<'a> {
        Context { client_id, ..self }
    }
}

/// Makes stored events of log entries, each with the event hooks it is due for.
#[derive(Clone, Default)]
pub struct Recorder {
    subscriptions: Arc<Subscriptions>,
}

impl Recorder {
    pub fn new(subscriptions: Subscriptions) -> Recorder {
        Recorder { subscriptions: Arc::new(subscriptions) }
    }

    pub fn record(&self, entry: &LogEntry, ctx: &Context<'_>, now: Timestamp) -> StoredEvent {
        let uuid = uuid_v7(now.0, &mut SystemEntropy);
        let body = log_event(entry, ctx, &uuid, now);
        let hooks = self.subscriptions.due(&body);
        StoredEvent {
            uuid,
            published: now,
            event_type: entry.event_type.name().to_owned(),
            body: body.to_string(),
            hooks,
        }
    }
}

/// The LogEvent of an entry.
pub fn log_event(entry: &LogEntry, ctx: &Context<'_>, uuid: &str, now: Timestamp) -> Value {
    let actor = match (&entry.admin, &entry.actor, ctx.subject) {
        (Some(a), _, _) => json!({ "id": a.id, "type": a.kind, "alternateId": a.id, "displayName": a.id }),
        (None, Some((id, email)), _) => user(id, email),
        (None, None, Some((id, email))) => user(id, email),
        (None, None, None) if entry.event_type.name().starts_with("event_hook.") => {
            json!({ "id": "passway", "type": "SystemPrincipal", "alternateId": "system@passway", "displayName": "Passway" })
        }
        (None, None, None) => {
            json!({ "id": "unknown", "type": "User", "alternateId": "unknown", "displayName": "Unknown user" })
        }
    };
    let mut targets: Vec<Value> = entry.targets.iter().map(target).collect();
    if !ctx.client_id.is_empty() {
        targets.push(json!({ "id": ctx.client_id, "type": "AppInstance", "alternateId": ctx.client_id, "displayName": ctx.client_id }));
    }
    let ua = &ctx.client.user_agent;
    let platform = crate::policy::Platform::from_user_agent(ua);
    let device = match platform {
        crate::policy::Platform::Ios | crate::policy::Platform::Android => "Mobile",
        crate::policy::Platform::Other => "Unknown",
        _ => "Computer",
    };
    let mut debug: serde_json::Map<String, Value> =
        entry.debug.iter().map(|(k, v)| ((*k).to_owned(), Value::String(v.clone()))).collect();
    if !ctx.client.request_id.is_empty() {
        debug.insert("requestId".into(), Value::String(ctx.client.request_id.clone()));
    }
    json!({
        "uuid": uuid,
        "published": now.rfc3339_millis(),
        "eventType": entry.event_type.name(),
        "version": "0",
        "severity": entry.severity.as_str(),
        "displayMessage": entry.message,
        "actor": actor,
        "client": {
            "ipAddress": (!ctx.client.ip.is_empty()).then_some(&ctx.client.ip),
            "userAgent": (!ua.is_empty()).then(|| json!({
                "rawUserAgent": ua,
                "browser": describe_browser(ua),
                "os": if platform == crate::policy::Platform::Other { "Unknown" } else { platform.display_name() },
            })),
            "device": device,
        },
        "request": {
            "ipChain": ctx.client.ip_chain.iter().map(|ip| json!({ "ip": ip })).collect::<Vec<_>>(),
        },
        "outcome": { "result": entry.outcome.as_str(), "reason": entry.reason },
        "target": targets,
        "transaction": {
            "type": "WEB",
            "id": if ctx.flow_id.is_empty() { Value::Null } else { Value::String(ctx.flow_id.to_owned()) },
        },
        "authenticationContext": {
            "authenticationProvider": "PASSWAY",
            "credentialType": entry.credential.map(|k| k.key()),
            "authenticationStep": ctx.step,
            "externalSessionId": ctx.session_id,
        },
        "debugContext": { "debugData": debug },
    })
}

fn user(id: &str, email: &str) -> Value {
    json!({ "id": id, "type": "User", "alternateId": email, "displayName": email })
}

fn target(t: &Target) -> Value {
    match t {
        Target::User { id, email } => user(id, email),
        Target::Passkey { id, name } => {
            json!({ "id": id, "type": "Authenticator", "alternateId": "passkey", "displayName": if name.is_empty() { "Passkey" } else { name } })
        }
        Target::Authenticator { kind, user_id } => {
            json!({ "id": format!("{user_id}:{}", kind.key()), "type": "Authenticator", "alternateId": kind.key(), "displayName": kind.key() })
        }
        Target::Session { id } => json!({ "id": id, "type": "Session", "alternateId": id, "displayName": "Session" }),
        Target::TokenFamily { id } => {
            json!({ "id": id, "type": "RefreshTokenFamily", "alternateId": id, "displayName": "Refresh token family" })
        }
        Target::EventHook { name } => {
            json!({ "id": name, "type": "EventHook", "alternateId": name, "displayName": name })
        }
        Target::InlineHook { name } => {
            json!({ "id": name, "type": "InlineHook", "alternateId": name, "displayName": name })
        }
        Target::Group { name } => json!({ "id": name, "type": "UserGroup", "alternateId": name, "displayName": name }),
    }
}

#[cfg(test)]
mod tests;
