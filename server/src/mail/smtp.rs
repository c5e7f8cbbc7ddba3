use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::mpsc;

use super::RenderedEmail;
use crate::config::{SmtpConfig, SmtpSecurity};

/// Hands emails to a background task that delivers them over SMTP.
#[derive(Clone)]
pub struct SmtpSender {
    queue: mpsc::Sender<RenderedEmail>,
}

/// Delays between delivery attempts of one email.
const RETRY_DELAYS: [Duration; 3] = [Duration::from_secs(1), Duration::from_secs(5), Duration::from_secs(25)];

#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error("mail.from {0:?} is not a mailbox")]
    From(String),
    #[error("environment variable {0} (mail.smtp.password_env) is not set")]
    Password(String),
    #[error("SMTP transport for {host}: {source}")]
    Transport { host: String, source: lettre::transport::smtp::Error },
}

impl SmtpSender {
    /// Builds the transport and starts the sending task.
    pub fn start(config: &SmtpConfig, from: &str) -> Result<SmtpSender, SmtpSetupError> {
        let from: Mailbox = from.parse().map_err(|_| SmtpSetupError::From(from.to_owned()))?;
        let transport_error = |source| SmtpSetupError::Transport { host: config.host.clone(), source };
        let mut builder = match config.security {
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host).map_err(transport_error)?,
            SmtpSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host).map_err(transport_error)?
            }
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
        }
        .port(config.port)
        .timeout(Some(Duration::from_secs(10)));
        if let Some(user) = &config.username {
            let password = match &config.password_env {
                Some(var) => std::env::var(var).map_err(|_| SmtpSetupError::Password(var.clone()))?,
                None => String::new(),
            };
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        let transport = builder.build();
        let (queue, mut rx) = mpsc::channel::<RenderedEmail>(1024);
        tokio::spawn(async move {
            while let Some(email) = rx.recv().await {
                deliver(&transport, &from, email).await;
            }
        });
        Ok(SmtpSender { queue })
    }

    /// Queues an email; if the queue is full the email is dropped and logged (the
    /// person can ask for another one).
    pub fn send(&self, email: RenderedEmail) {
        if let Err(e) = self.queue.try_send(email) {
            tracing::error!(error = %e, "mail queue full or closed; email dropped");
        }
    }
}

async fn deliver(transport: &AsyncSmtpTransport<Tokio1Executor>, from: &Mailbox, email: RenderedEmail) {
    let to: Mailbox = match email.to.parse() {
        Ok(to) => to,
        Err(e) => return tracing::error!(error = %e, "recipient is not a mailbox; email dropped"),
    };
    let message = match Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone())
        .multipart(MultiPart::alternative_plain_html(email.text.clone(), email.html.clone()))
    {
        Ok(m) => m,
        Err(e) => return tracing::error!(error = %e, "email could not be built; dropped"),
    };
    for (attempt, delay) in std::iter::once(Duration::ZERO).chain(RETRY_DELAYS).enumerate() {
        tokio::time::sleep(delay).await;
        match transport.send(message.clone()).await {
            Ok(_) => return tracing::debug!(attempt, "email delivered"),
            Err(e) => tracing::warn!(attempt, error = %e, "email delivery failed"),
        }
    }
    tracing::error!("email not delivered after {} attempts; dropped", RETRY_DELAYS.len() + 1);
}
