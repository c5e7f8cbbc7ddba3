//! Presents a flow as the protocol's [`FlowResponse`]: remediations with absolute
//! URLs, labels and messages in the person's language, masked identifiers.

use std::collections::BTreeMap;

use passway_protocol::{
    Activation, AppInfo, CurrentAuthenticator, FieldType, FlowResponse, Message, PROTOCOL_VERSION, Poll, Remediation,
    Resend, ScopeInfo, Submission, Success, UserInfo, WebAuthn,
};

use super::forms::{self, Form};
use super::{AppSettings, Challenge, EngineSettings, Flow, Notice, Origin, Reply, Step, Timestamp};
use crate::authenticators::AuthenticatorKind;
use crate::authenticators::email::mask;
use crate::authenticators::totp;

/// Interface text by i18n key, for the person's locale and the app's brand.
pub trait Texts {
    fn get(&self, key: &str) -> Option<String>;
    /// `text` with its `{placeholders}` (and plural parts) filled, by the locale's rules.
    fn fill(&self, text: &str, params: &[(&str, String)]) -> String;
    /// The locale the texts are looked up in.
    fn locale(&self) -> &str;
}

/// What the presentation needs beyond the flow.
pub struct Presenter<'a> {
    /// Public URL of this server, without a trailing slash.
    pub base_url: &'a str,
    pub handle: &'a str,
    pub texts: &'a dyn Texts,
    pub app: AppInfo,
    pub now: Timestamp,
    /// Browser options of the flow's pending WebAuthn ceremonies, by ceremony id.
    pub ceremonies: &'a BTreeMap<String, WebAuthn>,
    /// Derives the secret of an authenticator app being set up, to show it.
    pub keys: &'a crate::crypto::Keyring,
}

impl Presenter<'_> {
    fn text(&self, key: &str, fallback: &str) -> String {
        self.texts.get(key).unwrap_or_else(|| fallback.to_owned())
    }

    fn href(&self, remediation: &str) -> String {
        format!("{}/api/v1/flows/{}/{}", self.base_url, self.handle, remediation)
    }
}

/// Keys of the interface text each step needs, sent in `strings`.
const STRINGS_IDENTIFY: &[&str] = &["identify.title", "identify.subtitle", "widget.no_account", "widget.error.network"];
const STRINGS_ENROLL: &[&str] =
    &["enroll_profile.title", "enroll_profile.subtitle", "widget.have_account", "widget.error.network"];
/// Text a client needs to explain a WebAuthn ceremony that failed in the browser.
const STRINGS_PASSKEY: &[&str] = &["passkey.error.cancelled", "passkey.error.unsupported", "passkey.error.not_here"];
/// What a client needs to explain the setting up of an authenticator app.
const STRINGS_TOTP: &[&str] = &["enroll.totp.scan", "enroll.totp.type_secret"];
const STRINGS_EMAIL: &[&str] = &[
    "email.challenge.title",
    "email.challenge.instructions",
    "email.challenge.waiting",
    "email.challenge.enter_code_instead",
    "email.challenge.resend_in",
    "email.challenge.expired",
    "widget.error.network",
];

