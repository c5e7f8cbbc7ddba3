//! Event hooks: the system log's events sent to other systems as they occur; and
//! inline hooks, called during a journey (`inline.rs`).
//!
//! - `mod.rs`: hooks as configured, and which events each is due (`Subscriptions`,
//!   pure: it runs where events are recorded, so deliveries are written to the outbox
//!   in the same commit as their event);
//! - `signature.rs`: Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature`);
//! - `outbound.rs`: the one HTTP client that calls out (https only, no redirects, a
//!   response size cap, no link-local or metadata addresses);
//! - `worker.rs`: verifies each hook once, then delivers its outbox in batches, at least
//!   once, one instance at a time per hook (a lease), retrying with backoff.

pub mod inline;
pub mod outbound;
pub mod signature;
pub mod worker;

use std::time::Duration;

use serde_json::Value;

use crate::engine::EventType;
use crate::events::filter::Filter;

/// `[hooks]`.
#[derive(Debug, Clone, Default)]
pub struct HookConfig {
    pub events: Vec<EventHook>,
    /// `[[hooks.inline]]` (see `inline.rs`).
    pub inline: Vec<inline::InlineHook>,
    /// Calls to link-local addresses (cloud metadata services live there) are refused
    /// unless this is set.
    pub allow_link_local: bool,
}

/// `[[hooks.events]]`: where to send which events.
#[derive(Debug, Clone)]
pub struct EventHook {
    pub name: String,
    pub url: String,
    pub events: Vec<EventType>,
    /// Only events that also match this log filter.
    pub filter: Option<Filter>,
    pub secret: Secret,
    pub timeout: Duration,
}

/// A hook's signing key (the bytes of a `whsec_…` secret). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The default delivery timeout, and its cap.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_TIMEOUT: Duration = Duration::from_secs(30);

/// Which hooks want which events.
#[derive(Debug, Default)]
pub struct Subscriptions {
    hooks: Vec<(String, Vec<EventType>, Option<Filter>)>,
}

impl Subscriptions {
    pub fn new(config: &HookConfig) -> Subscriptions {
        Subscriptions {
            hooks: config.events.iter().map(|h| (h.name.clone(), h.events.clone(), h.filter.clone())).collect(),
        }
    }

    /// The hooks due an event (its LogEvent).
    pub fn due(&self, event: &Value) -> Vec<String> {
        if self.hooks.is_empty() {
            return vec![];
        }
        let Some(event_type) = event["eventType"].as_str().and_then(EventType::from_name) else { return vec![] };
        self.hooks
            .iter()
            .filter(|(_, types, filter)| {
                types.contains(&event_type) && filter.as_ref().is_none_or(|f| f.matches(event))
            })
            .map(|(name, _, _)| name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn hook(name: &str, events: &[EventType], filter: Option<&str>) -> EventHook {
        EventHook {
            name: name.into(),
            url: "https://hooks.example/x".into(),
            events: events.to_vec(),
            filter: filter.map(|f| Filter::parse(f).unwrap()),
            secret: Secret(vec![1; 32]),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    #[test]
    fn hooks_get_the_events_they_asked_for() {
        let config = HookConfig {
            events: vec![
                hook("crm", &[EventType::UserLifecycleCreate], None),
                hook("alerts", &[EventType::UserAccountLock, EventType::RequestBlocked], None),
                hook("shop-only", &[EventType::UserSessionStart], Some(r#"target.id eq "shop""#)),
            ],
            allow_link_local: false,
            inline: vec![],
        };
        let subs = Subscriptions::new(&config);
        let due = |event: Value| subs.due(&event).join(",");
        assert_eq!(due(json!({"eventType": "user.lifecycle.create"})), "crm");
        assert_eq!(due(json!({"eventType": "security.request.blocked"})), "alerts");
        assert_eq!(due(json!({"eventType": "user.session.start", "target": [{"id": "shop"}]})), "shop-only");
        assert_eq!(due(json!({"eventType": "user.session.start", "target": [{"id": "blog"}]})), "");
        assert_eq!(due(json!({"eventType": "no.such.type"})), "");
    }
}
