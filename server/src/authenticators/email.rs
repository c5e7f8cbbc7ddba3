//! The email authenticator: one email carries both a magic link and a six-digit code.
//!
//! Both are derived from one 256-bit secret that exists only in the email: the link
//! carries it, the code is a keyed hash of it. The flow stores a digest of the secret
//! and a MAC of the code, never either in clear. The link proves possession only when
//! opened in the browser that asked (same device cookie); elsewhere it shows the code
//! to type there, so a link forwarded or prefetched by a mail scanner signs no one in.

use std::time::Duration;

use passway_protocol::{Field, FieldType, Submission};
use serde::{Deserialize, Serialize};

use super::{Authenticator, AuthenticatorKind, Characteristics, FactorType, Presentation, Verdict, VerifyContext};
use crate::crypto::{Digest, Entropy, Keyring, b64url, sha256};
use crate::engine::Timestamp;

pub const CHARACTERISTICS: Characteristics =
    Characteristics { factors: &[FactorType::Possession], phishing_resistant: false, amr: "email" };

/// How long an emailed link and code stay valid.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(10 * 60);
/// Wrong codes tolerated before the challenge ends.
pub const MAX_ATTEMPTS: u8 = 5;
/// Minimum time between two emails of one flow.
pub const RESEND_COOLDOWN: Duration = Duration::from_secs(30);
/// Emails one flow may send in all.
pub const MAX_EMAILS_PER_FLOW: u8 = 5;
pub const CODE_DIGITS: usize = 6;

/// Why an email is sent; decides its wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    SignIn,
    Register,
    /// Account recovery (a forgotten password).
    Recover,
    /// Recovery asked for an address without an account: the email says so, and has
    /// no link and no code.
    NoAccount,
}

/// An email challenge in progress, as stored in the flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailChallenge {
    pub email: String,
    pub purpose: Purpose,
    /// SHA-256 of the link secret.
    pub link: Digest,
    /// MAC of the code, bound to the flow.
    pub code: Digest,
    pub sent_at: Timestamp,
    pub expires_at: Timestamp,
    pub attempts_left: u8,
    /// Set when the link was opened in the requesting browser.
    pub proven_by_link_at: Option<Timestamp>,
    /// Set once the link has been used to prove; it cannot prove twice.
    pub link_used: bool,
}

/// What must reach the inbox; never stored by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// `{flow id}.{secret}`, the query value of the magic link.
    pub link_token: String,
    pub code: String,
}

pub enum CodeVerdict {
    Accepted,
    /// Not six digits: does not cost an attempt.
    Malformed,
    Wrong {
        attempts_left: u8,
    },
    /// That was the last attempt: the challenge is over.
    Exhausted,
    Expired,
}

pub enum LinkVerdict {
    /// Opened in the browser that asked: the challenge is proven.
    Proven,
    /// Opened elsewhere: show this code to type in the browser that asked.
    OtherDevice {
        code: String,
    },
    AlreadyUsed,
    Expired,
    Invalid,
}

impl EmailChallenge {
    /// Creates a challenge for `email` and the secret to mail.
    pub fn issue(
        flow_id: &str,
        email: &str,
        purpose: Purpose,
        now: Timestamp,
        rng: &mut dyn Entropy,
        keys: &Keyring,
    ) -> (EmailChallenge, Secret) {
        let mut raw = [0u8; 32];
        rng.fill(&mut raw);
        let secret = b64url(&raw);
        let code = derive_code(keys, &secret);
        let challenge = EmailChallenge {
            email: email.to_owned(),
            purpose,
            link: sha256(secret.as_bytes()),
            code: code_mac(keys, flow_id, &code),
            sent_at: now,
            expires_at: now.plus(CHALLENGE_TTL),
            attempts_left: MAX_ATTEMPTS,
            proven_by_link_at: None,
            link_used: false,
        };
        (challenge, Secret { link_token: format!("{flow_id}.{secret}"), code })
    }