pub fn render(
    flow: &Flow,
    notices: &[Notice],
    echo: Option<&(&'static str, Submission)>,
    reply: &Reply,
    p: &Presenter<'_>,
    app: &AppSettings,
    settings: &EngineSettings,
) -> FlowResponse {
    let mut remediations: Vec<Remediation> =
        forms::offered(flow, app, settings, p.now).into_iter().map(|f| remediation(f, echo, p)).collect();
    if let Step::Account(home) = &flow.step {
        name_account_items(&mut remediations, home, p);
    }
    let cancel = forms::cancel(flow).map(|f| remediation(f, None, p));
    let subject = flow.subject.as_ref().map(|s| mask(&s.email));
    let mut params: Vec<(&str, String)> =
        vec![("app", app.name.clone()), ("min", settings.passwords.min_length.to_string())];
    if let Some(masked) = &subject {
        params.push(("email", masked.clone()));
    }

    let (title, subtitle, keys) = match &flow.step {
        Step::Identify if app.enrollment.uses(AuthenticatorKind::Password) => {
            ("identify.title", Some("identify.subtitle_password"), STRINGS_IDENTIFY)
        }
        Step::Identify => ("identify.title", Some("identify.subtitle"), STRINGS_IDENTIFY),
        Step::Challenge(Challenge::Passkey(_)) => {
            ("passkey.challenge.title", Some("passkey.challenge.subtitle"), STRINGS_PASSKEY)
        }
        // Several to choose from, or not a passkey: not the passkey offer's wording.
        Step::EnrollSelect { required: true, .. }
            if forms::enroll_options(&flow.step) != [AuthenticatorKind::Passkey] =>
        {
            ("enroll.other.title", Some("enroll.other.subtitle"), &[][..])
        }
        Step::EnrollSelect { .. } if forms::enroll_options(&flow.step) != [AuthenticatorKind::Passkey] => {
            ("enroll.choice.title", Some("enroll.choice.subtitle"), &[][..])
        }
        Step::EnrollSelect { required: false, .. } => ("enroll.select.title", Some("enroll.select.subtitle"), &[][..]),
        Step::EnrollSelect { required: true, .. } => {
            ("enroll.required.title", Some("enroll.required.subtitle"), &[][..])
        }
        Step::EnrollPassword { .. } => ("enroll.password.title", Some("enroll.password.subtitle"), &[][..]),
        Step::Challenge(Challenge::Password(_)) => {
            ("password.challenge.title", Some("password.challenge.subtitle"), &[][..])
        }
        Step::Challenge(Challenge::Totp(_)) => ("totp.challenge.title", Some("totp.challenge.subtitle"), &[][..]),
        Step::EnrollTotp { .. } => ("enroll.totp.title", Some("enroll.totp.subtitle"), STRINGS_TOTP),
        Step::ResetPasskey { .. } => ("recovery.passkey.title", Some("recovery.passkey.subtitle"), STRINGS_PASSKEY),
        Step::IdentifyRecovery => ("recovery.title", Some("recovery.subtitle"), &[][..]),
        Step::ResetPassword => ("recovery.reset.title", Some("recovery.reset.subtitle"), &[][..]),
        Step::CannotRecover => ("recovery.unavailable.title", Some("recovery.unavailable.subtitle"), &[][..]),
        Step::Denied { .. } => ("policy.denied.title", Some("policy.denied.subtitle"), &[][..]),
        Step::EnrollPasskey { .. } => ("enroll.passkey.title", Some("enroll.passkey.subtitle"), STRINGS_PASSKEY),
        // Once the email is proven, "we will send a link" no longer applies.
        Step::EnrollProfile => {
            ("enroll_profile.title", (!flow.has_proven_subject()).then_some("enroll_profile.subtitle"), STRINGS_ENROLL)
        }
        Step::Challenge(Challenge::Email(_)) => {
            ("email.challenge.title", Some("email.challenge.instructions"), STRINGS_EMAIL)
        }
        Step::Consent => ("consent.title", Some("consent.subtitle"), &[][..]),
        Step::EnrollProfileUpdate { .. } => {
            ("enroll_profile_update.title", Some("enroll_profile_update.subtitle"), &[][..])
        }
        Step::Completed => ("success.title", None, &[][..]),
        Step::Account(_) => ("account.title", Some("account.subtitle"), &[][..]),
        Step::AccountDeleted => ("account.deleted.title", Some("account.deleted.subtitle"), &[][..]),
        Step::ResetOldPasskeys { .. } => {
            ("recovery.old_passkeys.title", Some("recovery.old_passkeys.subtitle"), &[][..])
        }
    };
    let with_passkeys = flow.autofill.is_some() && matches!(flow.step, Step::Identify);
    let extra: &[&str] = if with_passkeys { STRINGS_PASSKEY } else { &[] };
    let mut strings: BTreeMap<String, String> = keys
        .iter()
        .chain(extra)
        .filter_map(|k| p.texts.get(k).map(|t| ((*k).to_owned(), p.texts.fill(&t, &params))))
        .collect();
    // `title` and `subtitle` are what a generic client shows for any step.
    for (generic, key) in [("title", Some(title)), ("subtitle", subtitle)] {
        if let Some(t) = key.and_then(|k| p.texts.get(k)) {
            strings.insert(generic.into(), p.texts.fill(&t, &params));
        }
    }

    // Presented only to the browser that holds the flow (the shell checked).
    let binding = super::binding::secret(p.keys, p.handle);
    let current_authenticator = match &flow.step {
        Step::Challenge(challenge) => {
            let shown = challenge.present(p.now);
            Some(CurrentAuthenticator {
                key: challenge.kind().key().into(),
                display: shown.display,
                resend: shown.resend_after.map(|wait| Resend {
                    href: p.href(passway_protocol::names::RESEND),
                    retry_after_seconds: wait.as_secs_f64().ceil() as u32,
                }),
                poll: shown.out_of_band.then(|| Poll {
                    href: p.href(passway_protocol::names::CHALLENGE_POLL),
                    // Browsers open event streams without custom headers: the binding
                    // rides in the query (of this URL only, never one a person sees).
                    events: format!("{}/api/v1/flows/{}/events?binding={}", p.base_url, p.handle, binding),
                    interval_ms: 4000,
                }),
                expires_at: shown.expires_at.map(Timestamp::rfc3339),
                activation: None,
            })
        }
        Step::EnrollTotp { .. } => {
            let secret = super::enroll::totp_secret(flow, p.keys).expect("set up at this step");
            let account = flow.subject.as_ref().map_or("", |s| s.email.as_str());
            let uri = totp::otpauth_uri(&app.name, account, &secret);
            let encoded = totp::base32(&secret);
            let grouped: Vec<&str> =
                encoded.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).expect("base32 is ASCII")).collect();
            Some(CurrentAuthenticator {
                key: AuthenticatorKind::Totp.key().into(),
                display: app.name.clone(),
                resend: None,
                poll: None,
                expires_at: None,
                activation: Some(Activation {
                    qr_code: crate::qr::encode(&uri),
                    uri,
                    shared_secret: grouped.join(" "),
                }),
            })
        }
        _ => None,
    };

    let success = match reply {
        Reply::Success { code, .. } => Some(success(flow, Ok(code), p.base_url)),
        Reply::Denied => Some(success(flow, Err(("access_denied", "the person did not allow access")), p.base_url)),
        Reply::Flow | Reply::SignedIn { .. } | Reply::Link(_) => None,
    };
    let messages = notices
        .iter()
        .map(|n| {
            let text = p.text(n.key, n.key);
            let mut all = params.clone();
            all.extend(n.params.iter().map(|(k, v)| (*k, v.clone())));
            Message { key: n.key.to_owned(), text: p.texts.fill(&text, &all), level: n.level, field: n.field.clone() }
        })
        .collect();

    FlowResponse {
        version: PROTOCOL_VERSION.into(),
        handle: p.handle.to_owned(),
        binding: Some(binding),
        expires_at: flow.expires_at.rfc3339(),
        intent: flow.intent,
        app: p.app.clone(),
        user: subject.map(|identifier| UserInfo { identifier }),
        messages,
        remediations: if success.is_some() { vec![] } else { remediations },
        current_authenticator: if success.is_some() { None } else { current_authenticator },
        cancel: if success.is_some() { None } else { cancel },
        success,
        strings,
        locale: Some(p.texts.locale().to_owned()),
    }
}

