//! Challenges: `challenge-authenticator` (an answer, checked by the authenticator under
//! way), `select-authenticator-authenticate` (another way to prove it), and for email
//! the link opened, `resend`, and `challenge-poll` that lets the waiting tab move on
//! once the link was opened.

use passway_protocol::{Intent, Submission, names};

use super::ceremony::CeremonyFailure;
use super::ceremony::{self, CeremonyKind, CeremonyOutcome};
use super::hook::{self, Commands, Decision, HookPoint};
use super::{
    Challenge, Effect, Env, EventType, Flow, LinkReply, LogEntry, LogOutcome, Notice, Outcome, OutgoingEmail, Proof,
    Reply,
};
use super::{Severity, Step, World, finish, identify, recover, register, text_of};
use crate::authenticators::email::{EmailChallenge, LinkVerdict, MAX_EMAILS_PER_FLOW, Purpose};
use crate::authenticators::lockout::{self, Reservation};
use crate::authenticators::passkey::PasskeyChallenge;
use crate::authenticators::password::{self, PasswordChallenge};
use crate::authenticators::totp::TotpChallenge;
use crate::authenticators::{AuthenticatorKind, Verdict, VerifyContext};

/// Mails a fresh challenge to the flow's subject, replacing any previous one.
pub(super) fn send(mut flow: Flow, purpose: Purpose, world: &World, env: &mut Env<'_>) -> Outcome {
    if flow.emails_sent >= MAX_EMAILS_PER_FLOW {
        return Outcome::new(flow).notice(Notice::error("email.send.limit"));
    }
    if let Some(wait) = world.email_wait {
        // The address had its share of emails (across flows): nothing is sent.
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return Outcome::new(flow)
            .notice(Notice::error("email.send.address_limit").with("minutes", minutes.to_string()));
    }
    let email = flow.subject.as_ref().expect("subject set before a challenge").email.clone();
    let (challenge, secret) = EmailChallenge::issue(&flow.id, &email, purpose, env.now, env.rng, env.keys);
    flow.emails_sent += 1;
    let expires_at = challenge.expires_at;
    flow.step = Step::Challenge(Challenge::Email(challenge));
    let mut out = Outcome::new(flow);
    out.effects.push(Effect::SendEmail(OutgoingEmail {
        to: email,
        client_id: out.flow.client_id.clone(),
        purpose,
        code: secret.code,
        link_token: secret.link_token,
        expires_at,
    }));
    out.effects.push(Effect::Log(
        LogEntry::new(EventType::UserAuthenticationChallengeSent, LogOutcome::Success, "Email challenge sent")
            .credential(AuthenticatorKind::Email)
            .debug(
                "purpose",
                match purpose {
                    Purpose::SignIn => "sign-in",
                    Purpose::Register => "registration",
                    Purpose::Recover => "recovery",
                    Purpose::NoAccount => "recovery of an address without an account",
                },
            ),
    ));
    out
}

/// A challenge of `kind` for the account `user_id` (known for all but email and
/// password, which are asked of any address); `purpose` words an email.
pub(super) fn begin(
    flow: Flow,
    kind: AuthenticatorKind,
    user_id: Option<&str>,
    purpose: Purpose,
    world: &World,
    env: &mut Env<'_>,
) -> Outcome {
    match kind {
        AuthenticatorKind::Email => send(flow, purpose, world, env),
        AuthenticatorKind::Password => begin_password(flow),
        AuthenticatorKind::Passkey => begin_passkey(flow, user_id.expect("a passkey challenge names its account"), env),
        AuthenticatorKind::Totp => begin_totp(flow),
    }
}

/// A passkey challenge for the account `user_id`.
pub(super) fn begin_passkey(mut flow: Flow, user_id: &str, env: &mut Env<'_>) -> Outcome {
    let c = ceremony::new(CeremonyKind::Authenticate { user_id: user_id.to_owned() }, env.rng);
    flow.step =
        Step::Challenge(Challenge::Passkey(PasskeyChallenge { ceremony: c.clone(), user_id: user_id.to_owned() }));
    Outcome { effects: vec![Effect::BeginCeremony(c)], ..Outcome::new(flow) }
}

/// A password challenge: offered for any address in an app that uses passwords, so it
/// says nothing about whether the address has an account or a password.
pub(super) fn begin_password(mut flow: Flow) -> Outcome {
    flow.step = Step::Challenge(Challenge::Password(PasswordChallenge {}));
    Outcome::new(flow)
}

/// A challenge for the account's authenticator app.
pub(super) fn begin_totp(mut flow: Flow) -> Outcome {
    flow.step = Step::Challenge(Challenge::Totp(TotpChallenge::default()));
    Outcome::new(flow)
}

