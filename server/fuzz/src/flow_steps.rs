//! Flow submissions: any sequence of remediation names and JSON bodies, against the
//! pure engine, from a flow that can go anywhere (passwords, passkeys, authenticator
//! apps, registration, recovery). Nothing may panic; a refusal is a `Rejection`.
//!
//! Input: lines of `remediation<TAB>json`; a line `!link same|other` opens the magic
//! link; `+Ns` lets N seconds pass.

use passway_protocol::{Intent, Submission};
use passway_server::authenticators::password::HashCost;
use passway_server::crypto::{Entropy, Keyring};
use passway_server::engine::{
    self, Action, AppSettings, AuthRequest, EngineSettings, Enrollment, EnrollmentPolicy, Enrollments, Env, NewFlow,
    Origin, Prompt, Requester, Timestamp, User, World,
};

/// Deterministic randomness: the same input replays the same way.
struct Counter(u8);
impl Entropy for Counter {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self.0.wrapping_add(7);
            *b = self.0;
        }
    }
}

/// One input: returns normally or panics (a finding).
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let keys = Keyring::from_master(&[7; 32]);
    let mut settings = EngineSettings::default();
    settings.passwords.cost = HashCost::TEST;
    settings.totp_in_use = true;
    let app = AppSettings {
        client_id: "shop".into(),
        name: "Shop".into(),
        self_registration: true,
        passkeys: true,
        enrollment: EnrollmentPolicy {
            default: Enrollments {
                passkey: Enrollment::Optional,
                password: Enrollment::Optional,
                totp: Enrollment::Optional,
            },
            by_group: vec![],
            skip_limit: Some(2),
        },
        consent: true,
        sign_on: Default::default(),
        profile_update: vec![],
        // The registration hook is never answered here: every decision takes its
        // on_failure path (the journey tests and the HTTP tests answer it).
        hooks: [(
            passway_server::engine::hook::HookPoint::Registration,
            passway_server::engine::hook::HookRule {
                name: "fuzz".into(),
                on_failure: passway_server::engine::hook::OnFailure::Allow,
            },
        )]
        .into(),
    };
    let mut rng = Counter(0);
    let mut now = Timestamp::from_unix_seconds(1_800_000_000);
    let intent = match text.len() % 3 {
        0 => Intent::Login,
        1 => Intent::Register,
        _ => Intent::Recover,
    };
    let new = NewFlow {
        client_id: "shop".into(),
        intent,
        origin: Origin::Embedded,
        request: AuthRequest {
            redirect_uri: "https://shop.example/cb".into(),
            scope: "openid email".into(),
            state: Some("s".into()),
            nonce: None,
            code_challenge: Some("c".into()),
            login_hint: None,
            prompt: Prompt::default(),
            max_age: None,
            acr_values: None,
            ui_locale: None,
            resource: None,
        },
        requester: Requester {
            device: None,
            browser: "Firefox".into(),
            ip: "127.0.0.1".into(),
            locale: "en".into(),
            platform: Default::default(),
            risk: Default::default(),
            host: None,
        },
        invited: None,
    };
    // A known account, so both sides of every branch are reachable.
    let ada = User { id: "u-ada".into(), email: "ada@example.com".into(), profile: Default::default() };
    let mut flow = {
        let mut env = Env { now, rng: &mut rng, keys: &keys, app: &app, settings: &settings };
        engine::start(new, None, &World::default(), &mut env).outcome.flow
    };
    for line in text.lines().take(32) {
        let action = if let Some(which) = line.strip_prefix("!link ") {
            Action::OpenLink { secret: "x".repeat(43), same_device: which == "same" }
        } else if let Some(secs) = line.strip_prefix('+').and_then(|s| s.strip_suffix('s')) {
            now = now.plus(std::time::Duration::from_secs(secs.parse::<u64>().unwrap_or(0).min(86_400)));
            continue;
        } else {
            let (name, json) = line.split_once('\t').unwrap_or((line, "{}"));
            let Ok(values) = serde_json::from_str::<Submission>(json) else { continue };
            Action::Submit { remediation: name.to_owned(), values }
        };
        let world = match engine::lookup(&flow, &action) {
            Some(email) if email == ada.email => World { user: Some(ada.clone()), passkeys: 1, ..World::default() },
            _ => World::default(),
        };
        let mut env = Env { now, rng: &mut rng, keys: &keys, app: &app, settings: &settings };
        if let Ok(out) = engine::step(&flow, action, &world, &mut env) {
            flow = out.flow;
        }
    }
}
