//! The system log: security-relevant events in the shape of Okta's System Log
//! (`uuid`, `published`, `eventType`, `severity`, `actor`, `client`, `outcome`,
//! `target`, `displayMessage`), appended in the same transaction as the step that
//! caused them.

mod client;

pub use client::{ClientInfo, describe_browser};

use serde_json::json;

use crate::engine::{LogEntry, Timestamp};
use crate::store::StoredEvent;

/// What an event is about besides its entry: the app and the flow (transaction).
pub struct Context<'a> {
    pub client_id: &'a str,
    pub flow_id: &'a str,
    pub client: &'a ClientInfo,
}

pub fn record(entry: &LogEntry, ctx: &Context<'_>, uuid: String, now: Timestamp) -> StoredEvent {
    let actor = match &entry.actor {
        Some((id, email)) => json!({ "id": id, "type": "User", "alternateId": email, "displayName": email }),
        None => json!({ "id": "unknown", "type": "User", "alternateId": "unknown", "displayName": "Unknown user" }),
    };
    let body = json!({
        "uuid": uuid,
        "published": now.rfc3339(),
        "eventType": entry.event_type,
        "version": "0",
        "severity": entry.severity,
        "displayMessage": entry.message,
        "actor": actor,
        "client": {
            "ipAddress": ctx.client.ip,
            "userAgent": { "rawUserAgent": ctx.client.user_agent, "browser": describe_browser(&ctx.client.user_agent) },
        },
        "outcome": { "result": entry.outcome, "reason": entry.reason },
        "target": [{ "id": ctx.client_id, "type": "AppInstance", "alternateId": ctx.client_id }],
        "transaction": { "type": "WEB", "id": ctx.flow_id },
    });
    StoredEvent { uuid, published: now, event_type: entry.event_type.to_owned(), body: body.to_string() }
}
