//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): a receiver checks
//! them with any of that spec's libraries. The signed content is
//! `{webhook-id}.{webhook-timestamp}.{body}`, HMAC-SHA256 under the secret's bytes, sent
//! as `webhook-signature: v1,{base64}`.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::Secret;

/// How far a timestamp may be from now for [`verify`] (the spec's suggestion).
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// A `whsec_…` secret's bytes; `None` if it is not one (base64 of 24 to 64 bytes).
pub fn parse_secret(text: &str) -> Option<Secret> {
    let bytes = STANDARD.decode(text.trim().strip_prefix("whsec_")?).ok()?;
    (24..=64).contains(&bytes.len()).then_some(Secret(bytes))
}

/// A new random secret, as `whsec_` and the base64 of 32 bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    crate::crypto::Entropy::fill(&mut crate::crypto::SystemEntropy, &mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` header for a delivery.
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &secret.0);
    let tag = hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(tag.as_ref()))
}

/// Whether a delivery's headers are right for `body` (any of the space-separated
/// signatures), at `now` (Unix seconds): what a receiver does.
pub fn verify(secret: &Secret, id: &str, timestamp: &str, signatures: &str, body: &str, now: i64) -> bool {
    let Ok(ts) = timestamp.parse::<i64>() else { return false };
    if (now - ts).abs() > TOLERANCE_SECONDS {
        return false;
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, &secret.0);
    let signed = format!("{id}.{ts}.{body}");
    signatures
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|sig| STANDARD.decode(sig).is_ok_and(|tag| hmac::verify(&key, signed.as_bytes(), &tag).is_ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_secret_parses_and_differs_each_time() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(parse_secret(&a).map(|s| s.0.len()), Some(32));
    }

    /// The example of the Standard Webhooks spec and its libraries' tests.
    #[test]
    fn the_specs_example() {
        let secret = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let (id, ts, body) = ("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, r#"{"test": 2432232314}"#);
        let signature = sign(&secret, id, ts, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify(&secret, id, "1614265330", &signature, body, ts + 10));
        assert!(verify(&secret, id, "1614265330", &format!("v1,bm90IGl0 {signature}"), body, ts));
        assert!(!verify(&secret, id, "1614265330", &signature, r#"{"test": 1}"#, ts), "another body");
        assert!(!verify(&secret, "msg_other", "1614265330", &signature, body, ts), "another id");
        assert!(!verify(&secret, id, "1614265330", &signature, body, ts + 3600), "too old");
    }

    #[test]
    fn secrets() {
        assert!(parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_some());
        assert!(parse_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_none(), "no prefix");
        assert!(parse_secret("whsec_c2hvcnQ=").is_none(), "too short");
        assert!(parse_secret("whsec_not base64!").is_none());
    }
}
