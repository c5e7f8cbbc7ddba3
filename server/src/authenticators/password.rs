//! The password authenticator: something the person knows, hashed with argon2id.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so each carries the
//! cost it was made with and can be verified after the configured cost changes. The
//! default cost is OWASP's first argon2id recommendation (19 MiB, 2 passes, 1 lane).
//! Hashing and verifying are pure but take tens of milliseconds: the shell runs steps
//! that do either off its async threads (`engine::hashes_password`).
//!
//! A password challenge is offered for any address typed in an app that uses passwords,
//! whether or not it has an account or a password: one without is checked against a
//! decoy hash of the same cost and always fails, so neither the answer nor its timing
//! tells them apart. Wrong answers count towards a lockout per address (see
//! [`super::lockout`]); while locked, no answer is checked and the person can still
//! prove who they are another way.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use passway_protocol::{Field, FieldType, Submission};
use serde::{Deserialize, Serialize};

use super::{Authenticator, AuthenticatorKind, Characteristics, FactorType, Presentation, Verdict, VerifyContext};
use crate::crypto::Entropy;
use crate::engine::Timestamp;

pub const CHARACTERISTICS: Characteristics =
    Characteristics { factors: &[FactorType::Knowledge], phishing_resistant: false, amr: "pwd" };

/// A password challenge. It keeps nothing: the hash to check is loaded with the step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChallenge {}

/// The argon2id cost of new hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashCost {
    /// OWASP Password Storage Cheat Sheet: m=19456 KiB, t=2, p=1.
    pub const OWASP: HashCost = HashCost { memory_kib: 19_456, iterations: 2, parallelism: 1 };
    /// The cheapest argon2 allows: for tests only.
    pub const TEST: HashCost = HashCost { memory_kib: 8, iterations: 1, parallelism: 1 };
}

/// A new PHC string for `password`, salted with 16 bytes from `rng`.
pub fn hash(password: &str, cost: HashCost, rng: &mut dyn Entropy) -> String {
    let mut salt = [0u8; 16];
    rng.fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes are a valid salt");
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .expect("hash cost checked when the configuration was loaded");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id accepts any password up to the policy's maximum length")
        .to_string()
}

/// Whether `password` matches the PHC string `phc` (with the cost `phc` names). A
/// corrupt or foreign hash matches nothing.
pub fn matches(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) if parsed.algorithm == argon2::ARGON2ID_IDENT => {
            Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
        }
        _ => false,
    }
}

/// Whether `cost` is one argon2 accepts (checked when the configuration loads).
pub fn valid_cost(cost: HashCost) -> bool {
    Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None).is_ok()
}

/// A hash at `cost` that no typed password is checked in vain against faster than a
/// real one: verified when the address has no password. Made once per cost.
pub fn decoy(cost: HashCost) -> &'static str {
    static DECOYS: std::sync::Mutex<Vec<(HashCost, &'static str)>> = std::sync::Mutex::new(vec![]);
    let mut decoys = DECOYS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, phc)) = decoys.iter().find(|(c, _)| *c == cost) {
        return phc;
    }
    struct Fixed;
    impl Entropy for Fixed {
        fn fill(&mut self, buf: &mut [u8]) {
            buf.fill(0x5a);
        }
    }
    let phc: &'static str = Box::leak(hash("decoy: never the answer", cost, &mut Fixed).into_boxed_str());
    decoys.push((cost, phc));
    phc
}

pub struct Password;

/// The field the current password is typed in.
pub fn current_password_field() -> Field {
    password_field("password", "field.password", "Password", "current-password")
}

/// The field a new password is chosen in (enrolment, reset).
pub fn new_password_field(min_length: u32, max_length: u32) -> Field {
    let mut f = password_field("password", "field.new_password", "New password", "new-password");
    f.min_length = Some(min_length);
    f.max_length = Some(max_length);
    f
}

fn password_field(name: &str, label_key: &str, label: &str, autocomplete: &str) -> Field {
    let mut f = Field::new(name, FieldType::Password, label_key, label);
    f.required = true;
    f.autocomplete = Some(autocomplete.into());
    f
}

impl Authenticator for Password {
    type Challenge = PasswordChallenge;

    const KIND: AuthenticatorKind = AuthenticatorKind::Password;

    fn answer_fields(_: &PasswordChallenge) -> Vec<Field> {
        vec![current_password_field()]
    }

    fn verify(_: &mut PasswordChallenge, answer: &Submission, ctx: &VerifyContext<'_>) -> Verdict {
        let typed = answer.get("password").and_then(|v| v.as_text()).unwrap_or("");
        if typed.is_empty() {
            return Verdict::Retry { key: "field.required", params: vec![], failed_attempt: false };
        }
        if let Some(minutes) = ctx.attempt.minutes_locked(ctx.now) {
            return Verdict::Retry {
                key: "password.error.locked",
                params: vec![("minutes", minutes.to_string())],
                failed_attempt: false,
            };
        }
        // The same work with or without a password to check.
        let right = match ctx.password {
            Some(phc) => matches(typed, phc),
            None => {
                std::hint::black_box(matches(typed, ctx.decoy_password));
                false
            }
        };
        if right {
            Verdict::Proven
        } else {
            Verdict::Retry { key: "password.error.wrong", params: vec![], failed_attempt: true }
        }
    }

    fn is_attempt(_: &PasswordChallenge, answer: &Submission, _: Timestamp) -> bool {
        answer.get("password").and_then(|v| v.as_text()).is_some_and(|t| !t.is_empty())
    }

    fn present(_: &PasswordChallenge, _: Timestamp) -> Presentation {
        Presentation { display: "password".into(), expires_at: None, resend_after: None, out_of_band: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(u8);
    impl Entropy for Counter {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                self.0 = self.0.wrapping_add(1);
                *b = self.0;
            }
        }
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse battery staple", HashCost::TEST, &mut Counter(0));
        assert!(phc.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{phc}");
        assert!(matches("correct horse battery staple", &phc));
        assert!(!matches("correct horse battery stapl", &phc));
        assert!(!matches("", &phc));
    }

    #[test]
    fn salts_differ_so_hashes_differ() {
        let mut rng = Counter(0);
        let a = hash("same password", HashCost::TEST, &mut rng);
        let b = hash("same password", HashCost::TEST, &mut rng);
        assert_ne!(a, b);
        assert!(matches("same password", &a) && matches("same password", &b));
    }

    #[test]
    fn corrupt_or_foreign_hashes_match_nothing() {
        assert!(!matches("x", "not a phc string"));
        assert!(!matches("x", ""));
        // A valid argon2i string: only argon2id is accepted.
        let argon2i = "$argon2i$v=19$m=8,t=1,p=1$AQIDBAUGBwgJCgsMDQ4PEA$0jvUNTw/Y2Q/LdSBsHWJAw";
        assert!(!matches("x", argon2i));
    }

    #[test]
    fn the_owasp_cost_is_valid_and_zero_memory_is_not() {
        assert!(valid_cost(HashCost::OWASP));
        assert!(valid_cost(HashCost::TEST));
        assert!(!valid_cost(HashCost { memory_kib: 0, iterations: 1, parallelism: 1 }));
    }
}
