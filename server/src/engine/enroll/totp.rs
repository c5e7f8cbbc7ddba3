//! A new authenticator app (TOTP): the person scans the secret's QR code, then types a
//! first code to show the app has it. The secret is derived from a nonce in the flow
//! (see `authenticators::totp::pending_secret`), so it is at rest only sealed, once saved.

use passway_protocol::{Submission, names};

use super::{Made, activated};
use crate::authenticators::AuthenticatorKind;
use crate::authenticators::totp::{self, TotpSecret};
use crate::crypto::random_token;
use crate::engine::Target;
use crate::engine::{Effect, Env, Flow, Notice, Outcome, Proof, Step, text_of};

/// The enrolment step, with a new secret.
pub(in crate::engine) fn begin(mut flow: Flow, required: bool, env: &mut Env<'_>) -> Outcome {
    flow.step = Step::EnrollTotp { nonce: random_token(env.rng, 16), required };
    Outcome::new(flow)
}

/// The secret being set up at this step.
pub(in crate::engine) fn secret(flow: &Flow, keys: &crate::crypto::Keyring) -> Option<Vec<u8>> {
    match &flow.step {
        Step::EnrollTotp { nonce, .. } => Some(totp::pending_secret(keys, &flow.id, nonce)),
        _ => None,
    }
}

/// Saves the secret once a code from it is right (and counts it as proven).
pub(in crate::engine) fn create(mut flow: Flow, values: &Submission, env: &mut Env<'_>) -> Made {
    let secret = secret(&flow, env.keys).expect("offered only while setting up an app");
    let typed = totp::normalise(text_of(values, "code"));
    let step = typed.as_deref().and_then(|code| totp::matching_step(&secret, code, env.now, 0));
    let Some(step) = step else {
        let key = if typed.is_none() { "totp.error.malformed" } else { "totp.error.wrong" };
        return Made::Retry(Outcome::invalid(
            flow,
            names::ENROLL_AUTHENTICATOR,
            values,
            vec![Notice::error(key).on("code")],
        ));
    };
    let user_id = flow.account.clone().expect("an app is set up for a known account");
    let email = flow.subject.as_ref().map(|s| s.email.clone()).unwrap_or_default();
    let effects = vec![
        Effect::SaveTotp { user_id: user_id.clone(), totp: TotpSecret { secret, last_step: step }, at: env.now },
        activated(
            user_id.clone(),
            email,
            Target::Authenticator { kind: AuthenticatorKind::Totp, user_id },
            AuthenticatorKind::Totp,
            "Authenticator app enrolled",
        ),
    ];
    flow.proofs.retain(|p| p.authenticator != AuthenticatorKind::Totp);
    flow.proofs.push(Proof { authenticator: AuthenticatorKind::Totp, at: env.now });
    Made::Saved(flow, effects)
}
