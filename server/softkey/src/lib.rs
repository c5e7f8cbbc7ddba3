//! A software WebAuthn authenticator: what a browser and a platform authenticator
//! would answer to Passway's WebAuthn options, byte for byte (attestation `none`,
//! ES256, discoverable with a user handle). Every part of an answer can be bent, so
//! tests can check that the server refuses what it must.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SystemRandom, fill};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Flag bits of authenticator data.
pub const UP: u8 = 0x01;
pub const UV: u8 = 0x04;
pub const BE: u8 = 0x08;
pub const BS: u8 = 0x10;
pub const AT: u8 = 0x40;

/// One credential, as a platform authenticator holds it.
pub struct SoftKey {
    pair: EcdsaKeyPair,
    pub cred_id: Vec<u8>,
    /// Signature counter; incremented before each assertion (0 keeps it at 0).
    pub counter: u32,
    pub counting: bool,
    /// The user handle learnt at registration (returned with assertions).
    pub user_handle: Option<Vec<u8>>,
    /// Extra flag bits (e.g. BE | BS for a synced passkey).
    pub extra_flags: u8,
    /// Leave user verification out.
    pub skip_uv: bool,
    /// Use this RP ID in the authenticator data instead of the one asked for.
    pub rp_id_override: Option<String>,
    /// Flip a bit of the signature.
    pub tamper_signature: bool,
}

impl Default for SoftKey {
    fn default() -> Self {
        SoftKey::new()
    }
}

impl SoftKey {
    pub fn new() -> SoftKey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).expect("fresh key");
        let mut cred_id = vec![0u8; 32];
        fill(&mut cred_id).expect("random");
        SoftKey {
            pair,
            cred_id,
            counter: 0,
            counting: true,
            user_handle: None,
            extra_flags: 0,
            skip_uv: false,
            rp_id_override: None,
            tamper_signature: false,
        }
    }

    pub fn cred_id_b64(&self) -> String {
        b64(&self.cred_id)
    }

    /// Answers `navigator.credentials.create(options)` from `origin`. `options` is
    /// `{"publicKey": {...}}` as Passway sends it (the `create` of a remediation's `webauthn`).
    pub fn register(&mut self, options: &Value, origin: &str) -> Value {
        let pk = &options["publicKey"];
        let rp_id = pk["rp"]["id"].as_str().expect("rp.id");
        self.user_handle = pk["user"]["id"].as_str().map(|h| URL_SAFE_NO_PAD.decode(h).expect("user.id is base64url"));
        let client_data = client_data("webauthn.create", pk["challenge"].as_str().expect("challenge"), origin);
        let mut auth_data = self.auth_data_head(rp_id, AT, 0);
        auth_data.extend_from_slice(&[0u8; 16]); // AAGUID
        auth_data.extend_from_slice(&(self.cred_id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&self.cred_id);
        auth_data.extend_from_slice(&self.cose_key());
        let mut attestation = vec![0xa3];
        attestation.extend(cbor_text("fmt"));
        attestation.extend(cbor_text("none"));
        attestation.extend(cbor_text("attStmt"));
        attestation.push(0xa0);
        attestation.extend(cbor_text("authData"));
        attestation.extend(cbor_bytes(&auth_data));
        json!({
            "id": b64(&self.cred_id),
            "rawId": b64(&self.cred_id),
            "type": "public-key",
            "response": { "attestationObject": b64(&attestation), "clientDataJSON": b64(client_data.as_bytes()) },
            "extensions": {},
        })
    }

    /// Answers `navigator.credentials.get(options)` from `origin`.
    pub fn assert(&mut self, options: &Value, origin: &str) -> Value {
        let pk = &options["publicKey"];
        let rp_id = pk["rpId"].as_str().expect("rpId");
        if self.counting {
            self.counter += 1;
        }
        let client_data = client_data("webauthn.get", pk["challenge"].as_str().expect("challenge"), origin);
        let auth_data = self.auth_data_head(rp_id, 0, self.counter);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(digest(&SHA256, client_data.as_bytes()).as_ref());
        let mut signature = self.pair.sign(&SystemRandom::new(), &signed).expect("signing").as_ref().to_vec();
        if self.tamper_signature {
            let last = signature.len() - 1;
            signature[last] ^= 0x01;
        }
        json!({
            "id": b64(&self.cred_id),
            "rawId": b64(&self.cred_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(client_data.as_bytes()),
                "signature": b64(&signature),
                "userHandle": self.user_handle.as_deref().map(b64),
            },
            "extensions": {},
        })
    }

    fn auth_data_head(&self, rp_id: &str, more_flags: u8, counter: u32) -> Vec<u8> {
        let rp_id = self.rp_id_override.as_deref().unwrap_or(rp_id);
        let mut out = digest(&SHA256, rp_id.as_bytes()).as_ref().to_vec();
        let uv = if self.skip_uv { 0 } else { UV };
        out.push(UP | uv | self.extra_flags | more_flags);
        out.extend_from_slice(&counter.to_be_bytes());
        out
    }

    /// The public key as a COSE_Key (kty EC2, alg ES256, crv P-256).
    fn cose_key(&self) -> Vec<u8> {
        let point = self.pair.public_key().as_ref();
        let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
        out.extend_from_slice(&point[1..33]);
        out.extend_from_slice(&[0x22, 0x58, 0x20]);
        out.extend_from_slice(&point[33..65]);
        out
    }
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> String {
    json!({ "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false }).to_string()
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn cbor_head(major: u8, len: usize) -> Vec<u8> {
    match len {
        0..=23 => vec![major << 5 | len as u8],
        24..=255 => vec![major << 5 | 24, len as u8],
        _ => {
            let mut v = vec![major << 5 | 25];
            v.extend_from_slice(&(len as u16).to_be_bytes());
            v
        }
    }
}

fn cbor_text(s: &str) -> Vec<u8> {
    let mut v = cbor_head(3, s.len());
    v.extend_from_slice(s.as_bytes());
    v
}

fn cbor_bytes(b: &[u8]) -> Vec<u8> {
    let mut v = cbor_head(2, b.len());
    v.extend_from_slice(b);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_lengths() {
        assert_eq!(cbor_text("fmt"), [0x63, b'f', b'm', b't']);
        assert_eq!(cbor_bytes(&[0; 30])[..2], [0x58, 30]);
        assert_eq!(cbor_bytes(&[0; 300])[..3], [0x59, 0x01, 0x2c]);
    }

    #[test]
    fn answers_have_the_browser_shape() {
        let mut key = SoftKey::new();
        let create =
            json!({"publicKey": {"rp": {"id": "example.com"}, "user": {"id": "AAEC"}, "challenge": "Y2hhbGxlbmdl"}});
        let reg = key.register(&create, "https://example.com");
        assert_eq!(reg["type"], "public-key");
        assert_eq!(key.user_handle.as_deref(), Some(&[0u8, 1, 2][..]));
        let get = json!({"publicKey": {"rpId": "example.com", "challenge": "Y2hhbGxlbmdl"}});
        let a1 = key.assert(&get, "https://example.com");
        let a2 = key.assert(&get, "https://example.com");
        assert_ne!(a1["response"]["authenticatorData"], a2["response"]["authenticatorData"], "the counter moves");
        assert_eq!(a1["response"]["userHandle"], "AAEC");
    }
}
