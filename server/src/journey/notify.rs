//! Announces that a flow changed, to event streams waiting on it in this process: when
//! a step here commits, and (PostgreSQL) when another instance's does
//! (`Store::watch_flows`). Streams also poll the flow's version (see `http::flow_events`),
//! for what a lost notification would miss.
//!
//! Each flow a stream waits on has a channel of its own, so a commit wakes only the
//! streams of the flow it changed. (One broadcast of every change to every stream made
//! each commit cost a wake-up per open stream: with a thousand tabs waiting for their
//! magic links, a thousand per step anyone took.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

#[derive(Clone)]
pub struct Notifier(Arc<Channels>);

struct Channels {
    /// A channel per flow that a stream here waits on; its value counts the changes.
    flows: Mutex<HashMap<String, watch::Sender<u64>>>,
    /// Counts the times anything may have changed (see [`Notifier::anything`]).
    anything: watch::Sender<u64>,
}

impl Default for Notifier {
    fn default() -> Self {
        Notifier(Arc::new(Channels { flows: Mutex::default(), anything: watch::channel(0).0 }))
    }
}

/// One stream's wait for its flow's changes; it stops counting as a listener when dropped.
pub struct Subscription {
    notifier: Notifier,
    flow_id: String,
    flow: watch::Receiver<u64>,
    anything: watch::Receiver<u64>,
}

impl Notifier {
    /// Tells the streams waiting on flow `id` that it changed. Nobody listening is fine.
    pub fn changed(&self, flow_id: &str) {
        if let Some(tx) = self.flows().get(flow_id) {
            tx.send_modify(|n| *n += 1);
        }
    }

    /// Changes may have been missed (the store's listener was away): every stream looks.
    pub fn anything(&self) {
        self.0.anything.send_modify(|n| *n += 1);
    }

    /// Waits for changes to flow `flow_id`, from now on.
    pub fn subscribe(&self, flow_id: &str) -> Subscription {
        let flow = self.flows().entry(flow_id.to_owned()).or_insert_with(|| watch::channel(0).0).subscribe();
        Subscription {
            notifier: self.clone(),
            flow_id: flow_id.to_owned(),
            flow,
            anything: self.0.anything.subscribe(),
        }
    }

    /// How many flows have a stream waiting here.
    pub fn watched(&self) -> usize {
        self.flows().len()
    }

    fn flows(&self) -> MutexGuard<'_, HashMap<String, watch::Sender<u64>>> {
        self.0.flows.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Subscription {
    /// Returns when the flow changed, or anything may have, since the last call (or the
    /// subscription).
    pub async fn changed(&mut self) {
        // Neither sender can go while this subscription lives (the flow's stays in the
        // map while it has a receiver; `anything` is the notifier's), so an error cannot
        // happen; were it to, returning makes the caller look at the store, which is safe.
        tokio::select! {
            _ = self.flow.changed() => {}
            _ = self.anything.changed() => {}
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut flows = self.notifier.flows();
        // This subscription's receiver is still alive: the last one counts 1.
        if flows.get(&self.flow_id).is_some_and(|tx| tx.receiver_count() <= 1) {
            flows.remove(&self.flow_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt as _;

    use super::*;

    #[test]
    fn a_change_wakes_only_the_streams_of_its_flow() {
        let notifier = Notifier::default();
        let mut a = notifier.subscribe("a");
        let mut b = notifier.subscribe("b");
        notifier.changed("b");
        assert!(a.changed().now_or_never().is_none(), "flow a did not change");
        assert!(b.changed().now_or_never().is_some());
        assert!(b.changed().now_or_never().is_none(), "a change is heard once");
        notifier.changed("a");
        assert!(a.changed().now_or_never().is_some());
    }

    #[test]
    fn anything_wakes_every_stream() {
        let notifier = Notifier::default();
        let mut a = notifier.subscribe("a");
        let mut b = notifier.subscribe("b");
        notifier.anything();
        assert!(a.changed().now_or_never().is_some());
        assert!(b.changed().now_or_never().is_some());
    }

    #[test]
    fn a_flow_is_forgotten_when_its_last_stream_ends() {
        let notifier = Notifier::default();
        let first = notifier.subscribe("a");
        let mut second = notifier.subscribe("a");
        notifier.changed("nobody listens");
        assert_eq!(notifier.watched(), 1);
        drop(first);
        assert_eq!(notifier.watched(), 1, "the second stream still waits");
        notifier.changed("a");
        assert!(second.changed().now_or_never().is_some());
        drop(second);
        assert_eq!(notifier.watched(), 0);
    }
}
