//! Turns a step's outcome into one store commit.

use std::collections::BTreeMap;
use tracing::Instrument as _;

use passway_protocol::WebAuthn;

use super::{JourneyError, Loaded, passkeys, sessions};
use crate::app::AppState;
use crate::authenticators::AuthenticatorKind;
use crate::engine::{self, Effect, Outcome, Timestamp};
use crate::events::{self, ClientInfo};
use crate::mail::{ChallengeEmail, Delivery, RenderedEmail, render_challenge};
use crate::store::{
    AccountChange, AccountWrite, Commit, CountedAttempt, Mail, PasskeyUse, RateHit, SessionWrite, StoredCode,
    StoredConsent, StoredPasskey, TotpWrite,
};

/// Applies `out` (and counts `attempt`, the step's guessable answer checked on a count
/// read, in the same commit); returns the browser options of the WebAuthn ceremonies it began.
pub(super) async fn apply(
    app: &AppState,
    loaded: &Loaded,
    out: &Outcome,
    attempt: Option<CountedAttempt>,
    client: &ClientInfo,
    now: Timestamp,
) -> Result<BTreeMap<String, WebAuthn>, JourneyError> {
    let flow = &out.flow;
    let changed = *flow != loaded.flow;
    let mut commit = Commit { attempt, ..Commit::default() };
    if changed {
        let state = serde_json::to_string(flow).expect("flow serialises");
        commit.flow = Some((flow.id.clone(), loaded.stored.version, state, flow.expires_at));
        // Ceremonies the flow waited on and no longer does go now, not at expiry: a
        // flow keeps at most the ones of its current step.
        let waits_on: Vec<&str> = engine::pending_ceremonies(flow).into_iter().map(|c| c.id.as_str()).collect();
        commit.dropped_ceremonies = engine::pending_ceremonies(&loaded.flow)
            .into_iter()
            .map(|c| c.id.clone())
            .filter(|id| !waits_on.contains(&id.as_str()))
            .collect();
    }
    let mut options = BTreeMap::new();
    let subject_id = flow.account.as_deref().filter(|id| !crate::engine::is_guest(id)).unwrap_or("unknown");
    let ctx = events::Context {
        client_id: &flow.client_id,
        flow_id: &flow.id,
        client,
        subject: flow.subject.as_ref().map(|s| (subject_id, s.email.as_str())),
        session_id: flow.session.as_deref(),
        step: flow.proofs.len(),
    };
    for effect in &out.effects {
        match effect {
            Effect::SendEmail(email) => {
                // Emails to one address are limited across flows: the commit fails past
                // the limit, however many flows race (see `journey::run`).
                let limits = &app.config.rate_limits;
                if limits.enabled {
                    let key = crate::limits::key(&app.keyring, crate::limits::Kind::Email, &email.to);
                    commit.rate_hits.push(RateHit { key, limit: limits.emails, now });
                }
                let rendered = render(app, flow, email, &flow.requester.locale)?;
                mail(app, &mut commit, rendered, now);
            }
            Effect::Notify { to, notice } => {
                if let Some(rendered) = render_notice_for(app, flow, to, notice, now) {
                    mail(app, &mut commit, rendered, now);
                }
            }
            Effect::CreateUser(user) => commit.users.push(user.clone()),
            Effect::RememberDevice { user_id, device, at } => commit.devices.push((user_id.clone(), *device, *at)),
            Effect::UpdateProfile { user_id, profile, at } => {
                commit.profiles.push((user_id.clone(), profile.clone(), *at))
            }
            Effect::IssueCode(code) => commit.codes.push(StoredCode {
                code_hash: code.code_hash,
                grant: serde_json::to_string(&code.grant).expect("grant serialises"),
                expires_at: code.grant.expires_at,
            }),
            Effect::Log(entry) => commit.events.push(app.events.record(entry, &ctx, now)),
            Effect::BeginCeremony(ceremony) => {
                let brand =
                    app.config.app(&flow.client_id).map(|a| app.config.brand_of_flow(flow, a)).unwrap_or_default();
                let webauthn = app
                    .passkeys
                    .for_brand(brand)
                    .ok_or_else(|| JourneyError::Passkeys(format!("brand {brand} has no relying party")))?;
                // A ceremony lives as long as the flow that waits on it.
                let (stored, browser) = passkeys::begin(app, webauthn, ceremony, flow.expires_at).await?;
                options.insert(stored.id.clone(), browser);
                commit.ceremonies.push(stored);
            }
            Effect::SavePasskey(p) => commit.passkeys.push(StoredPasskey {
                cred_id: p.cred_id.clone(),
                user_id: p.user_id.clone(),
                name: p.name.clone(),
                passkey: p.passkey.clone(),
                created_at: p.created_at,
                last_used_at: None,
            }),
            Effect::PasskeyUsed { cred_id, updated, at } => {
                commit.passkey_uses.push(PasskeyUse { cred_id: cred_id.clone(), passkey: updated.clone(), at: *at })
            }
            Effect::StartSession(s) => commit.sessions.push(SessionWrite::Create(sessions::stored(s, now))),
            Effect::EndSession { id, at } => commit.sessions.push(SessionWrite::Revoke { id: id.clone(), at: *at }),
            Effect::TouchSession { id, proofs } => commit.sessions.push(SessionWrite::Touch {
                id: id.clone(),
                proofs: sessions::encode_proofs(proofs),
                last_seen_at: now,
            }),
            Effect::SetPassword { user_id, hash, at } => commit.passwords.push((user_id.clone(), hash.clone(), *at)),
            Effect::AnswerAccepted { subject, authenticator } => {
                commit.cleared_lockouts.push((*subject, *authenticator))
            }
            Effect::SaveTotp { user_id, totp, at } => commit.totp.push(TotpWrite::Set {
                user_id: user_id.clone(),
                sealed_secret: app.sealer.seal(&totp.secret, &super::totp_seal_context(user_id)),
                last_step: totp.last_step,
                at: *at,
            }),
            Effect::TotpUsed { user_id, step } => {
                commit.totp.push(TotpWrite::Used { user_id: user_id.clone(), step: *step })
            }
            Effect::EnrollmentSkipped { user_id, authenticators } => {
                commit.skips.extend(authenticators.iter().map(|k| (user_id.clone(), *k)))
            }
            Effect::RevokeSessions { user_id, at } => commit.revocations.push((user_id.clone(), *at)),
            Effect::RemoveAuthenticator { user_id, kind, cred_id } => {
                let change = match kind {
                    AuthenticatorKind::Totp => AccountChange::RemoveTotp,
                    AuthenticatorKind::Password => AccountChange::RemovePassword,
                    _ => AccountChange::RemovePasskey { cred_id: cred_id.clone() },
                };
                commit.accounts.push(AccountWrite { user_id: user_id.clone(), version: None, at: now, change });
            }
            Effect::RenamePasskey { user_id, cred_id, name } => {
                let change = AccountChange::RenamePasskey { cred_id: cred_id.clone(), name: name.clone() };
                commit.accounts.push(AccountWrite { user_id: user_id.clone(), version: None, at: now, change });
            }
            Effect::RemoveOldPasskeys { user_id, keep } => {
                let change = AccountChange::RemovePasskeysBut { keep: keep.clone() };
                commit.accounts.push(AccountWrite { user_id: user_id.clone(), version: None, at: now, change });
            }
            Effect::EndOtherSessions { user_id, keep, at } => {
                let change = AccountChange::RevokeOtherSessions { keep: keep.clone() };
                commit.accounts.push(AccountWrite { user_id: user_id.clone(), version: None, at: *at, change });
            }
            Effect::EraseAccount { user_id, email, at } => {
                // Its lockout counts are keyed by the address: they go too.
                let subject = crate::authenticators::lockout::subject_key(&app.keyring, email);
                commit.cleared_lockouts.extend(AuthenticatorKind::ALL.iter().map(|k| (subject, *k)));
                let change = AccountChange::Erase { email: email.clone() };
                commit.accounts.push(AccountWrite { user_id: user_id.clone(), version: None, at: *at, change });
            }
            Effect::RememberConsent { user_id, client_id, scope } => commit.consents.push(StoredConsent {
                user_id: user_id.clone(),
                client_id: client_id.clone(),
                scope: scope.clone(),
                granted_at: now,
            }),
        }
    }
    let started = std::time::Instant::now();
    app.store.commit(commit).instrument(tracing::debug_span!("store", op = "commit")).await?;
    app.metrics.store(crate::metrics::StoreOp::Commit, started.elapsed());
    app.delivery.committed();
    let first_method = flow.proofs.first().map(|p| p.authenticator.key());
    for effect in &out.effects {
        if let Effect::Log(entry) = effect {
            app.metrics.logged(&flow.client_id, entry, first_method);
        }
    }
    if changed {
        app.notifier.changed(&flow.id);
    }
    Ok(options)
}

