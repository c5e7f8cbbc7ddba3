//! The studio's gallery: every step the engine can show, each a flow state the real
//! presentation (`engine::render`, the view the flow API answers with) turns into a
//! flow response, rendered by the real widget; and every page and email the server
//! sends, made by the same functions the handlers use.
//!
//! [`ENTRIES`] is the one list: the studio's page, its tests and the Playwright gallery
//! all read it, so a step added here appears everywhere. A test fails when the engine
//! offers a remediation no entry shows.

use std::collections::BTreeMap;
use std::time::Duration;

use passway_protocol::{FlowResponse, Intent, WebAuthn};

use crate::authenticators::AuthenticatorKind;
use crate::authenticators::email::{EmailChallenge, Purpose};
use crate::authenticators::passkey::PasskeyChallenge;
use crate::authenticators::password::PasswordChallenge;
use crate::authenticators::totp::TotpChallenge;
use crate::crypto::{Digest, Keyring};
use crate::engine::{
    AppAttribute, AppSettings, AuthRequest, Ceremony, CeremonyKind, Challenge, EngineSettings, Enrollment,
    EnrollmentPolicy, Enrollments, Flow, NewFlow, Notice, Origin, Presenter, Prompt, Proof, Reply, Requester, Step,
    Subject, Texts, Timestamp,
};
use crate::mail::template::Notice as AccountEmail;

/// One thing the gallery shows.
pub struct Entry {
    /// Stable, URL-safe: the Playwright gallery names its screenshots after it.
    pub name: &'static str,
    pub title: &'static str,
    pub group: &'static str,
    pub show: Show,
}

pub enum Show {
    /// A step of the widget: a flow state and what the last step said.
    Step(fn(&Sample) -> Scene),
    /// The answer the flow API gives when a client is over its rate limit.
    RateLimited,
    /// The hosted sign-in page around the widget (at `identify`).
    HostedPage,
    /// A page the server renders itself: a card with a title, a text and extra HTML.
    Page(PageShown),
    /// An email, by what it is for.
    Email(Purpose),
    /// A notice email about an account.
    Notice(fn() -> AccountEmail),
}

/// A server page: the i18n keys of its title and text (`{key}.title`, `{key}.body`).
#[derive(Clone, Copy)]
pub struct PageShown {
    pub key: &'static str,
    pub status: u16,
    pub extra: PageExtra,
}

#[derive(Clone, Copy)]
pub enum PageExtra {
    None,
    /// The code a magic link opened in another browser shows.
    Code,
    /// The sign-out confirmation's button.
    SignOutButton,
}

/// A flow to present, with the notices of the step that led to it.
pub struct Scene {
    pub flow: Flow,
    pub notices: Vec<Notice>,
    pub reply: Reply,
    pub app: AppSettings,
}

/// Everything the scenes share: the app, the settings, the instant.
pub struct Sample {
    pub app: AppSettings,
    pub settings: EngineSettings,
    pub now: Timestamp,
    pub keys: Keyring,
}

impl Sample {
    /// The sample an app named `app_name` gives, in a deployment with this profile schema.
    pub fn new(app_name: &str, settings: EngineSettings) -> Sample {
        let app = AppSettings {
            client_id: "studio".into(),
            name: app_name.into(),
            self_registration: true,
            passkeys: true,
            enrollment: EnrollmentPolicy {
                default: Enrollments {
                    passkey: Enrollment::Optional,
                    password: Enrollment::Optional,
                    totp: Enrollment::Optional,
                },
                by_group: vec![],
                skip_limit: None,
            },
            consent: false,
            sign_on: Default::default(),
            profile_update: vec![],
            hooks: Default::default(),
        };
        Sample { app, settings, now: Timestamp::from_unix_seconds(1_900_000_000), keys: Keyring::from_master(&[7; 32]) }
    }

    fn flow(&self, step: Step) -> Flow {
        let new = NewFlow {
            client_id: self.app.client_id.clone(),
            intent: Intent::Login,
            origin: Origin::Embedded,
            request: AuthRequest {
                redirect_uri: "https://app.example/callback".into(),
                scope: "openid profile email offline_access".into(),
                state: Some("studio".into()),
                nonce: None,
                code_challenge: Some("studio".into()),
                login_hint: None,
                prompt: Prompt::default(),
                max_age: None,
                acr_values: None,
                ui_locale: None,
                resource: None,
            },
            requester: Requester {
                device: None,
                browser: "Firefox on Windows".into(),
                ip: "192.0.2.1".into(),
                locale: "en".into(),
                platform: Default::default(),
                risk: Default::default(),
                host: None,
            },
            invited: None,
        };
        Flow::new("studio-flow".into(), new, step, self.now, self.now.plus(Duration::from_secs(30 * 60)))
    }