/// The account page's choices say what each item is: a passkey's name, kind and dates,
/// a session's browser, address and last use.
fn name_account_items(remediations: &mut [Remediation], home: &super::account::AccountHome, p: &Presenter<'_>) {
    let date = |t: Timestamp| t.rfc3339().chars().take(10).collect::<String>();
    let fill = |key: &str, params: &[(&str, String)]| p.texts.fill(&p.text(key, key), params);
    for r in remediations.iter_mut() {
        // One choice is a button per item: its label says what the click does.
        let action = match r.name.as_str() {
            passway_protocol::names::REMOVE_AUTHENTICATOR => Some("account.remove_item"),
            passway_protocol::names::END_SESSION => Some("account.end_item"),
            _ => None,
        };
        for field in &mut r.fields {
            for option in &mut field.options {
                let item = if let Some(k) = home.passkeys.iter().find(|k| k.cred_id == option.value) {
                    let kind = match k.synced {
                        Some(true) => p.text("account.synced", "synced"),
                        _ => p.text("account.device_bound", "on one device"),
                    };
                    let used = match k.last_used_at {
                        Some(t) => fill("account.last_used", &[("date", date(t))]),
                        None => p.text("account.never_used", "never used"),
                    };
                    let params =
                        [("name", k.name.clone()), ("kind", kind), ("created", date(k.created_at)), ("used", used)];
                    fill("account.passkey_item", &params)
                } else if let Some(s) = home.sessions.iter().find(|s| s.id == option.value) {
                    let params = [("browser", s.browser.clone()), ("ip", s.ip.clone()), ("seen", date(s.last_seen_at))];
                    fill("account.session_item", &params)
                } else if field.label_key == "field.account_authenticator" {
                    p.text(&format!("account.{}", option.value), &option.value)
                } else {
                    continue;
                };
                option.label = match action {
                    Some(key) => fill(key, &[("item", item)]),
                    None => item,
                };
            }
        }
    }
}

