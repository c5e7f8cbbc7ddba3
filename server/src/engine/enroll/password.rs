//! A new password: checked against the password policy, then hashed (argon2id).

use passway_protocol::Submission;

use super::{Made, activated};
use crate::authenticators::AuthenticatorKind;
use crate::authenticators::password;
use crate::engine::Target;
use crate::engine::{Effect, Env, Flow, Notice, Outcome, Proof, text_of};

/// Saves the password typed (and counts it as proven), or says what is wrong with it.
pub(in crate::engine) fn create(
    mut flow: Flow,
    values: &Submission,
    remediation: &'static str,
    env: &mut Env<'_>,
) -> Made {
    let user_id = flow.account.clone().expect("a password is set for a known account");
    let email = flow.subject.as_ref().map(|s| s.email.clone()).unwrap_or_default();
    let typed = text_of(values, "password");
    if let Err(refusal) = env.settings.passwords.check(typed, &email) {
        let mut notice = Notice::error(refusal.key).on("password");
        notice.params = refusal.params;
        return Made::Retry(Outcome::invalid(flow, remediation, values, vec![notice]));
    }
    let hash = password::hash(typed, env.settings.passwords.cost, env.rng);
    let effects = vec![
        Effect::SetPassword { user_id: user_id.clone(), hash, at: env.now },
        activated(
            user_id.clone(),
            email,
            Target::Authenticator { kind: AuthenticatorKind::Password, user_id },
            AuthenticatorKind::Password,
            "Password set",
        ),
    ];
    flow.proofs.retain(|p| p.authenticator != AuthenticatorKind::Password);
    flow.proofs.push(Proof { authenticator: AuthenticatorKind::Password, at: env.now });
    Made::Saved(flow, effects)
}