    /// A flow at `step` about Ada, who proved her email address.
    fn ada(&self, step: Step) -> Flow {
        let mut flow = self.flow(step);
        flow.subject = Some(Subject { email: ADA.into() });
        flow.account = Some("ada".into());
        flow
    }

    fn scene(&self, flow: Flow, notices: Vec<Notice>) -> Scene {
        Scene { flow, notices, reply: Reply::Flow, app: self.app.clone() }
    }

    fn email(&self, purpose: Purpose, sent_ago: u64) -> Challenge {
        let sent_at = Timestamp::from_unix_seconds(self.now.unix_seconds() - sent_ago as i64);
        Challenge::Email(EmailChallenge {
            email: ADA.into(),
            purpose,
            link: Digest([1; 32]),
            code: Digest([2; 32]),
            sent_at,
            expires_at: sent_at.plus(Duration::from_secs(600)),
            attempts_left: 5,
            proven_by_link_at: None,
            link_used: false,
        })
    }

    fn proven(&self, kind: AuthenticatorKind) -> Proof {
        Proof { authenticator: kind, at: self.now }
    }
}

const ADA: &str = "ada.lovelace@example.com";

/// Ids of the passkey ceremonies the scenes wait on, with the browser options shown.
pub const AUTOFILL: &str = "studio-autofill";
const SIGN_IN_PASSKEY: &str = "studio-passkey";
const NEW_PASSKEY: &str = "studio-new-passkey";

fn ceremony(id: &str, kind: CeremonyKind) -> Ceremony {
    Ceremony { id: id.into(), kind }
}

fn new_passkey() -> Ceremony {
    let kind = CeremonyKind::Register { user_id: "ada".into(), email: ADA.into(), display_name: "Ada".into() };
    ceremony(NEW_PASSKEY, kind)
}

/// The browser options of the scenes' passkey ceremonies (what webauthn-rs would
/// have made: an RP on localhost, a fixed challenge).
pub fn ceremonies() -> BTreeMap<String, WebAuthn> {
    let get = |mediation: Option<&str>| {
        let mut v = serde_json::json!({ "publicKey": {
            "challenge": "c3R1ZGlvLWNoYWxsZW5nZS1zdHVkaW8tY2hhbGxlbmdl",
            "timeout": 300000, "rpId": "localhost", "allowCredentials": [], "userVerification": "required"
        }});
        if let Some(m) = mediation {
            v["mediation"] = m.into();
        }
        WebAuthn::Get(serde_json::from_value(v).expect("request options"))
    };
    let create = WebAuthn::Create(
        serde_json::from_value(serde_json::json!({ "publicKey": {
            "rp": { "id": "localhost", "name": "Passway studio" },
            "user": { "id": "YWRh", "name": ADA, "displayName": "Ada" },
            "challenge": "c3R1ZGlvLWNoYWxsZW5nZS1zdHVkaW8tY2hhbGxlbmdl",
            "pubKeyCredParams": [{ "type": "public-key", "alg": -7 }],
            "timeout": 300000,
            "authenticatorSelection": { "residentKey": "required", "requireResidentKey": true, "userVerification": "required" },
            "attestation": "none"
        }}))
        .expect("creation options"),
    );
    [
        (AUTOFILL.to_owned(), get(Some("conditional"))),
        (SIGN_IN_PASSKEY.to_owned(), get(None)),
        (NEW_PASSKEY.to_owned(), create),
    ]
    .into()
}

macro_rules! step {
    ($name:literal, $group:literal, $title:literal, $build:expr) => {
        Entry { name: $name, title: $title, group: $group, show: Show::Step($build) }
    };
}

const fn page(name: &'static str, title: &'static str, key: &'static str, status: u16, extra: PageExtra) -> Entry {
    Entry { name, title, group: "Pages", show: Show::Page(PageShown { key, status, extra }) }
}

