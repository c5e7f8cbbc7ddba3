//! Compact JWS (RFC 7515) encoding and verification for the keys in [`super::keys`].

use serde::Serialize;
use serde_json::Value;

use crate::crypto::{b64url, b64url_decode};

/// `header.payload.signature`, with `sign` producing the signature over the first two.
pub fn encode(header: &Value, claims: &impl Serialize, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let mut token = b64url(&serde_json::to_vec(header).expect("JSON header"));
    token.push('.');
    token.push_str(&b64url(&serde_json::to_vec(claims).expect("JSON claims")));
    let signature = sign(token.as_bytes());
    token.push('.');
    token.push_str(&b64url(&signature));
    token
}

/// A token split and decoded, not yet verified.
pub struct Parts {
    pub header: Value,
    pub claims: Value,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

pub fn split(token: &str) -> Option<Parts> {
    let mut it = token.split('.');
    let (h, c, s) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let header = serde_json::from_slice(&b64url_decode(h)?).ok()?;
    let claims = serde_json::from_slice(&b64url_decode(c)?).ok()?;
    Some(Parts { header, claims, signing_input: format!("{h}.{c}"), signature: b64url_decode(s)? })
}
