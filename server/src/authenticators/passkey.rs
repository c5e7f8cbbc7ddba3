//! The passkey authenticator (WebAuthn, user verification required).
//!
//! The ceremony itself — options, signature, counter, origin and RP ID checks — runs in
//! the shell with webauthn-rs; what reaches [`Authenticator::verify`] is its verified
//! outcome. A passkey proves possession and inherence, and resists phishing: the
//! browser binds each assertion to the origin.

use passway_protocol::{Field, FieldType, Submission};
use serde::{Deserialize, Serialize};

use super::{Authenticator, AuthenticatorKind, Characteristics, FactorType, Presentation, Verdict, VerifyContext};
use crate::crypto::Entropy;
use crate::engine::{Ceremony, CeremonyKind, CeremonyOutcome, Timestamp, ceremony};

pub const CHARACTERISTICS: Characteristics = Characteristics {
    factors: &[FactorType::Possession, FactorType::Inherence],
    phishing_resistant: true,
    // RFC 8176: proof of possession of a key, hardware or software held.
    amr: "pop",
};

/// A passkey challenge of a known account (identifier first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyChallenge {
    pub ceremony: Ceremony,
    pub user_id: String,
}

pub struct Passkey;

/// The field a client fills with the ceremony's result (JSON).
/// Whether a stored passkey (webauthn-rs's `Passkey`, serialised) may be synced to its
/// owner's other devices (backup eligible), when it says.
pub fn synced(stored: &str) -> Option<bool> {
    let state: serde_json::Value = serde_json::from_str(stored).ok()?;
    state["cred"]["backup_eligible"].as_bool()
}

pub fn credential_field() -> Field {
    let mut f = Field::new("credential", FieldType::Hidden, "field.credential", "Passkey");
    f.required = true;
    f
}

impl Authenticator for Passkey {
    type Challenge = PasskeyChallenge;

    const KIND: AuthenticatorKind = AuthenticatorKind::Passkey;

    fn answer_fields(_: &PasskeyChallenge) -> Vec<Field> {
        vec![credential_field()]
    }

    fn verify(c: &mut PasskeyChallenge, _: &Submission, ctx: &VerifyContext<'_>) -> Verdict {
        let retry = |key| Verdict::Retry { key, params: vec![], failed_attempt: true };
        match ctx.ceremony {
            Some(CeremonyOutcome::Asserted { user_id, .. }) if *user_id == c.user_id => Verdict::Proven,
            // A valid passkey, of someone else: not an answer for this account.
            Some(CeremonyOutcome::Asserted { .. }) => retry("passkey.error.wrong_account"),
            Some(CeremonyOutcome::Failed(failure)) => retry(failure.key()),
            Some(CeremonyOutcome::Registered { .. }) | None => {
                Verdict::Retry { key: "passkey.error.missing", params: vec![], failed_attempt: false }
            }
        }
    }

    fn present(_: &PasskeyChallenge, _: Timestamp) -> Presentation {
        Presentation { display: "passkey".into(), expires_at: None, resend_after: None, out_of_band: false }
    }

    fn renew(c: &mut PasskeyChallenge, rng: &mut dyn Entropy) -> Option<Ceremony> {
        c.ceremony = ceremony::new(CeremonyKind::Authenticate { user_id: c.user_id.clone() }, rng);
        Some(c.ceremony.clone())
    }
}