/// A right answer to a guessable challenge: the attempt the shell reserved (counted as
/// a failure before the check) is cleared, and the count starts again. A wrong one
/// stays counted as it is.
fn clear_attempts(flow: &Flow, kind: AuthenticatorKind, world: &World, env: &Env<'_>) -> Option<Effect> {
    let email = &flow.subject.as_ref()?.email;
    world
        .attempt
        .granted()
        .then(|| Effect::AnswerAccepted { subject: lockout::subject_key(env.keys, email), authenticator: kind })
}

/// `challenge-authenticator`: an answer to whatever challenge is under way, checked by
/// its authenticator.
pub(super) fn submit_answer(mut flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let Step::Challenge(mut challenge) = flow.step.clone() else {
        unreachable!("challenge-authenticator is offered only during a challenge")
    };
    let ctx = VerifyContext {
        flow_id: &flow.id,
        now: env.now,
        keys: env.keys,
        ceremony: world.ceremony.as_ref(),
        password: world.password.as_deref(),
        decoy_password: password::decoy(env.settings.passwords.cost),
        attempt: world.attempt,
        totp: world.totp.as_ref(),
    };
    let (verdict, imported) = match (&challenge, world.password.as_deref()) {
        (Challenge::Password(_), Some(hook::IMPORT)) => import_password(&flow, values, world, env, &ctx),
        _ => (challenge.verify(values, &ctx), vec![]),
    };
    let kind = challenge.kind();
    let locks_out = challenge.locks_out();
    let field = challenge.answer_fields().first().map(|f| f.name.clone()).unwrap_or_default();
    match verdict {
        Verdict::Proven => {
            let counted = clear_attempts(&flow, kind, world, env).filter(|_| locks_out);
            let used: Vec<Effect> =
                passkey_used(world, env).into_iter().chain(totp_used(&challenge, world)).chain(counted).collect();
            let mut logged = vec![Effect::Log(
                LogEntry::new(EventType::UserAuthenticationVerify, LogOutcome::Success, "Challenge answered")
                    .credential(kind),
            )];
            if !flow.proofs.is_empty() {
                logged.push(Effect::Log(
                    LogEntry::new(
                        EventType::UserAuthenticationAuthViaMfa,
                        LogOutcome::Success,
                        "Another authenticator proven",
                    )
                    .credential(kind),
                ));
            }
            flow.step = Step::Challenge(challenge);
            let mut out = after_proof(flow, kind, world, env);
            out.effects.splice(0..0, imported.into_iter().chain(used).chain(logged));
            out
        }
        Verdict::Retry { key, params, failed_attempt } => {
            // A single-use ceremony was spent on this answer: the next needs a new one.
            let renewed = challenge.renew(env.rng);
            flow.step = Step::Challenge(challenge);
            let mut notice = Notice::error(key).on(field);
            notice.params = params;
            let mut out = Outcome::invalid(flow, names::CHALLENGE_AUTHENTICATOR, values, vec![notice]);
            out.effects.extend(renewed.map(Effect::BeginCeremony));
            out.effects.extend(imported);
            if failed_attempt {
                let reason = match &world.ceremony {
                    Some(CeremonyOutcome::Failed(failure)) => failure.reason(),
                    _ => key,
                };
                let wrong = LogEntry::new(
                    EventType::UserAuthenticationVerify,
                    LogOutcome::Failure,
                    "Wrong answer to a challenge",
                )
                .reason(reason)
                .credential(kind);
                out.effects.push(Effect::Log(wrong));
                if matches!(world.ceremony, Some(CeremonyOutcome::Failed(CeremonyFailure::PossibleClone))) {
                    out.effects.push(possible_clone());
                }
                if let Reservation::Granted { locks: true } = world.attempt {
                    out.effects.push(Effect::Log(
                        LogEntry::new(
                            EventType::UserAccountLock,
                            LogOutcome::Failure,
                            "Locked out after too many wrong answers",
                        )
                        .reason(format!("{} wrong answers in a row", env.settings.lockout.attempts))
                        .credential(kind),
                    ));
                }
            }
            out
        }
        Verdict::Ended { key } => {
            // The challenge is over: start again from `identify`.
            flow.intent = flow.intent.signing_in();
            let effects = identify::to_identify(&mut flow, env);
            let mut out = Outcome { effects, ..Outcome::new(flow) }.notice(Notice::error(key));
            out.effects.push(Effect::Log(
                LogEntry::new(EventType::UserAuthenticationVerify, LogOutcome::Failure, "Challenge ended")
                    .reason(key)
                    .credential(kind),
            ));
            out
        }
    }
}

