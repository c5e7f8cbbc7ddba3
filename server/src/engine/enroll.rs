//! Enrolling an authenticator after sign-in: `select-authenticator-enroll` offers what
//! the app's enrollment policy wants and the account lacks, `enroll-authenticator`
//! creates it (a passkey: a WebAuthn ceremony run by the client; a password: checked
//! against the password policy and hashed), and `skip` while all of it is optional.

use passway_protocol::{Submission, names};

use super::ceremony::{self, CeremonyKind, CeremonyOutcome};
use super::finish::{self, SignIn};
use super::{
    Effect, Enrollment, Env, Flow, LogEntry, LogOutcome, NewPasskey, Notice, Outcome, Proof, Severity, Step, World,
};
use super::{methods, text_of};
use crate::authenticators::AuthenticatorKind;

/// What the enrollment policy still wants of the signed-in account: (authenticator,
/// required). An optional offer is made once per sign-in, not on a session resume.
pub(super) fn pending(flow: &Flow, world: &World, env: &Env<'_>, how: SignIn) -> Vec<(AuthenticatorKind, bool)> {
    let policy = methods::enrollments(flow, env);
    [AuthenticatorKind::Passkey, AuthenticatorKind::Password]
        .into_iter()
        .filter(|kind| methods::enrollable(*kind, flow, env) && methods::lacks(*kind, flow, world))
        .filter_map(|kind| match policy.of(kind) {
            Enrollment::Required => Some((kind, true)),
            Enrollment::Optional if how == SignIn::Fresh => Some((kind, false)),
            _ => None,
        })
        .collect()
}

/// Asks to enrol one of `options`: the choice (`select-authenticator-enroll`), or a
/// password form at once when a password is all there is to choose.
pub(super) fn offer(mut flow: Flow, required: bool, options: Vec<AuthenticatorKind>) -> Outcome {
    flow.step = match options.as_slice() {
        [AuthenticatorKind::Password] => Step::EnrollPassword { required },
        _ => Step::EnrollSelect { required, options },
    };
    Outcome::new(flow)
}

pub(super) fn select(mut flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let Step::EnrollSelect { required, .. } = flow.step else { unreachable!("offered only when offering enrollment") };
    let chosen =
        super::forms::enroll_options(&flow.step).into_iter().find(|k| k.key() == text_of(values, "authenticator"));
    match chosen {
        Some(AuthenticatorKind::Passkey) => {}
        Some(AuthenticatorKind::Password) => {
            flow.step = Step::EnrollPassword { required };
            return Outcome::new(flow);
        }
        Some(AuthenticatorKind::Email) | None => {
            return Outcome::invalid(
                flow,
                names::SELECT_AUTHENTICATOR_ENROLL,
                values,
                vec![Notice::error("field.invalid").on("authenticator")],
            );
        }
    }
    let user_id = flow.account.clone().expect("enrollment follows sign-in");
    let email = flow.subject.as_ref().map(|s| s.email.clone()).unwrap_or_default();
    let display_name = display_name(&flow, world, &email);
    let c = ceremony::new(CeremonyKind::Register { user_id, email, display_name }, env.rng);
    flow.step = Step::EnrollPasskey { ceremony: c.clone(), required };
    Outcome { effects: vec![Effect::BeginCeremony(c)], ..Outcome::new(flow) }
}

/// `enroll-authenticator`: a new passkey or password.
pub(super) fn submit(flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    match flow.step {
        Step::EnrollPassword { .. } => submit_password(flow, values, world, env),
        _ => submit_passkey(flow, world, env),
    }
}

/// A new password, checked against the password policy.
fn submit_password(mut flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let user_id = flow.account.clone().expect("enrollment follows sign-in");
    let email = flow.subject.as_ref().map(|s| s.email.clone()).unwrap_or_default();
    let typed = text_of(values, "password");
    if let Err(refusal) = env.settings.passwords.check(typed, &email) {
        let mut notice = Notice::error(refusal.key).on("password");
        notice.params = refusal.params;
        return Outcome::invalid(flow, names::ENROLL_AUTHENTICATOR, values, vec![notice]);
    }
    let hash = crate::authenticators::password::hash(typed, env.settings.passwords.cost, env.rng);
    let save = Effect::SetPassword { user_id: user_id.clone(), hash, at: env.now };
    let log = activated(user_id, email, "password", "Password enrolled");
    flow.proofs.push(Proof { authenticator: AuthenticatorKind::Password, at: env.now });
    let mut out = finish::signed_in(flow, finish::SignIn::Fresh, world, env);
    out.effects.splice(0..0, [save, log]);
    out
}

fn activated(user_id: String, email: String, what: &str, message: &str) -> Effect {
    Effect::Log(LogEntry {
        event_type: "user.mfa.factor.activate",
        severity: Severity::Info,
        outcome: LogOutcome::Success,
        reason: Some(what.into()),
        actor: Some((user_id, email)),
        message: message.into(),
    })
}

/// The browser created a passkey; the shell verified it.
fn submit_passkey(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
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
            let log = activated(user_id, email, "passkey", "Passkey enrolled");
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

/// `skip`: no authenticator now. Offered only while everything on offer is optional
/// (and the app's assurance does not need it), so the sign-on policy is already met.
pub(super) fn skip(flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    finish::consent_or_complete(flow, world, env)
}

/// How the person is named on their device's passkey list.
fn display_name(flow: &Flow, world: &World, email: &str) -> String {
    let profile = world.user.as_ref().map(|u| &u.profile).unwrap_or(&flow.profile);
    let name: Vec<&str> =
        ["given_name", "family_name"].iter().filter_map(|k| profile.get(*k).map(String::as_str)).collect();
    if name.is_empty() { email.to_owned() } else { name.join(" ") }
}
