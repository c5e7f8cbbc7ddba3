//! A new passkey: a WebAuthn registration ceremony run by the browser and verified by
//! the shell before the step (`World::ceremony`).

use super::{Made, activated};
use crate::authenticators::AuthenticatorKind;
use crate::engine::Target;
use crate::engine::ceremony::{self, Ceremony, CeremonyKind, CeremonyOutcome};
use crate::engine::{Effect, Env, Flow, NewPasskey, Notice, Outcome, Proof, Step, World};

/// The registration ceremony for the flow's account.
pub(in crate::engine) fn ceremony(flow: &Flow, world: &World, env: &mut Env<'_>) -> Ceremony {
    let user_id = flow.account.clone().expect("a passkey is made for a known account");
    let email = flow.subject.as_ref().map(|s| s.email.clone()).unwrap_or_default();
    let display_name = display_name(flow, world, &email);
    ceremony::new(CeremonyKind::Register { user_id, email, display_name }, env.rng)
}

/// Saves the passkey the browser made (and counts it as proven: making it took user
/// verification), or offers a fresh ceremony with what went wrong.
pub(in crate::engine) fn create(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Made {
    match &world.ceremony {
        Some(CeremonyOutcome::Registered { cred_id, passkey }) => {
            let user_id = flow.account.clone().expect("a passkey is made for a known account");
            let email = flow.subject.as_ref().map(|s| s.email.clone()).unwrap_or_default();
            let effects = vec![
                Effect::SavePasskey(NewPasskey {
                    user_id: user_id.clone(),
                    cred_id: cred_id.clone(),
                    name: flow.requester.browser.clone(),
                    passkey: passkey.clone(),
                    created_at: env.now,
                }),
                activated(
                    user_id,
                    email,
                    Target::Passkey { id: cred_id.clone(), name: flow.requester.browser.clone() },
                    AuthenticatorKind::Passkey,
                    "Passkey enrolled",
                ),
            ];
            flow.proofs.retain(|p| p.authenticator != AuthenticatorKind::Passkey);
            flow.proofs.push(Proof { authenticator: AuthenticatorKind::Passkey, at: env.now });
            Made::Saved(flow, effects)
        }
        outcome => {
            let key = match outcome {
                Some(CeremonyOutcome::Failed(failure)) => failure.key(),
                _ => "passkey.error.missing",
            };
            // The ceremony was spent: offer a fresh one.
            let fresh = match &mut flow.step {
                Step::EnrollPasskey { ceremony, .. } | Step::ResetPasskey { ceremony } => {
                    *ceremony = ceremony::new(ceremony.kind.clone(), env.rng);
                    ceremony.clone()
                }
                _ => unreachable!("a passkey is created only while creating one"),
            };
            let mut out = Outcome::new(flow).notice(Notice::error(key));
            out.effects.push(Effect::BeginCeremony(fresh));
            Made::Retry(out)
        }
    }
}

/// How the person is named on their device's passkey list.
fn display_name(flow: &Flow, world: &World, email: &str) -> String {
    let profile = world.user.as_ref().map(|u| &u.profile).unwrap_or(&flow.profile);
    let name: Vec<&str> =
        ["given_name", "family_name"].iter().filter_map(|k| profile.get(*k).map(String::as_str)).collect();
    if name.is_empty() { email.to_owned() } else { name.join(" ") }
}