/// A password answer for an account migrated without a password hash: the
/// `password_import` hook asks the old system. A password it verifies is stored as
/// argon2id (so the hook is never asked again for this account); the effects are that
/// and the call's log entry. No hook, or a hook that fails, verifies nothing.
fn import_password(
    flow: &Flow,
    values: &Submission,
    world: &World,
    env: &mut Env<'_>,
    ctx: &VerifyContext<'_>,
) -> (Verdict, Vec<Effect>) {
    let typed = text_of(values, "password");
    let (Some(rule), Some(user)) = (env.app.hooks.get(&HookPoint::PasswordImport), &world.user) else {
        return (password_verdict(ctx, values), vec![]);
    };
    if typed.is_empty() || ctx.attempt.minutes_locked(env.now).is_some() {
        return (password_verdict(ctx, values), vec![]);
    }
    let (decision, entry) =
        hook::decide(rule, HookPoint::PasswordImport, world.hook.as_ref(), &flow.requester.locale, |c| {
            match c.verified {
                Some(_) => Ok(()),
                None => Err("no password.verified command".into()),
            }
        });
    let logged = Effect::Log(entry.actor(user.id.clone(), user.email.clone()));
    match decision {
        Decision::Allow(Commands { verified: Some(true), .. }) => {
            let hash = password::hash(typed, env.settings.passwords.cost, env.rng);
            (Verdict::Proven, vec![Effect::SetPassword { user_id: user.id.clone(), hash, at: env.now }, logged])
        }
        Decision::Allow(_) => {
            (Verdict::Retry { key: "password.error.wrong", params: vec![], failed_attempt: true }, vec![logged])
        }
        Decision::Deny(_) => {
            (Verdict::Retry { key: "hook.unavailable", params: vec![], failed_attempt: false }, vec![logged])
        }
    }
}

/// The password authenticator's own verdict (with no hash to check: the decoy's work,
/// and "wrong"), for answers the import hook is not asked about.
fn password_verdict(ctx: &VerifyContext<'_>, values: &Submission) -> Verdict {
    let mut challenge = Challenge::Password(PasswordChallenge {});
    challenge.verify(values, &VerifyContext { password: None, ..*ctx })
}

/// `select-authenticator-authenticate`: prove it another way.
pub(super) fn select(flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let chosen = text_of(values, "authenticator");
    let kind = flow.authenticators.iter().copied().find(|k| k.key() == chosen);
    let user_id = world.user.as_ref().map(|u| u.id.clone());
    let purpose = match (flow.intent, &user_id) {
        (Intent::Recover, _) => Purpose::Recover,
        (_, Some(_)) => Purpose::SignIn,
        (_, None) => Purpose::Register,
    };
    match kind {
        // Only email and password are offered for an address without an account.
        Some(kind) if user_id.is_some() || matches!(kind, AuthenticatorKind::Email | AuthenticatorKind::Password) => {
            begin(flow, kind, user_id.as_deref(), purpose, world, env)
        }
        _ => Outcome::invalid(
            flow,
            names::SELECT_AUTHENTICATOR_AUTHENTICATE,
            values,
            vec![Notice::error("field.invalid").on("authenticator")],
        ),
    }
}

/// Whether `challenge-poll` would move `flow` on now: its magic link was opened in the
/// browser that waits. An event stream opened after that must say so at once.
pub fn poll_would_move_on(flow: &Flow) -> bool {
    matches!(&flow.step, Step::Challenge(Challenge::Email(c)) if c.proven_by_link())
}

/// `challenge-poll`: moves on if the link was opened in this browser meanwhile.
pub(super) fn poll(flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    if poll_would_move_on(&flow) { after_proof(flow, AuthenticatorKind::Email, world, env) } else { Outcome::new(flow) }
}

pub(super) fn resend(flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    let challenge = current(&flow);
    let wait = challenge.resend_wait(env.now);
    if !wait.is_zero() {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Outcome::new(flow).notice(Notice::error("email.resend.too_soon").with("seconds", seconds.to_string()));
    }
    let purpose = challenge.purpose;
    let mut out = match purpose {
        // Recovery mails only addresses that have an account, resent or not.
        Purpose::Recover if world.user.is_none() => recover::unsent_email(flow, world, env),
        _ => send(flow, purpose, world, env),
    };
    if out.notices.is_empty() {
        out.notices.push(Notice::info("email.resend.sent"));
    }
    out
}

