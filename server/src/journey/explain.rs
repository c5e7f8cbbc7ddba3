//! Explaining a policy decision (`passway policy explain`, and the admin endpoint): load
//! the account the question is about, then run the engine's dry run.

use crate::authenticators::AuthenticatorKind;
use crate::config::Config;
use crate::crypto::{Keyring, SystemEntropy};
use crate::engine::explain::{Explanation, Question};
use crate::engine::{Timestamp, validate};
use crate::policy::{Platform, RiskLevel};
use crate::store::{Store, StoreError};

/// A question as given on the command line or in the query string.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub app: String,
    pub user: String,
    pub groups: Vec<String>,
    pub ip: Option<String>,
    pub platform: Option<String>,
    pub new_device: Option<bool>,
    /// Authenticators proven in an SSO session, e.g. `email` or `email,passkey`.
    pub session: Option<String>,
    pub acr_values: Option<String>,
    /// `low`, `medium` or `high` (default low: nothing assesses risk yet).
    pub risk: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("no app has client_id {0:?}")]
    UnknownApp(String),
    #[error("{0:?} is not an email address")]
    BadEmail(String),
    #[error("{0:?} is not an IP address")]
    BadIp(String),
    #[error("unknown platform {0:?}: expected one of windows, macos, linux, chromeos, ios, android, other")]
    BadPlatform(String),
    #[error("unknown authenticator {0:?} in the session: expected email, passkey, password or totp")]
    BadAuthenticator(String),
    #[error("unknown risk {0:?}: expected low, medium or high")]
    BadRisk(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn explain(
    store: &dyn Store,
    config: &Config,
    ask: &Ask,
    now: Timestamp,
) -> Result<Explanation, ExplainError> {
    let app = config.app(&ask.app).ok_or_else(|| ExplainError::UnknownApp(ask.app.clone()))?;
    let settings = config.app_settings(app);
    let email = validate::email(&ask.user).map_err(|_| ExplainError::BadEmail(ask.user.clone()))?;
    if let Some(ip) = &ask.ip
        && ip.parse::<std::net::IpAddr>().is_err()
    {
        return Err(ExplainError::BadIp(ip.clone()));
    }
    let platform = match &ask.platform {
        None => Platform::Other,
        Some(p) => Platform::from_name(p).ok_or_else(|| ExplainError::BadPlatform(p.clone()))?,
    };
    let risk = match &ask.risk {
        None => RiskLevel::Low,
        Some(r) => RiskLevel::from_name(r).ok_or_else(|| ExplainError::BadRisk(r.clone()))?,
    };
    let mut session = vec![];
    for key in ask.session.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        let kind = AuthenticatorKind::ALL
            .into_iter()
            .find(|k| k.key() == key)
            .ok_or_else(|| ExplainError::BadAuthenticator(key.to_owned()))?;
        session.push(kind);
    }
    let (mut password, mut totp) = (false, false);
    let account = match store.user_by_email(&email).await? {
        Some(user) => {
            let passkeys = if settings.passkeys { store.passkeys_of(&user.id).await?.len() } else { 0 };
            password = store.password(&user.id).await?.is_some();
            totp = store.totp(&user.id).await?.is_some();
            Some((user, passkeys))
        }
        None => None,
    };
    let question = Question {
        email,
        account,
        password,
        totp,
        groups: ask.groups.clone(),
        ip: ask.ip.clone(),
        platform,
        new_device: ask.new_device,
        session,
        acr_values: ask.acr_values.clone(),
        risk,
    };
    // The dry run draws codes and handles it never shows: any key and randomness will do.
    let keys = Keyring::from_master(&[0; 32]);
    Ok(crate::engine::explain::explain(&question, &settings, &config.engine, now, &mut SystemEntropy, &keys))
}