    pub fn check_code(&mut self, flow_id: &str, typed: &str, now: Timestamp, keys: &Keyring) -> CodeVerdict {
        if now >= self.expires_at {
            return CodeVerdict::Expired;
        }
        if self.attempts_left == 0 {
            return CodeVerdict::Exhausted;
        }
        let Some(typed) = normalise_code(typed) else { return CodeVerdict::Malformed };
        if code_mac(keys, flow_id, &typed).ct_eq(&self.code) {
            // The code is single use, like the link.
            self.attempts_left = 0;
            self.link_used = true;
            return CodeVerdict::Accepted;
        }
        self.attempts_left -= 1;
        if self.attempts_left == 0 {
            CodeVerdict::Exhausted
        } else {
            CodeVerdict::Wrong { attempts_left: self.attempts_left }
        }
    }

    /// A magic link was opened; `same_device` says whether it was the browser that asked.
    pub fn open_link(&mut self, secret: &str, same_device: bool, now: Timestamp, keys: &Keyring) -> LinkVerdict {
        if !sha256(secret.as_bytes()).ct_eq(&self.link) {
            return LinkVerdict::Invalid;
        }
        if self.link_used || self.attempts_left == 0 {
            return LinkVerdict::AlreadyUsed;
        }
        if now >= self.expires_at {
            return LinkVerdict::Expired;
        }
        if !same_device {
            return LinkVerdict::OtherDevice { code: derive_code(keys, secret) };
        }
        self.link_used = true;
        self.proven_by_link_at = Some(now);
        LinkVerdict::Proven
    }

    pub fn proven_by_link(&self) -> bool {
        self.proven_by_link_at.is_some()
    }

    /// Seconds until a resend is allowed.
    pub fn resend_wait(&self, now: Timestamp) -> Duration {
        now.until(self.sent_at.plus(RESEND_COOLDOWN))
    }
}

/// The email authenticator.
pub struct Email;

impl Authenticator for Email {
    type Challenge = EmailChallenge;

    const KIND: AuthenticatorKind = AuthenticatorKind::Email;

    fn answer_fields(_: &EmailChallenge) -> Vec<Field> {
        let mut code = Field::new("code", FieldType::Otp, "field.code", "Code");
        code.required = true;
        code.autocomplete = Some("one-time-code".into());
        code.input_mode = Some("numeric".into());
        vec![code]
    }

    fn verify(c: &mut EmailChallenge, answer: &Submission, ctx: &VerifyContext<'_>) -> Verdict {
        let typed = answer.get("code").and_then(|v| v.as_text()).unwrap_or("");
        let retry = |key, failed_attempt| Verdict::Retry { key, params: vec![], failed_attempt };
        // Too many wrong codes for this address, across flows: codes are not checked
        // for a while, but the link (256 bits, not guessable) still works.
        if let Some(minutes) = ctx.attempt.minutes_locked(ctx.now) {
            return Verdict::Retry {
                key: "email.code.locked",
                params: vec![("minutes", minutes.to_string())],
                failed_attempt: false,
            };
        }
        match c.check_code(ctx.flow_id, typed, ctx.now, ctx.keys) {
            CodeVerdict::Accepted => Verdict::Proven,
            CodeVerdict::Malformed => retry("email.code.malformed", false),
            CodeVerdict::Expired => retry("email.code.expired", false),
            CodeVerdict::Wrong { attempts_left } => Verdict::Retry {
                key: "email.code.wrong",
                params: vec![("attempts", attempts_left.to_string())],
                failed_attempt: true,
            },
            CodeVerdict::Exhausted => Verdict::Ended { key: "email.code.exhausted" },
        }
    }

    fn is_attempt(c: &EmailChallenge, answer: &Submission, now: Timestamp) -> bool {
        let typed = answer.get("code").and_then(|v| v.as_text()).unwrap_or("");
        now < c.expires_at && c.attempts_left > 0 && normalise_code(typed).is_some()
    }

    fn present(c: &EmailChallenge, now: Timestamp) -> Presentation {
        Presentation {
            display: mask(&c.email),
            expires_at: Some(c.expires_at),
            resend_after: Some(c.resend_wait(now)),
            out_of_band: true,
        }
    }
}

