//! The shell around the pure engine. For each request it loads what a step needs
//! (the account in play, and the verified outcome of a WebAuthn answer), runs
//! [`crate::engine::step`], writes the new state and the step's effects in one store
//! transaction, hands SMTP emails to the mailer once committed, and announces the
//! change to anyone waiting on the flow.

mod effects;
pub mod explain;
mod notify;
pub mod passkeys;
pub mod sessions;

use std::collections::BTreeMap;
use tracing::Instrument as _;

use passway_protocol::{AppInfo, FlowResponse, Submission, WebAuthn};

pub use notify::{Notifier, Subscription};

use crate::app::AppState;
use crate::authenticators::totp::TotpSecret;
use crate::authenticators::{AuthenticatorKind, lockout};
use crate::crypto::{SystemEntropy, sha256};
pub use crate::engine::binding::Holder;
use crate::engine::{self, Action, Env, Flow, LinkReply, NewFlow, Outcome, Presenter, Rejection, Reply, World};
use crate::events::ClientInfo;
use crate::store::{AttemptReservation, CountedAttempt, StoreError, StoredFlow};

#[derive(Debug, thiserror::Error)]
pub enum JourneyError {
    #[error("no flow has this handle")]
    NotFound,
    #[error("this flow has expired")]
    Expired,
    #[error("this flow has finished")]
    Finished,
    /// The request is not from the browser that started the flow (see `engine::binding`).
    #[error("this flow belongs to the browser that started it")]
    NotHeld,
    #[error("the flow was changed by another request; fetch it again")]
    Conflict,
    #[error("{0}")]
    Rejected(Rejection),
    #[error("the app {0:?} of this flow is no longer configured")]
    AppGone(String),
    #[error("passkeys: {0}")]
    Passkeys(String),
    /// `prompt=none`, but the person would have to be asked something: the OIDC error
    /// code (`login_required`, `consent_required`, `interaction_required`).
    #[error("{0}")]
    NeedsInteraction(&'static str),
    /// A rate limit refused the step; nothing was written.
    #[error("too many requests: try again in {} s", .0.as_secs())]
    Limited(std::time::Duration),
    /// Another attempt at the same address's answer was counted first; nothing was
    /// written (`run` tries the step again, so only a lost last try reaches a caller).
    #[error("another attempt at this answer was counted first; try again")]
    AttemptRaced,
    /// Too many answers wait for the password hasher: try again shortly.
    #[error("the server is busy checking passwords: try again in a few seconds")]
    Busy,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for JourneyError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => JourneyError::Conflict,
            StoreError::Limited { retry_after } => JourneyError::Limited(retry_after),
            StoreError::AttemptRaced => JourneyError::AttemptRaced,
            other => JourneyError::Store(other),
        }
    }
}

impl From<Rejection> for JourneyError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::Expired => JourneyError::Expired,
            Rejection::Finished => JourneyError::Finished,
            other => JourneyError::Rejected(other),
        }
    }
}

/// A flow just loaded, with what is needed to save it again.
pub struct Loaded {
    pub flow: Flow,
    pub stored: StoredFlow,
}

/// A flow just started.
pub struct Begun {
    pub handle: String,
    /// The flow, and — when a session let it finish at once — its success.
    pub outcome: Outcome,
    /// Browser options of the ceremonies it began.
    pub ceremonies: BTreeMap<String, WebAuthn>,
}

/// How a flow may start.
#[derive(Debug, Clone, Copy, Default)]
pub struct StartOptions<'a> {
    /// The browser's SSO session cookie, if it sent one.
    pub session_cookie: Option<&'a str>,
    /// `prompt=none`: finish at once from the session, or fail with
    /// [`JourneyError::NeedsInteraction`] (and store nothing).
    pub no_prompt: bool,
}