/// Every step, page and email, in the order a journey meets them.
pub static ENTRIES: &[Entry] = &[
    step!("identify", "Sign in", "Identify, with passkey autofill", |s| {
        let mut flow = s.flow(Step::Identify);
        flow.autofill = Some(ceremony(AUTOFILL, CeremonyKind::Discoverable));
        s.scene(flow, vec![])
    }),
    step!("identify-invalid", "Sign in", "Identify: not an email address", |s| {
        let scene = s.scene(s.flow(Step::Identify), vec![Notice::error("field.email.invalid").on("identifier")]);
        Scene { app: AppSettings { enrollment: email_only(), ..scene.app }, ..scene }
    }),
    step!("identify-no-account", "Sign in", "Identify: no account, no sign-up", |s| {
        let scene = s.scene(s.flow(Step::Identify), vec![Notice::error("identify.no_account")]);
        Scene { app: AppSettings { self_registration: false, ..scene.app }, ..scene }
    }),
    step!("register", "Sign up", "Registration with the profile schema", |s| {
        s.scene(s.flow(Step::EnrollProfile), vec![])
    }),
    step!("register-hook-denied", "Sign up", "Registration refused by an inline hook", |s| {
        s.scene(s.flow(Step::EnrollProfile), vec![Notice::error("hook.denied_default")])
    }),
    step!("email-waiting", "Email", "Email: waiting for the link", |s| {
        s.scene(s.ada(Step::Challenge(s.email(Purpose::SignIn, 5))), vec![])
    }),
    step!("email-code-wrong", "Email", "Email: wrong code", |s| {
        let notice = Notice::error("email.code.wrong").on("code").with("attempts", "2");
        s.scene(s.ada(Step::Challenge(s.email(Purpose::SignIn, 40))), vec![notice])
    }),
    step!("email-resend", "Email", "Email: resend allowed", |s| {
        s.scene(s.ada(Step::Challenge(s.email(Purpose::SignIn, 120))), vec![Notice::info("email.resend.sent")])
    }),
    step!("email-resend-too-soon", "Email", "Email: resend cooldown", |s| {
        let notice = Notice::error("email.resend.too_soon").with("seconds", "1");
        s.scene(s.ada(Step::Challenge(s.email(Purpose::SignIn, 29))), vec![notice])
    }),
    step!("email-expired", "Email", "Email: code expired", |s| {
        let notice = Notice::error("email.code.expired").on("code");
        s.scene(s.ada(Step::Challenge(s.email(Purpose::SignIn, 700))), vec![notice])
    }),
    step!("email-locked", "Email", "Email: too many wrong codes", |s| {
        let notice = Notice::error("email.code.locked").with("minutes", "15");
        s.scene(s.ada(Step::Challenge(s.email(Purpose::SignIn, 60))), vec![notice])
    }),
    step!("passkey", "Passkey", "Passkey challenge", |s| {
        let mut flow = s.ada(Step::Challenge(Challenge::Passkey(PasskeyChallenge {
            ceremony: ceremony(SIGN_IN_PASSKEY, CeremonyKind::Authenticate { user_id: "ada".into() }),
            user_id: "ada".into(),
        })));
        flow.authenticators = vec![AuthenticatorKind::Passkey];
        s.scene(flow, vec![])
    }),
    step!("passkey-failed", "Passkey", "Passkey challenge: could not verify", |s| {
        let mut flow = s.ada(Step::Challenge(Challenge::Passkey(PasskeyChallenge {
            ceremony: ceremony(SIGN_IN_PASSKEY, CeremonyKind::Authenticate { user_id: "ada".into() }),
            user_id: "ada".into(),
        })));
        flow.authenticators = vec![AuthenticatorKind::Passkey, AuthenticatorKind::Email];
        s.scene(flow, vec![Notice::error("passkey.error.invalid")])
    }),
    step!("password", "Password", "Password challenge", |s| {
        let mut flow = s.ada(Step::Challenge(Challenge::Password(PasswordChallenge {})));
        flow.authenticators = vec![AuthenticatorKind::Password, AuthenticatorKind::Email];
        s.scene(flow, vec![])
    }),
    step!("password-wrong", "Password", "Password: wrong", |s| {
        let flow = s.ada(Step::Challenge(Challenge::Password(PasswordChallenge {})));
        s.scene(flow, vec![Notice::error("password.error.wrong").on("password")])
    }),
    step!("password-locked", "Password", "Password: locked", |s| {
        let flow = s.ada(Step::Challenge(Challenge::Password(PasswordChallenge {})));
        s.scene(flow, vec![Notice::error("password.error.locked").with("minutes", "15")])
    }),
    step!("totp", "Authenticator app", "Authenticator app challenge", |s| {
        let mut flow = s.ada(Step::Challenge(Challenge::Totp(TotpChallenge { accepted: None })));
        flow.authenticators = vec![AuthenticatorKind::Totp, AuthenticatorKind::Passkey];
        s.scene(flow, vec![])
    }),
    step!("totp-wrong", "Authenticator app", "Authenticator app: wrong code", |s| {
        let flow = s.ada(Step::Challenge(Challenge::Totp(TotpChallenge { accepted: None })));
        s.scene(flow, vec![Notice::error("totp.error.wrong").on("code")])
    }),
    step!("enroll-choice", "Enrolment", "Enrolment choice", |s| {
        let mut flow = s.ada(Step::EnrollSelect {
            required: false,
            options: vec![AuthenticatorKind::Passkey, AuthenticatorKind::Totp, AuthenticatorKind::Password],
        });
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        s.scene(flow, vec![Notice::info("enroll.skips_left").with("count", "2")])
    }),
    step!("enroll-required", "Enrolment", "Enrolment required", |s| {
        let mut flow = s.ada(Step::EnrollSelect {
            required: true,
            options: vec![AuthenticatorKind::Passkey, AuthenticatorKind::Totp],
        });
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        s.scene(flow, vec![])
    }),
    step!("enroll-passkey", "Enrolment", "Passkey enrolment offer", |s| {
        let mut flow = s.ada(Step::EnrollPasskey { ceremony: new_passkey(), required: false });
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        s.scene(flow, vec![])
    }),
    step!("enroll-password", "Enrolment", "Choose a password", |s| {
        let mut flow = s.ada(Step::EnrollPassword { required: false });
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        s.scene(flow, vec![Notice::error("password.error.common").on("password")])
    }),
    step!("enroll-totp", "Enrolment", "Authenticator app set-up (QR code)", |s| {
        let mut flow = s.ada(Step::EnrollTotp { nonce: "studio".into(), required: false });
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        s.scene(flow, vec![])
    }),
    step!("consent", "Consent", "Consent", |s| {
        let mut flow = s.ada(Step::Consent);
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        let scene = s.scene(flow, vec![]);
        Scene { app: AppSettings { consent: true, ..scene.app }, ..scene }
    }),
    step!("profile-update", "Profile", "Progressive profile", |s| {
        let attributes: Vec<String> =
            s.settings.profile.attributes.iter().filter(|a| a.name != "email").map(|a| a.name.clone()).collect();
        let mut flow = s.ada(Step::EnrollProfileUpdate { attributes: attributes.clone() });
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        let scene = s.scene(flow, vec![]);
        let profile_update = attributes.into_iter().map(|name| AppAttribute { name, required: false }).collect();
        Scene { app: AppSettings { profile_update, ..scene.app }, ..scene }
    }),
    step!("recover-identify", "Recovery", "Recovery: whose account", |s| {
        let mut flow = s.flow(Step::IdentifyRecovery);
        flow.intent = Intent::Recover;
        s.scene(flow, vec![])
    }),
    step!("recover-email", "Recovery", "Recovery: the email proof", |s| {
        let mut flow = s.ada(Step::Challenge(s.email(Purpose::Recover, 5)));
        flow.intent = Intent::Recover;
        s.scene(flow, vec![])
    }),
    step!("recover-another-check", "Recovery", "Recovery: a second proof", |s| {
        let mut flow = s.ada(Step::Challenge(Challenge::Totp(TotpChallenge { accepted: None })));
        flow.intent = Intent::Recover;
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        s.scene(flow, vec![Notice::info("recovery.another_check")])
    }),
    step!("recover-reset-password", "Recovery", "Recovery: a new password", |s| {
        let mut flow = s.ada(Step::ResetPassword);
        flow.intent = Intent::Recover;
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        s.scene(flow, vec![])
    }),
    step!("recover-reset-passkey", "Recovery", "Recovery: a new passkey", |s| {
        let mut flow = s.ada(Step::ResetPasskey { ceremony: new_passkey() });
        flow.intent = Intent::Recover;
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        s.scene(flow, vec![])
    }),
    step!("recover-unavailable", "Recovery", "Recovery: not possible here", |s| {
        let mut flow = s.ada(Step::CannotRecover);
        flow.intent = Intent::Recover;
        s.scene(flow, vec![])
    }),
    step!("step-up", "Policy", "Step-up", |s| {
        let mut flow = s.ada(Step::Challenge(Challenge::Passkey(PasskeyChallenge {
            ceremony: ceremony(SIGN_IN_PASSKEY, CeremonyKind::Authenticate { user_id: "ada".into() }),
            user_id: "ada".into(),
        })));
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        flow.authenticators = vec![AuthenticatorKind::Passkey, AuthenticatorKind::Totp];
        s.scene(flow, vec![Notice::info("policy.step_up")])
    }),
    step!("denied", "Policy", "Denied: you can't sign in here", |s| {
        let mut flow = s.ada(Step::Denied { rule: "studio".into() });
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        s.scene(flow, vec![])
    }),
    Entry { name: "rate-limited", title: "Rate limited", group: "Policy", show: Show::RateLimited },
    step!("success", "Done", "Signed in", |s| {
        // Embedded: the widget exchanges the code (at the studio's stand-in token
        // endpoint) and shows that the person is signed in, where a hosted page would
        // leave for the app.
        let mut flow = s.ada(Step::Completed);
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        flow.request.state = None;
        let mut scene = s.scene(flow, vec![]);
        scene.reply = Reply::Success { code: "studio".into(), session: None };
        scene
    }),
    step!("reset-old-passkeys", "Recovery", "Recovery: remove the old passkeys?", |s| {
        let mut flow = s.ada(Step::ResetOldPasskeys { keep: "studio-key-3".into(), old: 2 });
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        s.scene(flow, vec![Notice::info("recovery.done")])
    }),
    step!("account", "Account", "Account page", |s| {
        use crate::engine::account::{AccountHome, PasskeyItem, SessionItem};
        let day = |d: i64| Timestamp::from_unix_seconds(s.now.unix_seconds() - d * 86_400);
        let home = AccountHome {
            passkeys: vec![
                PasskeyItem {
                    cred_id: "studio-key-1".into(),
                    name: "MacBook".into(),
                    created_at: day(90),
                    last_used_at: Some(day(1)),
                    synced: Some(true),
                },
                PasskeyItem {
                    cred_id: "studio-key-2".into(),
                    name: "YubiKey".into(),
                    created_at: day(30),
                    last_used_at: None,
                    synced: Some(false),
                },
            ],
            totp: true,
            password: false,
            sessions: vec![SessionItem {
                id: "studio-session-2".into(),
                browser: "Safari on iOS".into(),
                ip: "198.51.100.4".into(),
                last_seen_at: day(2),
            }],
            profile: [("given_name".to_string(), "Ada".to_string())].into(),
            addable: vec![AuthenticatorKind::Passkey, AuthenticatorKind::Totp, AuthenticatorKind::Password],
        };
        let mut flow = s.ada(Step::Account(Box::new(home)));
        flow.intent = Intent::Account;
        flow.proofs = vec![s.proven(AuthenticatorKind::Email)];
        s.scene(flow, vec![Notice::info("account.saved")])
    }),
    step!("account-deleted", "Account", "Account deleted", |s| {
        let mut flow = s.ada(Step::AccountDeleted);
        flow.intent = Intent::Account;
        s.scene(flow, vec![])
    }),
    Entry { name: "hosted-page", title: "Hosted sign-in page", group: "Pages", show: Show::HostedPage },
    page("link-proven", "Magic link: verified", "link.proven", 200, PageExtra::None),
    page("link-other-device", "Magic link: another browser", "link.other_device", 200, PageExtra::Code),
    page("link-used", "Magic link: used", "link.used", 410, PageExtra::None),
    page("link-expired", "Magic link: expired", "link.expired", 410, PageExtra::None),
    page("link-invalid", "Magic link: not valid", "link.invalid", 404, PageExtra::None),
    page("hosted-expired", "Hosted page: expired", "hosted.expired", 410, PageExtra::None),
    page("hosted-not-bound", "Hosted page: another browser", "hosted.not_bound", 403, PageExtra::None),
    page("sign-out", "Sign out?", "hosted.logout", 200, PageExtra::SignOutButton),
    page("signed-out", "Signed out", "hosted.signed_out", 200, PageExtra::None),
    Entry { name: "email-sign-in", title: "Email: sign in", group: "Emails", show: Show::Email(Purpose::SignIn) },
    Entry { name: "email-register", title: "Email: sign up", group: "Emails", show: Show::Email(Purpose::Register) },
    Entry { name: "email-recover", title: "Email: recovery", group: "Emails", show: Show::Email(Purpose::Recover) },
    Entry {
        name: "email-no-account",
        title: "Email: recovery, no account",
        group: "Emails",
        show: Show::Email(Purpose::NoAccount),
    },
    notice("notice-welcome", "Email: welcome", || AccountEmail::Welcome),
    notice("notice-new-device", "Email: a sign-in from a new browser", || AccountEmail::NewDevice {
        browser: "Firefox on Windows".into(),
    }),
    notice("notice-password-changed", "Email: password changed", || AccountEmail::PasswordChanged),
    notice("notice-authenticator-added", "Email: a passkey added", || AccountEmail::AuthenticatorAdded {
        kind: "passkey",
    }),
    notice("notice-authenticator-removed", "Email: an authenticator app removed", || {
        AccountEmail::AuthenticatorRemoved { kind: "totp" }
    }),
    notice("notice-locked", "Email: sign-in paused", || AccountEmail::Locked { kind: "password", minutes: 15 }),
];

