//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): which client asks,
//! for whom (`id_token_hint`), and where the browser may go after.

use serde_json::Value;

use super::KeySet;
use crate::config::{App, Config};
use crate::engine::Timestamp;

#[derive(Debug, Clone, Default)]
pub struct LogoutParams<'a> {
    pub id_token_hint: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// A logout request that may be honoured.
#[derive(Debug, Clone)]
pub struct Logout<'c> {
    pub app: Option<&'c App>,
    /// The account the hint names: its presence proves the client asked.
    pub subject: Option<String>,
    /// Where to send the browser after, `state` appended.
    pub redirect_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoutError {
    #[error("the id_token_hint is not an ID token this server issued")]
    BadHint,
    #[error("client_id does not match the id_token_hint's audience")]
    ClientMismatch,
    #[error("no app is registered with this client_id")]
    UnknownClient,
    #[error("post_logout_redirect_uri needs a client: send id_token_hint or client_id")]
    RedirectWithoutClient,
    #[error("post_logout_redirect_uri is not registered for this app")]
    UnregisteredRedirect,
}

/// Checks the request. An expired hint is still a hint (the spec allows it); a hint
/// signed by a key no longer published is not.
pub fn check<'c>(
    config: &'c Config,
    keys: &KeySet,
    issuer: &str,
    p: &LogoutParams<'_>,
    now: Timestamp,
) -> Result<Logout<'c>, LogoutError> {
    let (mut client_id, mut subject) = (None, None);
    if let Some(hint) = p.id_token_hint.filter(|h| !h.is_empty()) {
        let verified = keys.verify(hint, now).ok_or(LogoutError::BadHint)?;
        let claims = &verified.claims;
        if claims.get("iss").and_then(Value::as_str) != Some(issuer)
            || verified.header.get("typ").and_then(Value::as_str) != Some("JWT")
        {
            return Err(LogoutError::BadHint);
        }
        let aud = match claims.get("aud") {
            Some(Value::String(a)) => a.clone(),
            Some(Value::Array(a)) if a.len() == 1 => a[0].as_str().ok_or(LogoutError::BadHint)?.to_owned(),
            _ => return Err(LogoutError::BadHint),
        };
        subject = Some(claims.get("sub").and_then(Value::as_str).ok_or(LogoutError::BadHint)?.to_owned());
        client_id = Some(aud);
    }
    if let Some(c) = p.client_id.filter(|c| !c.is_empty()) {
        if client_id.as_deref().is_some_and(|hinted| hinted != c) {
            return Err(LogoutError::ClientMismatch);
        }
        client_id = Some(c.to_owned());
    }
    let app = match &client_id {
        Some(id) => Some(config.app(id).ok_or(LogoutError::UnknownClient)?),
        None => None,
    };
    let redirect_to = match p.post_logout_redirect_uri.filter(|u| !u.is_empty()) {
        None => None,
        Some(uri) => {
            let app = app.ok_or(LogoutError::RedirectWithoutClient)?;
            if !app.post_logout_redirect_uris.iter().any(|u| u == uri) {
                return Err(LogoutError::UnregisteredRedirect);
            }
            let mut url = url::Url::parse(uri).map_err(|_| LogoutError::UnregisteredRedirect)?;
            if let Some(state) = p.state.filter(|s| !s.is_empty()) {
                url.query_pairs_mut().append_pair("state", state);
            }
            Some(url.into())
        }
    };
    Ok(Logout { app, subject, redirect_to })
}