/// Starts a flow, resuming the browser's SSO session when the request allows.
pub async fn start(app: &AppState, new: NewFlow, options: StartOptions<'_>) -> Result<Begun, JourneyError> {
    let config_app = app.config.app(&new.client_id).ok_or_else(|| JourneyError::AppGone(new.client_id.clone()))?;
    let settings = app.config.app_settings(config_app);
    let now = app.clock.now();
    let session = match options.session_cookie {
        Some(cookie) => sessions::load(app, cookie).await?,
        None => None,
    };
    let mut world = World::default();
    if let Some(s) = &session {
        world =
            account_world(app, &settings, &new.client_id, new.requester.device.as_ref(), Some(s.user.clone())).await?;
        if new.intent == passway_protocol::Intent::Account {
            world.account = account_facts(app, &s.user.id).await?;
        }
    }
    let started = {
        let mut env =
            Env { now, rng: &mut SystemEntropy, keys: &app.keyring, app: &settings, settings: &app.config.engine };
        engine::start(new, session.as_ref(), &world, &mut env)
    };
    let flow = &started.outcome.flow;
    if options.no_prompt && !matches!(started.outcome.reply, Reply::Success { .. }) {
        return Err(JourneyError::NeedsInteraction(match flow.step {
            _ if flow.session.is_none() => "login_required",
            engine::Step::Consent => "consent_required",
            _ => "interaction_required",
        }));
    }
    let stored = StoredFlow {
        id: flow.id.clone(),
        handle_hash: started.handle_hash,
        state: serde_json::to_string(flow).expect("flow serialises"),
        version: 0,
        expires_at: flow.expires_at,
    };
    app.store.insert_flow(&stored).await?;
    let loaded = Loaded { flow: flow.clone(), stored };
    let ceremonies = effects::apply(app, &loaded, &started.outcome, None, &ClientInfo::default(), now).await?;
    Ok(Begun { handle: started.handle, outcome: started.outcome, ceremonies })
}

/// What the engine needs to know of an account already identified. For an address
/// without one (`user` is `None`), the same queries run, for an id that exists
/// nowhere, and their empty answers are dropped: a known and an unknown address cost
/// the store the same, so their timing says nothing.
async fn account_world(
    app: &AppState,
    settings: &engine::AppSettings,
    client_id: &str,
    device: Option<&crate::crypto::Digest>,
    user: Option<engine::User>,
) -> Result<World, JourneyError> {
    let mut world = World::default();
    let id = user.as_ref().map_or(NO_ACCOUNT, |u| u.id.as_str());
    let (status, groups) = app.store.standing(id).await?;
    world.deactivated = status == crate::store::AccountStatus::Deactivated;
    world.groups = groups.into_iter().collect();
    // Looked up only for apps whose rules or notices ask (one query less on every other step).
    let notices_new_device = app.config.app(client_id).is_some_and(|a| a.emails.iter().any(|e| e == "new_device"));
    if notices_new_device || settings.sign_on.rules.iter().any(|r| r.when.device.is_some()) {
        world.new_device = Some(match device {
            Some(d) => !app.store.device_known(id, d).await?,
            None => true,
        });
    }
    if settings.passkeys {
        world.passkeys = app.store.passkeys_of(id).await?.len();
    }
    if settings.consent {
        world.consent = app.store.consent(id, client_id).await?;
    }
    if settings.enrollment.uses(AuthenticatorKind::Password) {
        world.password = app.store.password(id).await?;
    }
    if app.config.engine.totp_in_use {
        world.totp = totp(app, id).await?;
    }
    if settings.enrollment.skip_limit.is_some() {
        world.skips = app.store.skips(id).await?.into_iter().collect();
    }
    if user.is_none() {
        return Ok(World::default());
    }
    world.user = user;
    Ok(world)
}

/// An email outside a step (an operator's invitation), into `commit` (the dev outbox
/// or the SMTP queue); `app.delivery.committed()` once it is written.
pub fn outbox(
    app: &AppState,
    commit: &mut crate::store::Commit,
    rendered: crate::mail::RenderedEmail,
    now: engine::Timestamp,
) {
    effects::mail(app, commit, rendered, now);
}

/// What the account page lists: the account's passkeys and live sessions.
async fn account_facts(app: &AppState, user_id: &str) -> Result<engine::account::AccountFacts, JourneyError> {
    use engine::account::{PasskeyItem, SessionItem};
    let passkeys = app.store.passkeys_of(user_id).await?.into_iter().map(|p| PasskeyItem {
        synced: crate::authenticators::passkey::synced(&p.passkey),
        cred_id: p.cred_id,
        name: p.name,
        created_at: p.created_at,
        last_used_at: p.last_used_at,
    });
    let sessions = app.store.sessions_of(user_id, app.clock.now()).await?.into_iter().map(|s| SessionItem {
        id: s.id,
        browser: s.browser,
        ip: s.ip,
        last_seen_at: s.last_seen_at,
    });
    Ok(engine::account::AccountFacts { passkeys: passkeys.collect(), sessions: sessions.collect() })
}