const fn notice(name: &'static str, title: &'static str, notice: fn() -> AccountEmail) -> Entry {
    Entry { name, title, group: "Emails", show: Show::Notice(notice) }
}

fn email_only() -> EnrollmentPolicy {
    EnrollmentPolicy {
        default: Enrollments { passkey: Enrollment::Off, password: Enrollment::Off, totp: Enrollment::Off },
        by_group: vec![],
        skip_limit: None,
    }
}

/// The first step of a journey (the hosted page opens at it).
pub fn first_step() -> fn(&Sample) -> Scene {
    match ENTRIES[0].show {
        Show::Step(build) => build,
        _ => unreachable!("the gallery starts with identify"),
    }
}

pub fn entry(name: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.name == name)
}

/// A scene as the flow API presents it, its URLs under `base_url`.
pub fn present(
    scene: &Scene,
    sample: &Sample,
    base_url: &str,
    handle: &str,
    app: passway_protocol::AppInfo,
    texts: &dyn Texts,
) -> FlowResponse {
    let ceremonies = ceremonies();
    let presenter =
        Presenter { base_url, handle, texts, app, now: sample.now, ceremonies: &ceremonies, keys: &sample.keys };
    crate::engine::render(&scene.flow, &scene.notices, None, &scene.reply, &presenter, &scene.app, &sample.settings)
}

