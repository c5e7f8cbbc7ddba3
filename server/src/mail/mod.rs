//! Email: rendering the branded challenge email, and delivering it.
//!
//! In dev mode emails go to the outbox table, written in the same transaction as the
//! step that sent them, and are shown at `/dev/mailbox`. With SMTP they are handed,
//! after the step commits, to a queue drained by a background sender (lettre) that
//! retries with backoff; the secret they carry is never written to the store.

pub mod smtp;
pub mod template;

pub use smtp::SmtpSender;
pub use template::{ChallengeEmail, render_challenge};

/// An email ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    Smtp(SmtpSender),
}