/// An account id no account has (ids are random base64url, which has no spaces).
const NO_ACCOUNT: &str = "no account";

/// The account's authenticator app, unsealed.
async fn totp(app: &AppState, user_id: &str) -> Result<Option<TotpSecret>, JourneyError> {
    let Some(stored) = app.store.totp(user_id).await? else { return Ok(None) };
    let secret = app
        .sealer
        .open(&stored.sealed_secret, &totp_seal_context(user_id))
        .map_err(|e| StoreError::Corrupt(format!("authenticator app of {user_id}: {e}")))?;
    Ok(Some(TotpSecret { secret, last_step: stored.last_step }))
}

/// Binds a sealed TOTP secret to its account: it cannot be moved to another.
fn totp_seal_context(user_id: &str) -> Vec<u8> {
    format!("totp:{user_id}").into_bytes()
}

/// The flow behind `handle`, for the browser that started it (`holder` proves it is),
/// refused if expired or finished. Someone else holding the handle learns nothing more
/// than that it is not theirs.
pub async fn load(app: &AppState, handle: &str, holder: &Holder<'_>) -> Result<Loaded, JourneyError> {
    let started = std::time::Instant::now();
    let stored = app
        .store
        .flow_by_handle(&sha256(handle.as_bytes()))
        .instrument(tracing::debug_span!("store", op = "load"))
        .await?
        .ok_or(JourneyError::NotFound)?;
    app.metrics.store(crate::metrics::StoreOp::Load, started.elapsed());
    let loaded = decode(stored)?;
    if !engine::binding::holds(&loaded.flow, handle, holder, &app.keyring) {
        return Err(JourneyError::NotHeld);
    }
    if app.clock.now() >= loaded.flow.expires_at {
        return Err(JourneyError::Expired);
    }
    if loaded.flow.is_finished() {
        return Err(JourneyError::Finished);
    }
    Ok(loaded)
}

fn decode(stored: StoredFlow) -> Result<Loaded, JourneyError> {
    let flow =
        serde_json::from_str(&stored.state).map_err(|e| StoreError::Corrupt(format!("flow {}: {e}", stored.id)))?;
    Ok(Loaded { flow, stored })
}

/// A flow response to show, and a new SSO session cookie value for the browser.
pub struct Answer {
    pub response: FlowResponse,
    pub session_cookie: Option<String>,
}

/// Submits `values` to a remediation and returns the flow response to show.
pub async fn submit(
    app: &AppState,
    loaded: Loaded,
    handle: &str,
    remediation: &str,
    values: Submission,
    client: &ClientInfo,
    locale: &str,
) -> Result<Answer, JourneyError> {
    let started = std::time::Instant::now();
    let action = Action::Submit { remediation: remediation.to_owned(), values };
    let (out, options) = run(app, &loaded, action, client).await?;
    let name = passway_protocol::names::ALL.iter().find(|n| **n == remediation).copied().unwrap_or("other");
    app.metrics.step(name, started.elapsed());
    let session_cookie = match &out.reply {
        Reply::Success { session, .. } | Reply::SignedIn { session } => session.clone(),
        _ => None,
    };
    let response = present(app, &out.flow, handle, &out, locale, Some(options)).await?;
    Ok(Answer { response, session_cookie })
}

/// A magic link was opened. `device` is the browser's device cookie, if any.
pub async fn open_link(
    app: &AppState,
    token: &str,
    device: Option<&str>,
    client: &ClientInfo,
) -> Result<(Flow, LinkReply), JourneyError> {
    let (flow_id, secret) = token.split_once('.').ok_or(JourneyError::NotFound)?;
    let stored = app.store.flow_by_id(flow_id).await?.ok_or(JourneyError::NotFound)?;
    let loaded = decode(stored)?;
    let same_device = match (device, &loaded.flow.requester.device) {
        (Some(cookie), Some(expected)) => sha256(cookie.as_bytes()).ct_eq(expected),
        _ => false,
    };
    let action = Action::OpenLink { secret: secret.to_owned(), same_device };
    match run(app, &loaded, action, client).await {
        Ok((Outcome { flow, reply: Reply::Link(reply), .. }, _)) => Ok((flow, reply)),
        Ok(_) => unreachable!("opening a link answers with a link reply"),
        Err(JourneyError::Finished) => Ok((loaded.flow, LinkReply::AlreadyUsed)),
        Err(JourneyError::Expired) => Ok((loaded.flow, LinkReply::Expired)),
        Err(e) => Err(e),
    }
}