/// The code a magic link opened in another browser shows.
pub const OTHER_DEVICE_CODE: &str = "428 913";

#[cfg(test)]
mod tests {
    use super::*;

    struct English(crate::i18n::Catalog);

    impl Texts for English {
        fn get(&self, key: &str) -> Option<String> {
            self.0.get("en", key).map(str::to_owned)
        }
        fn fill(&self, text: &str, params: &[(&str, String)]) -> String {
            self.0.fill("en", text, params)
        }
        fn locale(&self) -> &str {
            "en"
        }
    }

    fn responses() -> Vec<(&'static str, FlowResponse)> {
        let sample = Sample::new("Studio", super::super::sample_settings());
        let texts = English(crate::i18n::Catalog::builtin());
        let app = passway_protocol::AppInfo {
            id: "studio".into(),
            name: "Studio".into(),
            brand: "default".into(),
            logo_url: None,
        };
        ENTRIES
            .iter()
            .filter_map(|e| match e.show {
                Show::Step(build) => {
                    Some((e.name, present(&build(&sample), &sample, "http://studio", e.name, app.clone(), &texts)))
                }
                _ => None,
            })
            .collect()
    }

    /// A new remediation must get a gallery entry, or designers never see it.
    #[test]
    fn every_remediation_the_engine_offers_has_an_entry() {
        let mut shown = std::collections::BTreeSet::new();
        for (_, r) in responses() {
            shown.extend(r.remediations.iter().chain(&r.cancel).map(|r| r.name.clone()));
        }
        let missing: Vec<&str> = passway_protocol::names::ALL
            .iter()
            .copied()
            .filter(|n| !shown.contains(*n) && !passway_protocol::names::NOT_YET_PRODUCED.contains(n))
            .collect();
        assert!(missing.is_empty(), "remediations without a gallery entry: {missing:?}");
    }

    /// Each entry shows what it says: its messages resolved, nothing left as a key.
    #[test]
    fn entries_render_text_not_keys() {
        for (name, r) in responses() {
            for m in &r.messages {
                assert_ne!(m.text, m.key, "{name}: message {} has no text", m.key);
                assert!(!m.text.contains('{'), "{name}: {} left a placeholder: {}", m.key, m.text);
            }
            assert!(
                r.strings.get("title").is_some_and(|t| !t.contains('{')),
                "{name}: title {:?}",
                r.strings.get("title")
            );
        }
        let names: std::collections::BTreeSet<&str> = ENTRIES.iter().map(|e| e.name).collect();
        assert_eq!(names.len(), ENTRIES.len(), "entry names are unique");
    }
}
