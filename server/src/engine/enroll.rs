//! Enrolling an authenticator after sign-in: `select-authenticator-enroll` offers what
//! the enrollment policy allows, `enroll-authenticator` creates it (a passkey: a
//! WebAuthn ceremony run by the client), and `skip` while the policy makes it optional.

use passway_protocol::{Submission, names};

use super::ceremony::{self, CeremonyKind, CeremonyOutcome};
use super::{
    Effect, Env, Flow, LogEntry, LogOutcome, NewPasskey, Notice, Outcome, PasskeyEnrollment, Proof, Severity, Step,
    World,
};
use super::{finish, text_of};
use crate::authenticators::AuthenticatorKind;

pub(super) fn select(mut flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let Step::EnrollSelect { required } = flow.step else { unreachable!("offered only when offering enrollment") };
    if text_of(values, "authenticator") != AuthenticatorKind::Passkey.key() {
        return Outcome::invalid(
            flow,
            names::SELECT_AUTHENTICATOR_ENROLL,
            values,
            vec![Notice::error("field.invalid").on("authenticator")],
        );
    }
    let user_id = flow.account.clone().expect("enrollment follows sign-in");
    let email = flow.subject.as_ref().map(|s| s.email.clone()).unwrap_or_default();
    let display_name = display_name(&flow, world, &email);
    let c = ceremony::new(CeremonyKind::Register { user_id, email, display_name }, env.rng);
    flow.step = Step::EnrollPasskey { ceremony: c.clone(), required };
    Outcome { effects: vec![Effect::BeginCeremony(c)], ..Outcome::new(flow) }
}

/// `enroll-authenticator`: the browser created a passkey; the shell verified it.
pub(super) fn submit(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    let Step::EnrollPasskey { ceremony, required } = &flow.step else {
        unreachable!("offered only while creating a passkey")
    };
    let required = *required;
    match &world.ceremony {
        Some(CeremonyOutcome::Registered { cred_id, passkey }) => {
            let user_id = flow.account.clone().expect("enrollment follows sign-in");
            let email = flow.subject.as_ref().map(|s| s.email.clone()).unwrap_or_default();
            let save = Effect::SavePasskey(NewPasskey {
                user_id: user_id.clone(),
                cred_id: cred_id.clone(),
                name: flow.requester.browser.clone(),
                passkey: passkey.clone(),
                created_at: env.now,
            });
            let log = Effect::Log(LogEntry {
                event_type: "user.mfa.factor.activate",
                severity: Severity::Info,
                outcome: LogOutcome::Success,
                reason: Some("passkey".into()),
                actor: Some((user_id, email)),
                message: "Passkey enrolled".into(),
            });
            // Creating it required user verification: it is proven too.
            flow.proofs.push(Proof { authenticator: AuthenticatorKind::Passkey, at: env.now });
            let mut out = finish::signed_in(flow, finish::SignIn::Fresh, world, env);
            out.effects.splice(0..0, [save, log]);
            out
        }
        outcome => {
            let key = match outcome {
                Some(CeremonyOutcome::Failed(failure)) => failure.key(),
                _ => "passkey.error.missing",
            };
            // The ceremony was spent: offer a fresh one.
            let c = ceremony::new(ceremony.kind.clone(), env.rng);
            flow.step = Step::EnrollPasskey { ceremony: c.clone(), required };
            let mut out = Outcome::new(flow).notice(Notice::error(key));
            out.effects.push(Effect::BeginCeremony(c));
            out
        }
    }
}

/// `skip`: no authenticator now. Offered only while the policy makes it optional (and
/// the app's assurance does not need it), so the sign-on policy is already met.
pub(super) fn skip(flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    debug_assert_eq!(env.app.passkey_enrollment, PasskeyEnrollment::Optional);
    finish::consent_or_complete(flow, world, env)
}

/// How the person is named on their device's passkey list.
fn display_name(flow: &Flow, world: &World, email: &str) -> String {
    let profile = world.user.as_ref().map(|u| &u.profile).unwrap_or(&flow.profile);
    let name: Vec<&str> =
        ["given_name", "family_name"].iter().filter_map(|k| profile.get(*k).map(String::as_str)).collect();
    if name.is_empty() { email.to_owned() } else { name.join(" ") }
}
