//! Announces that a flow changed, to event streams waiting on it in this process.
//! Other instances learn it by polling the flow's version (see `http::events`).

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

    /// Flow ids as they change.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.tx.subscribe()
    }
}