/// A code as typed by people (spaces, a dash), if it is six digits.
fn normalise_code(typed: &str) -> Option<String> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (code.len() == CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// Six decimal digits derived from the link secret under the server key.
fn derive_code(keys: &Keyring, secret: &str) -> String {
    let mac = keys.mac(&[b"email-code-derivation", secret.as_bytes()]);
    let n = u64::from_be_bytes(mac.0[..8].try_into().expect("8 bytes"));
    format!("{:0width$}", n % 10u64.pow(CODE_DIGITS as u32), width = CODE_DIGITS)
}

fn code_mac(keys: &Keyring, flow_id: &str, code: &str) -> Digest {
    keys.mac(&[b"email-code", flow_id.as_bytes(), code.as_bytes()])
}

/// `j***@example.com`: enough to recognise one's address, not to learn someone else's.
pub fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::entropy::testing::CountingEntropy;

    fn setup() -> (EmailChallenge, Secret, Keyring, Timestamp) {
        let keys = Keyring::from_master(&[3; 32]);
        let now = Timestamp::from_unix_seconds(1_000_000);
        let (c, s) = EmailChallenge::issue("flow1", "a@b.c", Purpose::SignIn, now, &mut CountingEntropy(0), &keys);
        (c, s, keys, now)
    }

    #[test]
    fn code_is_six_digits_and_secret_not_stored() {
        let (c, s, _, _) = setup();
        assert_eq!(s.code.len(), 6);
        assert!(s.link_token.starts_with("flow1."));
        let stored = serde_json::to_string(&c).unwrap();
        let secret = s.link_token.split_once('.').unwrap().1;
        assert!(!stored.contains(secret) && !stored.contains(&s.code), "{stored}");
    }

    #[test]
    fn right_code_once() {
        let (mut c, s, keys, now) = setup();
        assert!(matches!(c.check_code("flow1", &s.code, now, &keys), CodeVerdict::Accepted));
        assert!(matches!(c.check_code("flow1", &s.code, now, &keys), CodeVerdict::Exhausted));
    }

    #[test]
    fn code_is_bound_to_flow() {
        let (mut c, s, keys, now) = setup();
        assert!(matches!(c.check_code("flow2", &s.code, now, &keys), CodeVerdict::Wrong { attempts_left: 4 }));
    }

    #[test]
    fn five_wrong_codes_end_it() {
        let (mut c, s, keys, now) = setup();
        let wrong = if s.code == "000000" { "111111" } else { "000000" };
        for left in (1..5).rev() {
            assert!(
                matches!(c.check_code("flow1", wrong, now, &keys), CodeVerdict::Wrong { attempts_left } if attempts_left == left)
            );
        }
        assert!(matches!(c.check_code("flow1", wrong, now, &keys), CodeVerdict::Exhausted));
        assert!(matches!(c.check_code("flow1", &s.code, now, &keys), CodeVerdict::Exhausted));
    }

    #[test]
    fn malformed_costs_nothing_and_spaces_are_ignored() {
        let (mut c, s, keys, now) = setup();
        assert!(matches!(c.check_code("flow1", "12ab", now, &keys), CodeVerdict::Malformed));
        assert_eq!(c.attempts_left, MAX_ATTEMPTS);
        let spaced = format!("{} {}", &s.code[..3], &s.code[3..]);
        assert!(matches!(c.check_code("flow1", &spaced, now, &keys), CodeVerdict::Accepted));
    }

    #[test]
    fn expiry() {
        let (mut c, s, keys, now) = setup();
        let late = now.plus(CHALLENGE_TTL);
        assert!(matches!(c.check_code("flow1", &s.code, late, &keys), CodeVerdict::Expired));
        let secret = s.link_token.split_once('.').unwrap().1;
        assert!(matches!(c.open_link(secret, true, late, &keys), LinkVerdict::Expired));
    }

    #[test]
    fn link_same_device_proves_once_other_device_shows_code() {
        let (mut c, s, keys, now) = setup();
        let secret = s.link_token.split_once('.').unwrap().1;
        match c.open_link(secret, false, now, &keys) {
            LinkVerdict::OtherDevice { code } => assert_eq!(code, s.code),
            _ => panic!("expected other-device verdict"),
        }
        assert!(!c.proven_by_link());
        assert!(matches!(c.open_link(secret, true, now, &keys), LinkVerdict::Proven));
        assert!(c.proven_by_link());
        assert!(matches!(c.open_link(secret, true, now, &keys), LinkVerdict::AlreadyUsed));
        assert!(matches!(c.open_link("forged", true, now, &keys), LinkVerdict::Invalid));
    }

    #[test]
    fn masking() {
        assert_eq!(mask("jane@example.com"), "j***@example.com");
        assert_eq!(mask("nonsense"), "***");
    }
}
