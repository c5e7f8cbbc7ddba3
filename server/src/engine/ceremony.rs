//! WebAuthn ceremonies, as the engine sees them. The engine decides *that* a ceremony
//! is needed and for whom ([`Ceremony`], requested with `Effect::BeginCeremony`); the
//! shell runs webauthn-rs (which draws its own randomness, so it cannot run here),
//! keeps the ceremony's state in the store, and hands the engine the verified
//! [`CeremonyOutcome`] of an answer.

use serde::{Deserialize, Serialize};

/// A ceremony the flow is waiting on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ceremony {
    pub id: String,
    pub kind: CeremonyKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CeremonyKind {
    /// Create a passkey for this account.
    Register { user_id: String, email: String, display_name: String },
    /// Sign in with one of this account's passkeys.
    Authenticate { user_id: String },
    /// Sign in with any passkey, the account unknown until then (autofill).
    Discoverable,
}

/// What the shell learnt from the browser's answer to a ceremony.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CeremonyOutcome {
    /// A valid assertion by `cred_id`, a passkey of `user_id` (user verified).
    Asserted {
        user_id: String,
        cred_id: String,
        /// The passkey's new stored form when its counter or flags changed.
        updated: Option<String>,
    },
    /// A valid new passkey (user verified), not yet stored.
    Registered {
        cred_id: String,
        passkey: String,
    },
    Failed(CeremonyFailure),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyFailure {
    /// No usable answer: not JSON, or not a credential.
    Malformed,
    /// The ceremony was already answered, or expired.
    Gone,
    /// The credential is not registered here.
    UnknownCredential,
    /// The signature, origin, RP ID, challenge or flags did not verify.
    Invalid,
    /// The signature counter went backwards: the passkey may have been cloned.
    PossibleClone,
    /// This credential is already registered.
    AlreadyRegistered,
}

impl CeremonyFailure {
    /// The i18n key explaining it.
    pub fn key(self) -> &'static str {
        match self {
            CeremonyFailure::Malformed | CeremonyFailure::Invalid => "passkey.error.invalid",
            CeremonyFailure::Gone => "passkey.error.expired",
            CeremonyFailure::UnknownCredential => "passkey.error.unknown",
            CeremonyFailure::PossibleClone => "passkey.error.possible_clone",
            CeremonyFailure::AlreadyRegistered => "passkey.error.already_registered",
        }
    }

    /// Why, for the system log.
    pub fn reason(self) -> &'static str {
        match self {
            CeremonyFailure::Malformed => "malformed credential",
            CeremonyFailure::Gone => "ceremony already used or expired",
            CeremonyFailure::UnknownCredential => "unknown credential",
            CeremonyFailure::Invalid => "verification failed",
            CeremonyFailure::PossibleClone => "signature counter went backwards: possible cloned passkey",
            CeremonyFailure::AlreadyRegistered => "credential already registered",
        }
    }
}

/// A new ceremony with a random id.
pub fn new(kind: CeremonyKind, rng: &mut dyn crate::crypto::Entropy) -> Ceremony {
    Ceremony { id: crate::crypto::random_token(rng, 16), kind }
}