/// Runs one step and persists it; returns its outcome and the options of the
/// ceremonies it began.
async fn run(
    app: &AppState,
    loaded: &Loaded,
    action: Action,
    client: &ClientInfo,
) -> Result<(Outcome, BTreeMap<String, WebAuthn>), JourneyError> {
    // Network zones (and the log) see where this request comes from, not where the flow
    // began: the address is read afresh on every step. (A magic link is opened from
    // the mailbox's device, which is not the one signing in.)
    let mut current = loaded.flow.clone();
    if matches!(action, Action::Submit { .. }) && !client.ip.is_empty() {
        current.requester.ip.clone_from(&client.ip);
    }
    let flow = &current;
    let config_app = app.config.app(&flow.client_id).ok_or_else(|| JourneyError::AppGone(flow.client_id.clone()))?;
    let settings = app.config.app_settings(config_app);
    let now = app.clock.now();
    let mut world = World::default();

    // An answer to a WebAuthn ceremony is verified here, before the engine decides.
    if let Action::Submit { remediation, values } = &action
        && let (Some(ceremony), Some(webauthn)) = (
            engine::ceremony_for(flow, remediation),
            app.passkeys.for_brand(app.config.brand_of_flow(flow, config_app)),
        )
        && let Some(credential) = values.get("credential").and_then(|v| v.as_text())
    {
        let (outcome, user) = passkeys::finish(app, webauthn, ceremony, credential, now).await?;
        world.ceremony = Some(outcome);
        world.user = user;
    }
    let looked_up = match world.user.is_none().then(|| engine::lookup(flow, &action)).flatten() {
        Some(email) => {
            world.user = app.store.user_by_email(&email).await?;
            true
        }
        None => world.user.is_some(),
    };
    if looked_up {
        let device = flow.requester.device.as_ref();
        let user = world.user.take();
        world = World {
            ceremony: world.ceremony.take(),
            ..account_world(app, &settings, &flow.client_id, device, user).await?
        };
        if let (passway_protocol::Intent::Account, Some(user)) = (flow.intent, &world.user) {
            world.account = account_facts(app, &user.id).await?;
        }
    }

    // A cheap answer counted in the step's commit can find the count changed by a
    // racing attempt: the step runs again on the new count, its last try reserved first.
    let mut tries = 1;
    loop {
        let last = tries == ATTEMPT_TRIES;
        match decide(app, loaded, flow, &action, world.clone(), client, &settings, now, last).await {
            Err(JourneyError::AttemptRaced) if tries < ATTEMPT_TRIES => tries += 1,
            done => return done,
        }
    }
}

/// Tries of a step whose guessable answer races other attempts at the same address.
const ATTEMPT_TRIES: u32 = 3;

/// Counts a guessable answer, calls the step's inline hook, runs the engine and commits.
/// A password's attempt (a check too costly to redo), or any on the `last_try`, is
/// counted by a write of its own before it is checked; otherwise the count read is
/// checked again by the step's commit (see `authenticators::lockout`).
#[allow(clippy::too_many_arguments)]
async fn decide(
    app: &AppState,
    loaded: &Loaded,
    flow: &Flow,
    action: &Action,
    mut world: World,
    client: &ClientInfo,
    settings: &engine::AppSettings,
    now: engine::Timestamp,
    last_try: bool,
) -> Result<(Outcome, BTreeMap<String, WebAuthn>), JourneyError> {
    let hashes = matches!(action, Action::Submit { remediation, .. } if engine::hashes_password(flow, remediation));
    let mut counted = None;
    if let (Some(kind), Some(subject)) = (engine::guessable_answer(flow, action, now), &flow.subject) {
        let policy = app.config.engine.lockout;
        let attempt = AttemptReservation {
            subject: lockout::subject_key(&app.keyring, &subject.email),
            authenticator: kind,
            limit: policy.attempts,
            lock_until: now.plus(policy.duration),
            now,
        };
        world.attempt = if hashes || last_try {
            app.store.reserve_attempt(&attempt).await?
        } else {
            let seen = app.store.lockout(&attempt.subject, kind).await?;
            let reservation = seen.reservation(attempt.limit, now);
            counted = reservation.granted().then_some(CountedAttempt { attempt, seen_failures: seen.failures });
            reservation
        };
    }

    // An inline hook the step needs is called here, before the engine decides on its answer.
    if let Some(call) = engine::hook::due(flow, action, &world, settings, &app.config.engine, now) {
        let span = tracing::info_span!("inline_hook", point = call.point.name());
        world.hook = Some(crate::hooks::inline::call(app, &call, now).instrument(span).await);
    }

    let out = if hashes {
        // Tens of milliseconds of argon2id: off the async threads, one per core at most,
        // and only so many waiting (past that, 503 and try again).
        let _permit =
            app.hashing.admit().instrument(tracing::debug_span!("argon2_queue")).await.ok_or(JourneyError::Busy)?;
        let (app, flow, action, world, settings) =
            (app.clone(), flow.clone(), action.clone(), world.clone(), settings.clone());
        let span = tracing::debug_span!("argon2");
        tokio::task::spawn_blocking(move || span.in_scope(|| step_now(&app, &flow, action, &world, &settings, now)))
            .await
            // A panic in the task is the same panic as inline.
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?
    } else {
        step_now(app, flow, action.clone(), &world, settings, now)?
    };
    match effects::apply(app, loaded, &out, counted, client, now).await {
        Ok(options) => Ok((out, options)),
        // The store refused an email: this address had its share, across flows (however
        // many raced). The engine decides again, knowing it; nothing was written.
        Err(JourneyError::Limited(retry_after)) if world.email_wait.is_none() && out.sends_email() => {
            world.email_wait = Some(retry_after);
            let out = step_now(app, flow, action.clone(), &world, settings, now)?;
            let options = effects::apply(app, loaded, &out, counted, client, now).await?;
            Ok((out, options))
        }
        Err(e) => Err(e),
    }
}

