//! Email: rendering the branded challenge email, and delivering it.
//!
//! In dev mode emails go to the outbox table, written in the same transaction as the
//! step that sent them, and are shown at `/dev/mailbox`. With SMTP they go, sealed, into
//! the store's mail queue in that same transaction (`queue.rs`), and a worker on any
//! instance delivers them (`worker.rs`, over `smtp.rs`): a crash or an SMTP outage
//! delays an email, it does not lose it.

pub mod queue;
pub mod smtp;
pub mod template;
pub mod worker;

pub use queue::MailQueue;
pub use template::{ChallengeEmail, render_challenge};

/// An email ready to send.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RenderedEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Where rendered emails go.
#[derive(Clone)]
pub enum Delivery {
    /// Into the store's outbox (dev mode).
    Outbox,
    /// Into the store's mail queue, for the worker to send over SMTP.
    Smtp { queue: std::sync::Arc<MailQueue>, transport: std::sync::Arc<smtp::SmtpTransport> },
}

impl Delivery {
    /// After a commit that queued emails: the worker looks at once.
    pub fn committed(&self) {
        if let Delivery::Smtp { queue, .. } = self {
            queue.wake();
        }
    }
}