/// A magic link was opened (in any browser). It only records the proof; the tab that
/// holds the flow moves on through `challenge-poll`.
pub(super) fn open_link(mut flow: Flow, secret: &str, same_device: bool, _world: &World, env: &mut Env<'_>) -> Outcome {
    let Step::Challenge(Challenge::Email(challenge)) = &mut flow.step else {
        return Outcome { reply: Reply::Link(LinkReply::AlreadyUsed), ..Outcome::new(flow) };
    };
    let reply = match challenge.open_link(secret, same_device, env.now, env.keys) {
        LinkVerdict::Proven => LinkReply::Proven,
        LinkVerdict::OtherDevice { code } => LinkReply::OtherDevice { code },
        LinkVerdict::AlreadyUsed => LinkReply::AlreadyUsed,
        LinkVerdict::Expired => LinkReply::Expired,
        LinkVerdict::Invalid => LinkReply::Invalid,
    };
    let mut out = Outcome { reply: Reply::Link(reply.clone()), ..Outcome::new(flow) };
    match reply {
        LinkReply::Proven => out.effects.push(Effect::Log(
            LogEntry::new(EventType::UserAuthenticationVerify, LogOutcome::Success, "Magic link opened")
                .reason("magic link")
                .credential(AuthenticatorKind::Email),
        )),
        LinkReply::OtherDevice { .. } => out.effects.push(Effect::Log(
            LogEntry::new(
                EventType::UserAuthenticationVerify,
                LogOutcome::Failure,
                "Magic link opened in another browser; code shown instead",
            )
            .reason("magic link opened in another browser")
            .credential(AuthenticatorKind::Email),
        )),
        _ => {}
    }
    out
}

/// An authenticator was proven: sign in the account that owns the email, or carry on
/// registering.
pub(super) fn after_proof(mut flow: Flow, kind: AuthenticatorKind, world: &World, env: &mut Env<'_>) -> Outcome {
    // Proving it again (a step-up for freshness) renews the proof.
    flow.proofs.retain(|p| p.authenticator != kind);
    flow.proofs.push(Proof { authenticator: kind, at: env.now });
    if flow.intent == Intent::Recover {
        return recover::after_proof(flow, world, env);
    }
    match &world.user {
        Some(user) => {
            let registering = flow.intent == Intent::Register && !flow.profile.is_empty();
            flow.account = Some(user.id.clone());
            let out = finish::signed_in(flow, finish::SignIn::Fresh, world, env);
            if registering { out.notice(Notice::info("register.account_exists")) } else { out }
        }
        None if !flow.profile.is_empty() && register::may_sign_up(&flow, env) => register::create(flow, world, env),
        // A profile of the email alone: there is nothing more to ask.
        None if env.app.self_registration && register::nothing_to_ask(env) => register::create(flow, world, env),
        None if env.app.self_registration => {
            flow.step = Step::EnrollProfile;
            flow.intent = Intent::Register;
            Outcome::new(flow).notice(Notice::info("register.email_verified"))
        }
        None => {
            flow.subject = None;
            flow.proofs.clear();
            let effects = identify::to_identify(&mut flow, env);
            Outcome { effects, ..Outcome::new(flow) }.notice(Notice::error("identify.no_account"))
        }
    }
}

/// The effect recording a passkey's use, when the step's ceremony asserted one.
fn passkey_used(world: &World, env: &Env<'_>) -> Option<Effect> {
    match &world.ceremony {
        Some(CeremonyOutcome::Asserted { cred_id, updated, .. }) => {
            Some(Effect::PasskeyUsed { cred_id: cred_id.clone(), updated: updated.clone(), at: env.now })
        }
        _ => None,
    }
}

/// The effect spending the TOTP step whose code proved the challenge.
fn totp_used(challenge: &Challenge, world: &World) -> Option<Effect> {
    match (challenge, &world.user) {
        (Challenge::Totp(TotpChallenge { accepted: Some(step) }), Some(user)) => {
            Some(Effect::TotpUsed { user_id: user.id.clone(), step: *step })
        }
        _ => None,
    }
}

fn current(flow: &Flow) -> &EmailChallenge {
    match &flow.step {
        Step::Challenge(Challenge::Email(c)) => c,
        _ => unreachable!("email challenge remediations are offered only during an email challenge"),
    }
}

/// A passkey's signature counter went backwards: an alert of its own, beside the
/// refused answer.
fn possible_clone() -> Effect {
    Effect::Log(
        LogEntry::new(
            EventType::PasskeyPossibleClone,
            LogOutcome::Failure,
            "A passkey's signature counter went backwards: it may have been cloned",
        )
        .reason("possible_clone")
        .credential(AuthenticatorKind::Passkey)
        .severity(Severity::Error),
    )
}
