//! The SMTP mail queue's two ends in this process: sealing an email into a row of the
//! step's commit, and opening it again for the worker. An email carries a one-time
//! code or link, so it rests only sealed (AES-256-GCM under the master key), bound to
//! its recipient; its row goes once sent.

use std::sync::Arc;

use tokio::sync::Notify;

use super::RenderedEmail;
use crate::crypto::Sealer;
use crate::engine::Timestamp;
use crate::store::QueuedMail;

pub struct MailQueue {
    sealer: Arc<Sealer>,
    wake: Notify,
}

#[derive(Debug, thiserror::Error)]
#[error("a queued email could not be opened (another master key, or damaged)")]
pub struct OpenError;

impl MailQueue {
    pub fn new(sealer: Arc<Sealer>) -> MailQueue {
        MailQueue { sealer, wake: Notify::new() }
    }

    /// The row to add to a commit.
    pub fn seal(&self, email: &RenderedEmail, now: Timestamp) -> QueuedMail {
        let plain = serde_json::to_vec(email).expect("an email serialises");
        QueuedMail {
            id: 0,
            to: email.to.clone(),
            sealed: self.sealer.seal(&plain, context(&email.to).as_bytes()),
            created_at: now,
            attempts: 0,
        }
    }

    pub fn open(&self, queued: &QueuedMail) -> Result<RenderedEmail, OpenError> {
        let plain = self.sealer.open(&queued.sealed, context(&queued.to).as_bytes()).map_err(|_| OpenError)?;
        serde_json::from_slice(&plain).map_err(|_| OpenError)
    }

    /// Something was queued: the worker looks now rather than at its next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub async fn woken(&self) {
        self.wake.notified().await;
    }
}

fn context(to: &str) -> String {
    format!("passway/mail-queue/{to}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> MailQueue {
        MailQueue::new(Arc::new(Sealer::from_master(&[7; 32])))
    }

    fn email(to: &str) -> RenderedEmail {
        RenderedEmail {
            to: to.into(),
            subject: "Your code".into(),
            text: "code: 123456".into(),
            html: "<p>123456</p>".into(),
        }
    }

    #[test]
    fn an_email_rests_sealed_and_opens_again() {
        let q = queue();
        let row = q.seal(&email("ada@example.com"), Timestamp(5));
        assert!(!row.sealed.windows(6).any(|w| w == b"123456"), "the code is not in clear");
        assert_eq!(q.open(&row).unwrap(), email("ada@example.com"));
    }

    #[test]
    fn a_row_moved_to_another_recipient_does_not_open() {
        let q = queue();
        let mut row = q.seal(&email("ada@example.com"), Timestamp(5));
        row.to = "eve@example.com".into();
        assert!(q.open(&row).is_err());
        let other = MailQueue::new(Arc::new(Sealer::from_master(&[8; 32])));
        assert!(other.open(&q.seal(&email("ada@example.com"), Timestamp(5))).is_err(), "another master key");
    }
}
