//! The SMTP connection: lettre's async transport with a pool of connections, so that
//! a burst of emails reuses a few sessions instead of a handshake each. What to send
//! and when is the worker's (`mail::worker`); this only sends one message and says
//! whether trying again could help.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::RenderedEmail;
use crate::config::{SmtpConfig, SmtpSecurity};

/// How long one SMTP conversation may take before it counts as failed.
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub struct SmtpTransport {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error("mail.from {0:?} is not a mailbox")]
    From(String),
    #[error("environment variable {0} (mail.smtp.password_env) is not set")]
    Password(String),
    #[error("SMTP transport for {host}: {source}")]
    Transport { host: String, source: lettre::transport::smtp::Error },
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// It never can be (no such mailbox, refused for good): retrying would not help.
    #[error("{0}")]
    Permanent(String),
    /// The server is down, busy or said "later".
    #[error("{0}")]
    Transient(String),
}

impl SmtpTransport {
    /// Builds the transport; `connections` bounds the pool (and so the emails in flight).
    pub fn new(config: &SmtpConfig, from: &str, connections: u32) -> Result<SmtpTransport, SmtpSetupError> {
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
        .timeout(Some(TIMEOUT))
        .pool_config(PoolConfig::new().max_size(connections).idle_timeout(Duration::from_secs(60)));
        if let Some(user) = &config.username {
            let password = match &config.password_env {
                Some(var) => std::env::var(var).map_err(|_| SmtpSetupError::Password(var.clone()))?,
                None => String::new(),
            };
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(SmtpTransport { transport: builder.build(), from })
    }

    pub async fn send(&self, email: &RenderedEmail) -> Result<(), SendError> {
        let to: Mailbox =
            email.to.parse().map_err(|e| SendError::Permanent(format!("recipient is not a mailbox: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .multipart(MultiPart::alternative_plain_html(email.text.clone(), email.html.clone()))
            .map_err(|e| SendError::Permanent(format!("message could not be built: {e}")))?;
        match tokio::time::timeout(TIMEOUT * 2, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Ok(Err(e)) => Err(SendError::Transient(e.to_string())),
            Err(_) => Err(SendError::Transient("timed out".into())),
        }
    }
}
