//! Delivers the SMTP mail queue. Every instance runs one worker; each claims a few due
//! emails at a time with a lease in the store ([`LEASE`]), so two instances never send
//! the same email at once, and the emails of an instance that died are sent by any
//! other (or by itself, restarted) once its lease lapses.
//!
//! Emails of a claim are sent side by side (at most [`IN_FLIGHT`], one per pooled SMTP
//! connection), each settled on its own: one bad recipient never holds up the others.
//! Sent: the row goes. Refused for good (a 5xx, an address that is not a mailbox): the
//! row goes and the log says why. Anything else (the server down, a 4xx, a timeout) is
//! tried again after a backoff doubling from one second to [`MAX_BACKOFF`], until
//! [`GIVE_UP`] after it was queued (the purge then takes it). A crash between the SMTP
//! server's "OK" and the row's deletion sends that email twice: at least once, never
//! lost.
//!
//! On shutdown the worker stops claiming, lets the emails under way finish (each is
//! bounded by the SMTP timeout), and hands back any it had not started.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;

use super::MailQueue;
use super::smtp::{SendError, SmtpTransport};
use crate::app::AppState;
use crate::crypto::{SystemEntropy, random_token};
use crate::engine::Timestamp;
use crate::store::{MailOutcome, QueuedMail};

/// How long a claim lasts: longer than a claim takes (its emails go side by side, each
/// within twice the SMTP timeout).
pub const LEASE: Duration = Duration::from_secs(30);
/// Emails sent at once, and claimed at once.
pub const IN_FLIGHT: u32 = 8;
/// How often an idle worker looks for emails other instances queued (its own wake it).
pub const IDLE: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// An email not sent this long after it was queued is given up on (the purge).
pub const GIVE_UP: Duration = Duration::from_secs(24 * 3600);

/// When to try an email again after its `attempts`-th failure.
pub fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.min(16)).min(MAX_BACKOFF)
}

/// Starts the worker when email goes over SMTP; it ends after the server's shutdown.
pub fn spawn(app: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let crate::mail::Delivery::Smtp { queue, transport } = &app.delivery else { return None };
    let owner = format!("{}-{}", std::process::id(), random_token(&mut SystemEntropy, 8));
    let (app, queue, transport) = (app.clone(), queue.clone(), transport.clone());
    Some(tokio::spawn(async move { run(app, queue, transport, owner).await }))
}

async fn run(app: AppState, queue: Arc<MailQueue>, transport: Arc<SmtpTransport>, owner: String) {
    let mut shutdown = app.shutdown.clone();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let now = app.clock.now();
        let wait = match app.store.mail_claim(&owner, now, now.plus(LEASE), IN_FLIGHT).await {
            Ok(claimed) if !claimed.is_empty() => {
                let sends = claimed.into_iter().map(|mail| {
                    let span = tracing::debug_span!("mail", id = mail.id);
                    tracing::Instrument::instrument(deliver(&app, &queue, &transport, &owner, mail), span)
                });
                join_all(sends).await;
                continue;
            }
            Ok(_) => IDLE,
            Err(e) => {
                tracing::warn!(error = %e, "mail queue: store");
                IDLE
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = queue.woken() => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

/// Sends one claimed email and settles its row.
async fn deliver(app: &AppState, queue: &MailQueue, transport: &SmtpTransport, owner: &str, mail: QueuedMail) {
    let outcome = if *app.shutdown.borrow() {
        MailOutcome::Released
    } else {
        match queue.open(&mail) {
            Err(e) => {
                tracing::error!(id = mail.id, error = %e, "queued email dropped");
                MailOutcome::Done
            }
            Ok(email) => {
                let result = transport.send(&email).await;
                app.metrics.mail_sent(&result);
                settled(mail.id, mail.attempts, result, app.clock.now())
            }
        }
    };
    if let Err(e) = app.store.mail_settle(mail.id, owner, outcome).await {
        // The lease lapses and the email is tried again: sent twice at worst.
        tracing::warn!(id = mail.id, error = %e, "mail queue: settling an email failed");
    }
}

/// What a send's result does to its row.
fn settled(id: i64, attempts: u32, result: Result<(), SendError>, now: Timestamp) -> MailOutcome {
    match result {
        Ok(()) => {
            tracing::debug!(id, attempts, "email sent");
            MailOutcome::Done
        }
        Err(SendError::Permanent(error)) => {
            tracing::error!(id, %error, "email refused for good; dropped");
            MailOutcome::Done
        }
        Err(SendError::Transient(error)) => {
            let wait = backoff(attempts);
            tracing::warn!(id, attempts = attempts + 1, retry_in_s = wait.as_secs(), %error, "email not sent yet");
            MailOutcome::Retry { at: now.plus(wait), error }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_minute() {
        let waits: Vec<u64> = (0..9).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn a_send_settles_its_row() {
        let now = Timestamp(10_000);
        assert_eq!(settled(1, 0, Ok(()), now), MailOutcome::Done);
        assert_eq!(settled(1, 0, Err(SendError::Permanent("550 no such user".into())), now), MailOutcome::Done);
        assert_eq!(
            settled(1, 2, Err(SendError::Transient("connection refused".into())), now),
            MailOutcome::Retry { at: Timestamp(14_000), error: "connection refused".into() }
        );
    }
}
