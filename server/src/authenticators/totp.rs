//! TOTP (RFC 6238): six-digit codes from an authenticator app, a new one every 30
//! seconds, from a secret shared once at enrolment (through a QR code).
//!
//! - A code is accepted for its own 30-second step and the one before and after
//!   (clock drift), and only for a step later than the last one accepted: each code
//!   works once, even within its window. The store refuses a step that is not later
//!   than the one it holds, so two instances cannot both accept the same code.
//! - Codes are guessable (a million of them, three valid at a time), so wrong ones
//!   count towards the lockout (see [`super::lockout`]).
//! - The secret is stored sealed (AES-256-GCM under the master key); while it is being
//!   enrolled the flow keeps only a nonce, and the secret is a MAC of it under the
//!   keyring, so it is never at rest in clear.

use aws_lc_rs::hmac;
use passway_protocol::{Field, FieldType, Submission};
use serde::{Deserialize, Serialize};

use super::{Authenticator, AuthenticatorKind, Characteristics, FactorType, Presentation, Verdict, VerifyContext};
use crate::crypto::Keyring;
use crate::engine::Timestamp;

pub const CHARACTERISTICS: Characteristics =
    Characteristics { factors: &[FactorType::Possession], phishing_resistant: false, amr: "otp" };

pub const DIGITS: usize = 6;
pub const PERIOD_SECONDS: i64 = 30;
/// Steps accepted either side of the current one.
const DRIFT_STEPS: i64 = 1;
/// 160 bits, as RFC 4226 recommends for HMAC-SHA-1.
pub const SECRET_BYTES: usize = 20;

/// An account's TOTP secret, as the shell hands it to the engine (unsealed).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret {
    pub secret: Vec<u8>,
    /// The last step a code was accepted for (0: none yet).
    pub last_step: i64,
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TotpSecret(.., last_step: {})", self.last_step)
    }
}

/// A TOTP challenge. `accepted` is the step of the code that proved it, once one did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpChallenge {
    #[serde(default)]
    pub accepted: Option<i64>,
}

/// The time step `now` falls in.
pub fn step_at(now: Timestamp) -> i64 {
    now.unix_seconds().div_euclid(PERIOD_SECONDS)
}

/// The code for `step` (RFC 4226 HOTP with the step as counter).
pub fn code(secret: &[u8], step: i64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([mac[offset] & 0x7f, mac[offset + 1], mac[offset + 2], mac[offset + 3]]);
    format!("{:0width$}", binary % 10u32.pow(DIGITS as u32), width = DIGITS)
}

/// The step `typed` is the code of: within the drift window around `now`, later than
/// `after`. Every candidate is compared (in constant time), whichever matches.
pub fn matching_step(secret: &[u8], typed: &str, now: Timestamp, after: i64) -> Option<i64> {
    let current = step_at(now);
    let mut found = None;
    for step in current - DRIFT_STEPS..=current + DRIFT_STEPS {
        let expected = code(secret, step);
        let same: bool = subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), typed.as_bytes()).into();
        if same && step > after && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The secret being enrolled in flow `flow_id` under `nonce`: derived, not stored.
pub fn pending_secret(keys: &Keyring, flow_id: &str, nonce: &str) -> Vec<u8> {
    keys.mac(&[b"totp-enrolment", flow_id.as_bytes(), nonce.as_bytes()]).0[..SECRET_BYTES].to_vec()
}

/// Base32 (RFC 4648, no padding), as authenticator apps take secrets.
pub fn base32(bytes: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

/// The `otpauth://` URI an authenticator app reads from the QR code (Google
/// Authenticator's key URI format, understood by every authenticator app).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={PERIOD_SECONDS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

/// The code field (challenge and enrolment).
pub fn code_field() -> Field {
    let mut f = Field::new("code", FieldType::Otp, "field.totp_code", "Code from your authenticator app");
    f.required = true;
    f.autocomplete = Some("one-time-code".into());
    f.min_length = Some(DIGITS as u32);
    f.max_length = Some(DIGITS as u32);
    f.pattern = Some("[0-9]{6}".into());
    f.input_mode = Some("numeric".into());
    f
}

/// A typed code, without the spaces people type in the middle, if it has the shape of one.
pub fn normalise(typed: &str) -> Option<String> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == DIGITS && code.chars().all(|c| c.is_ascii_digit())).then_some(code)
}

