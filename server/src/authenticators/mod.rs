//! Authenticators: the strategies that prove who someone is.
//!
//! Each authenticator lives in its own file and implements [`Authenticator`]: the
//! challenge state it keeps in the flow while the person answers, the fields of the
//! answer, a pure verification of it, and what a client needs to present it. The
//! engine drives every challenge through that trait (via `engine::Challenge`); what it
//! proves — factor types, phishing resistance, `amr` — comes from [`Characteristics`].
//! Adding an authenticator is a new file, one variant of [`AuthenticatorKind`] and one
//! of `engine::Challenge`.

pub mod email;
pub mod lockout;
pub mod passkey;
pub mod password;
pub mod password_policy;
pub mod totp;

use std::time::Duration;

use passway_protocol::{Field, Submission};
use serde::{Deserialize, Serialize};

use crate::crypto::{Entropy, Keyring};
use crate::engine::{Ceremony, CeremonyOutcome, Timestamp};

/// A strategy for proving who someone is, while one of its challenges is under way.
pub trait Authenticator {
    /// What the flow keeps while the person answers (digests only, never a secret).
    type Challenge;

    const KIND: AuthenticatorKind;

    /// The fields the person answers with (`challenge-authenticator`).
    fn answer_fields(challenge: &Self::Challenge) -> Vec<Field>;

    /// Checks an answer.
    fn verify(challenge: &mut Self::Challenge, answer: &Submission, ctx: &VerifyContext<'_>) -> Verdict;

    /// Whether `answer` is one [`Authenticator::verify`] would check against the secret
    /// (a guessable one counts towards the lockout); an empty or malformed one is not.
    fn is_attempt(_challenge: &Self::Challenge, _answer: &Submission, _now: Timestamp) -> bool {
        false
    }

    /// What a client needs to present the challenge.
    fn present(challenge: &Self::Challenge, now: Timestamp) -> Presentation;

    /// After a failed answer: a fresh ceremony to begin, for authenticators whose
    /// ceremonies are single use.
    fn renew(_challenge: &mut Self::Challenge, _rng: &mut dyn Entropy) -> Option<Ceremony> {
        None
    }
}

/// What a verification may use besides the challenge and the answer.
#[derive(Clone, Copy)]
pub struct VerifyContext<'a> {
    pub flow_id: &'a str,
    pub now: Timestamp,
    pub keys: &'a Keyring,
    /// The verified outcome of the WebAuthn ceremony submitted, if one was.
    pub ceremony: Option<&'a CeremonyOutcome>,
    /// The account's password hash (PHC string), when it has one.
    pub password: Option<&'a str>,
    /// Checked instead when there is none, so the answer takes as long.
    pub decoy_password: &'a str,
    /// The attempt reserved for this answer, or the lock that refuses it.
    pub attempt: lockout::Reservation,
    /// The account's TOTP secret, when it has one.
    pub totp: Option<&'a totp::TotpSecret>,
}

/// How an answer went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Proven,
    /// Not proven; the person may answer again. `key` names the problem (i18n), shown on
    /// the answer field; `failed_attempt` when it counts as a failed authentication.
    Retry {
        key: &'static str,
        params: Vec<(&'static str, String)>,
        failed_attempt: bool,
    },
    /// The challenge is over; the journey starts again.
    Ended {
        key: &'static str,
    },
}

/// How to present a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    /// What to show about the authenticator, e.g. the masked email address.
    pub display: String,
    pub expires_at: Option<Timestamp>,
    /// `Some` when the challenge can be sent again: how long until it may.
    pub resend_after: Option<Duration>,
    /// Whether it can be proven out of band (a link), so a client should poll.
    pub out_of_band: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthenticatorKind {
    /// Magic link or one-time code sent by email.
    Email,
    /// A WebAuthn credential with user verification.
    Passkey,
    /// A password (argon2id).
    Password,
    /// Six-digit codes from an authenticator app (RFC 6238).
    Totp,
}

/// NIST SP 800-63B factor types. Two authenticators of the same type are one factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorType {
    Knowledge,
    Possession,
    Inherence,
}

/// What an authenticator proves, for assurance decisions and the ID token's `amr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Characteristics {
    pub factors: &'static [FactorType],
    pub phishing_resistant: bool,
    /// RFC 8176 style authentication method reference.
    pub amr: &'static str,
}

impl AuthenticatorKind {
    pub const ALL: [AuthenticatorKind; 4] =
        [AuthenticatorKind::Email, AuthenticatorKind::Passkey, AuthenticatorKind::Password, AuthenticatorKind::Totp];

    /// The stable key used on the wire (`current_authenticator.key`).
    pub fn key(self) -> &'static str {
        match self {
            AuthenticatorKind::Email => "email",
            AuthenticatorKind::Passkey => "passkey",
            AuthenticatorKind::Password => "password",
            AuthenticatorKind::Totp => "totp",
        }
    }

    pub fn from_key(key: &str) -> Option<AuthenticatorKind> {
        AuthenticatorKind::ALL.into_iter().find(|k| k.key() == key)
    }

    pub fn characteristics(self) -> Characteristics {
        match self {
            AuthenticatorKind::Email => email::CHARACTERISTICS,
            AuthenticatorKind::Passkey => passkey::CHARACTERISTICS,
            AuthenticatorKind::Password => password::CHARACTERISTICS,
            AuthenticatorKind::Totp => totp::CHARACTERISTICS,
        }
    }
}