fn step_now(
    app: &AppState,
    flow: &Flow,
    action: Action,
    world: &World,
    settings: &engine::AppSettings,
    now: engine::Timestamp,
) -> Result<Outcome, Rejection> {
    let mut env = Env { now, rng: &mut SystemEntropy, keys: &app.keyring, app: settings, settings: &app.config.engine };
    engine::step(flow, action, world, &mut env)
}

/// Presents `flow` for its current step (no messages).
pub async fn show(app: &AppState, flow: &Flow, handle: &str, locale: &str) -> Result<FlowResponse, JourneyError> {
    let out = Outcome::unchanged(flow.clone());
    present(app, flow, handle, &out, locale, None).await
}

/// Presents a flow just started.
pub async fn present_started(app: &AppState, begun: Begun, locale: &str) -> Result<FlowResponse, JourneyError> {
    present(app, &begun.outcome.flow, &begun.handle, &begun.outcome, locale, Some(begun.ceremonies)).await
}

/// Presents a flow; `known` holds ceremony options already in hand (just begun),
/// others are read from the store.
async fn present(
    app: &AppState,
    flow: &Flow,
    handle: &str,
    out: &Outcome,
    locale: &str,
    known: Option<BTreeMap<String, WebAuthn>>,
) -> Result<FlowResponse, JourneyError> {
    let locale = flow.request.ui_locale.as_deref().unwrap_or(locale);
    let config_app = app.config.app(&flow.client_id).ok_or_else(|| JourneyError::AppGone(flow.client_id.clone()))?;
    let mut ceremonies = known.unwrap_or_default();
    let missing: Vec<&str> = engine::pending_ceremonies(flow)
        .into_iter()
        .map(|c| c.id.as_str())
        .filter(|id| !ceremonies.contains_key(*id))
        .collect();
    if !missing.is_empty() {
        ceremonies.extend(passkeys::options(app, &missing, app.clock.now()).await?);
    }
    let brand_id = app.config.brand_of_flow(flow, config_app);
    let brand = app.brands.get(brand_id);
    let texts = app.brands.texts(brand_id, locale);
    let base = app.base_of(flow);
    let presenter = Presenter {
        base_url: &base,
        handle,
        texts: &texts,
        app: AppInfo {
            id: config_app.client_id.clone(),
            name: config_app.name.clone(),
            brand: brand_id.to_owned(),
            logo_url: brand.map(|b| format!("{base}/themes/{}/{}", b.id, b.logo_file)),
        },
        now: app.clock.now(),
        ceremonies: &ceremonies,
        keys: &app.keyring,
    };
    Ok(engine::render(
        flow,
        &out.notices,
        out.echo.as_ref(),
        &out.reply,
        &presenter,
        &app.config.app_settings(config_app),
        &app.config.engine,
    ))
}