pub struct Totp;

impl Authenticator for Totp {
    type Challenge = TotpChallenge;

    const KIND: AuthenticatorKind = AuthenticatorKind::Totp;

    fn answer_fields(_: &TotpChallenge) -> Vec<Field> {
        vec![code_field()]
    }

    fn verify(challenge: &mut TotpChallenge, answer: &Submission, ctx: &VerifyContext<'_>) -> Verdict {
        let typed = answer.get("code").and_then(|v| v.as_text()).unwrap_or("");
        let Some(typed) = normalise(typed) else {
            return Verdict::Retry { key: "totp.error.malformed", params: vec![], failed_attempt: false };
        };
        if let Some(minutes) = ctx.attempt.minutes_locked(ctx.now) {
            return Verdict::Retry {
                key: "totp.error.locked",
                params: vec![("minutes", minutes.to_string())],
                failed_attempt: false,
            };
        }
        let accepted = ctx.totp.and_then(|t| matching_step(&t.secret, &typed, ctx.now, t.last_step));
        match accepted {
            Some(step) => {
                challenge.accepted = Some(step);
                Verdict::Proven
            }
            None => Verdict::Retry { key: "totp.error.wrong", params: vec![], failed_attempt: true },
        }
    }

    fn is_attempt(_: &TotpChallenge, answer: &Submission, _: Timestamp) -> bool {
        normalise(answer.get("code").and_then(|v| v.as_text()).unwrap_or("")).is_some()
    }

    fn present(_: &TotpChallenge, _: Timestamp) -> Presentation {
        Presentation { display: "authenticator app".into(), expires_at: None, resend_after: None, out_of_band: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B (SHA-1 key), truncated to six digits.
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        let cases = [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ];
        for (time, expected) in cases {
            assert_eq!(code(secret, step_at(Timestamp::from_unix_seconds(time))), expected, "T={time}");
        }
    }

    #[test]
    fn a_code_works_within_its_window_and_only_after_the_last_step_used() {
        let secret = b"12345678901234567890";
        let now = Timestamp::from_unix_seconds(1_111_111_111);
        let step = step_at(now);
        assert_eq!(matching_step(secret, &code(secret, step), now, 0), Some(step));
        assert_eq!(matching_step(secret, &code(secret, step - 1), now, 0), Some(step - 1), "the previous step");
        assert_eq!(matching_step(secret, &code(secret, step + 1), now, 0), Some(step + 1), "the next step");
        assert_eq!(matching_step(secret, &code(secret, step - 2), now, 0), None, "too old");
        assert_eq!(matching_step(secret, &code(secret, step), now, step), None, "already used");
        assert_eq!(matching_step(secret, &code(secret, step - 1), now, step - 1), None, "used, still in the window");
    }

    #[test]
    fn codes_are_read_as_typed_by_people() {
        assert_eq!(normalise(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalise("12345"), None);
        assert_eq!(normalise("12345a"), None);
        assert_eq!(normalise("١٢٣٤٥٦"), None, "ASCII digits only");
    }

    #[test]
    fn the_uri_names_the_issuer_and_account_and_carries_the_secret() {
        let uri = otpauth_uri("Acme Shop", "ada@example.com", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20Shop:ada%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Shop&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn pending_secrets_depend_on_flow_nonce_and_master_key() {
        let k = Keyring::from_master(&[1; 32]);
        let a = pending_secret(&k, "f1", "n1");
        assert_eq!(a.len(), SECRET_BYTES);
        assert_eq!(a, pending_secret(&k, "f1", "n1"));
        assert_ne!(a, pending_secret(&k, "f1", "n2"));
        assert_ne!(a, pending_secret(&k, "f2", "n1"));
        assert_ne!(a, pending_secret(&Keyring::from_master(&[2; 32]), "f1", "n1"));
    }
}
