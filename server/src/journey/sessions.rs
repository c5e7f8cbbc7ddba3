//! SSO sessions as stored: the browser holds a random cookie value, the store its
//! digest, the account and the authenticators proven (with their factor types, for
//! the system of record and later assurance decisions).

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::authenticators::{AuthenticatorKind, FactorType};
use crate::crypto::sha256;
use crate::engine::{NewSession, Proof, Session, Timestamp};
use crate::store::{StoreError, StoredSession};

/// One proof as recorded in a session.
#[derive(Debug, Serialize, Deserialize)]
struct Recorded {
    authenticator: AuthenticatorKind,
    at: Timestamp,
    #[serde(default)]
    factors: Vec<FactorType>,
}

pub fn encode_proofs(proofs: &[Proof]) -> String {
    let recorded: Vec<Recorded> = proofs
        .iter()
        .map(|p| Recorded {
            authenticator: p.authenticator,
            at: p.at,
            factors: p.authenticator.characteristics().factors.to_vec(),
        })
        .collect();
    serde_json::to_string(&recorded).expect("proofs serialise")
}

pub fn decode_proofs(text: &str) -> Result<Vec<Proof>, StoreError> {
    let recorded: Vec<Recorded> =
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("session proofs: {e}")))?;
    Ok(recorded.into_iter().map(|r| Proof { authenticator: r.authenticator, at: r.at }).collect())
}

pub fn stored(s: &NewSession, now: Timestamp) -> StoredSession {
    StoredSession {
        id: s.id.clone(),
        secret_hash: s.secret_hash,
        user_id: s.user_id.clone(),
        proofs: encode_proofs(&s.proofs),
        created_at: now,
        last_seen_at: now,
        expires_at: s.expires_at,
        revoked_at: None,
        browser: s.browser.clone(),
        ip: s.ip.clone(),
    }
}

/// The live session behind a cookie value, with its account (gone accounts end it).
pub async fn load(app: &AppState, cookie: &str) -> Result<Option<Session>, StoreError> {
    let now = app.clock.now();
    let Some(s) = app.store.session(&sha256(cookie.as_bytes()), now).await? else { return Ok(None) };
    let Some(user) = app.store.user_by_id(&s.user_id).await? else { return Ok(None) };
    Ok(Some(Session { id: s.id, user, proofs: decode_proofs(&s.proofs)?, last_seen_at: s.last_seen_at }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_round_trip_with_factor_types() {
        let proofs = vec![
            Proof { authenticator: AuthenticatorKind::Email, at: Timestamp(5) },
            Proof { authenticator: AuthenticatorKind::Passkey, at: Timestamp(9) },
        ];
        let text = encode_proofs(&proofs);
        assert!(text.contains(r#""factors":["possession"]"#), "{text}");
        assert_eq!(decode_proofs(&text).unwrap(), proofs);
    }
}