/// An email into the commit: the dev outbox, or the SMTP queue.
pub(crate) fn mail(app: &AppState, commit: &mut Commit, rendered: RenderedEmail, now: Timestamp) {
    match &app.delivery {
        Delivery::Outbox => commit.mails.push(Mail {
            id: 0,
            to: rendered.to,
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            sent_at: now,
        }),
        Delivery::Smtp { queue, .. } => commit.queued_mails.push(queue.seal(&rendered, now)),
    }
}

/// The notice email, when the flow's app has that notice on.
fn render_notice_for(
    app: &AppState,
    flow: &crate::engine::Flow,
    to: &str,
    notice: &crate::engine::AccountNotice,
    now: Timestamp,
) -> Option<RenderedEmail> {
    use crate::engine::AccountNotice;
    use crate::mail::template::{Notice, NoticeEmail, render_notice};
    let config_app = app.config.app(&flow.client_id)?;
    let notice = match notice {
        AccountNotice::Welcome => Notice::Welcome,
        AccountNotice::NewDevice => Notice::NewDevice { browser: flow.requester.browser.clone() },
        AccountNotice::PasswordChanged => Notice::PasswordChanged,
        AccountNotice::AuthenticatorAdded(kind) => Notice::AuthenticatorAdded { kind: kind.key() },
        AccountNotice::AuthenticatorRemoved(kind) => Notice::AuthenticatorRemoved { kind: kind.key() },
        AccountNotice::Locked { kind, minutes } => Notice::Locked { kind: kind.key(), minutes: *minutes },
    };
    if !config_app.emails.iter().any(|e| e == notice.name()) {
        return None;
    }
    let brand = app.brands.get(app.config.brand_of_flow(flow, config_app))?;
    let logo_url = format!("{}/themes/{}/{}", app.base_of(flow), brand.id, brand.logo_file);
    let locale = flow.requester.locale.as_str();
    // "2030-03-17 17:46 UTC": plain, and the same in every language.
    let time = now.rfc3339();
    let time = format!("{} {} UTC", &time[..10], &time[11..16]);
    let email = NoticeEmail { to, app_name: &config_app.name, logo_url: &logo_url, locale, time: &time, notice };
    Some(render_notice(&email, &brand, &app.brands.texts(&brand.id, locale)))
}

/// The challenge email, with its links on the flow's domain and in its brand.
fn render(
    app: &AppState,
    flow: &crate::engine::Flow,
    email: &crate::engine::OutgoingEmail,
    locale: &str,
) -> Result<RenderedEmail, JourneyError> {
    let config_app = app.config.app(&email.client_id).ok_or_else(|| JourneyError::AppGone(email.client_id.clone()))?;
    let brand = app.brands.get(app.config.brand_of_flow(flow, config_app)).expect("configured brands are loaded");
    let base = app.base_of(flow);
    let link = format!("{base}/email/verify?t={}", email.link_token);
    let logo_url = format!("{base}/themes/{}/{}", brand.id, brand.logo_file);
    let challenge = ChallengeEmail {
        to: &email.to,
        app_name: &config_app.name,
        purpose: email.purpose,
        code: &email.code,
        link: &link,
        logo_url: &logo_url,
        locale,
    };
    Ok(render_challenge(&challenge, &brand, &app.brands.texts(&brand.id, locale)))
}
