//! Announces that a flow changed, to event streams waiting on it in this process: when
//! a step here commits, and (PostgreSQL) when another instance's does
//! (`Store::watch_flows`). Streams also poll the flow's version (see `http::flow_events`),
//! for what a lost notification would miss.

use std::sync::Arc;

use tokio::sync::broadcast;

#[derive(Clone)]
pub struct Notifier {
    tx: broadcast::Sender<Arc<str>>,
}

impl Default for Notifier {
    fn default() -> Self {
        Notifier { tx: broadcast::channel(1024).0 }
    }
}

impl Notifier {
    /// Tells listeners that the flow `id` changed. Nobody listening is fine.
    pub fn changed(&self, flow_id: &str) {
        let _ = self.tx.send(flow_id.into());
    }

    /// Changes may have been missed (the store's listener was away): every stream looks.
    pub fn anything(&self) {
        let _ = self.tx.send("".into());
    }

    /// Flow ids as they change ("" for [`Notifier::anything`]).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.tx.subscribe()
    }
}