fn remediation(form: Form, echo: Option<&(&'static str, Submission)>, p: &Presenter<'_>) -> Remediation {
    let echoed = echo.filter(|(name, _)| *name == form.name).map(|(_, values)| values);
    let fields = form
        .fields
        .into_iter()
        .map(|mut f| {
            f.label = p.text(&f.label_key, &f.label);
            // Secrets are never sent back.
            let secret = matches!(f.kind, FieldType::Password | FieldType::Otp);
            if let (Some(values), false, false) = (echoed, secret, f.read_only) {
                f.value = values.get(&f.name).cloned().or(f.value);
            }
            for o in &mut f.options {
                o.label = p.text(&format!("{}.{}", f.label_key, o.value), &o.label);
            }
            f
        })
        .collect();
    Remediation {
        name: form.name.to_owned(),
        href: p.href(form.name),
        method: "POST".into(),
        label: p.text(form.label_key, form.label_key),
        label_key: form.label_key.to_owned(),
        fields,
        webauthn: form.ceremony.and_then(|id| p.ceremonies.get(&id).cloned()),
        scopes: form
            .scopes
            .into_iter()
            .map(|name| ScopeInfo { description: p.text(&format!("scope.{name}"), &name), name })
            .collect(),
    }
}

/// The end of the flow: a code, or an OAuth error (RFC 6749 §4.1.2.1), with the
/// issuer that answered (RFC 9207: a client talking to several cannot be mixed up).
fn success(flow: &Flow, result: Result<&str, (&str, &str)>, issuer: &str) -> Success {
    let (code, error) = match result {
        Ok(code) => (Some(code.to_owned()), None),
        Err((error, description)) => (None, Some((error.to_owned(), description.to_owned()))),
    };
    match flow.origin {
        Origin::Hosted => {
            let mut url = url::Url::parse(&flow.request.redirect_uri).expect("redirect_uri validated at start");
            {
                let mut q = url.query_pairs_mut();
                match (&code, &error) {
                    (Some(code), _) => q.append_pair("code", code),
                    (_, Some((error, description))) => {
                        q.append_pair("error", error).append_pair("error_description", description)
                    }
                    (None, None) => unreachable!("a code or an error"),
                };
                if let Some(state) = &flow.request.state {
                    q.append_pair("state", state);
                }
                q.append_pair("iss", issuer);
            }
            Success {
                redirect_to: Some(url.into()),
                code: None,
                state: None,
                error: error.as_ref().map(|e| e.0.clone()),
                error_description: error.map(|e| e.1),
                iss: None,
            }
        }
        Origin::Embedded => Success {
            redirect_to: None,
            code,
            state: flow.request.state.clone(),
            error: error.as_ref().map(|e| e.0.clone()),
            error_description: error.map(|e| e.1),
            iss: Some(issuer.to_owned()),
        },
    }
}
