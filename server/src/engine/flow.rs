//! The state of one journey, as stored between steps.

use std::collections::BTreeMap;

use passway_protocol::Intent;
use serde::{Deserialize, Serialize};

use passway_protocol::{Field, Submission};

use super::Ceremony;
use super::Timestamp;
use crate::authenticators::email::{Email, EmailChallenge};
use crate::authenticators::passkey::{Passkey, PasskeyChallenge};
use crate::authenticators::password::{Password, PasswordChallenge};
use crate::authenticators::totp::{Totp, TotpChallenge};
use crate::authenticators::{Authenticator, AuthenticatorKind, Presentation, Verdict, VerifyContext};
use crate::crypto::Digest;
use crate::crypto::Entropy;

/// Everything the engine knows about a flow. Serialised whole into the store; the
/// bearer handle is not part of it (only its digest is stored, beside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// Public, non-secret identifier (it appears in magic links).
    pub id: String,
    pub client_id: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub intent: Intent,
    pub origin: Origin,
    pub request: AuthRequest,
    pub requester: Requester,
    /// The email address the person gave, once they gave one.
    pub subject: Option<Subject>,
    /// Registration answers, kept until the email is proven.
    #[serde(default)]
    pub profile: BTreeMap<String, String>,
    /// Authenticators proven in this flow, in order.
    #[serde(default)]
    pub proofs: Vec<Proof>,
    pub step: Step,
    /// Challenge emails sent by this flow (capped, so resend cannot be abused).
    #[serde(default)]
    pub emails_sent: u8,
    /// The account signing in (user id), once proven or created.
    #[serde(default)]
    pub account: Option<String>,
    /// The authenticators the identified account can use, for
    /// `select-authenticator-authenticate`.
    #[serde(default)]
    pub authenticators: Vec<AuthenticatorKind>,
    /// The passkey ceremony for signing in without typing an identifier, while at
    /// `identify` (autofill).
    #[serde(default)]
    pub autofill: Option<Ceremony>,
    /// The SSO session this flow continues (id), when it was resumed from one.
    #[serde(default)]
    pub session: Option<String>,
    /// The proofs that session held when the flow resumed it: proving more (a step-up)
    /// replaces the session with a new one (new cookie, new `sid`).
    #[serde(default)]
    pub resumed_proofs: Vec<Proof>,
    /// The person skipped the app's optional profile questions in this flow.
    #[serde(default)]
    pub profile_skipped: bool,
    /// Optional authenticators were offered in this flow (once is enough: having set up
    /// one, the person is not asked about the others again right away).
    #[serde(default)]
    pub enrollment_offered: bool,
    /// The address an operator invited: the only one this flow registers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited: Option<String>,
    /// On the account page: a sensitive change waiting for a fresh proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<super::account::Pending>,
}

impl Flow {
    /// A flow at `step` for what `new` asks, with nothing proven or answered yet.
    pub fn new(id: String, new: super::NewFlow, step: Step, created_at: Timestamp, expires_at: Timestamp) -> Flow {
        Flow {
            id,
            client_id: new.client_id,
            created_at,
            expires_at,
            intent: new.intent,
            origin: new.origin,
            request: new.request,
            requester: new.requester,
            subject: None,
            profile: BTreeMap::new(),
            proofs: vec![],
            step,
            emails_sent: 0,
            account: None,
            authenticators: vec![],
            autofill: None,
            session: None,
            resumed_proofs: vec![],
            profile_skipped: false,
            enrollment_offered: false,
            pending: None,
            invited: new.invited,
        }
    }

    pub fn has_proven(&self, kind: AuthenticatorKind) -> bool {
        self.proofs.iter().any(|p| p.authenticator == kind)
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.step, Step::Completed | Step::AccountDeleted)
    }
}

/// How the flow was started, which decides how success is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// By `/oauth2/v1/authorize`: success redirects the browser to the app.
    Hosted,
    /// By the flow API (the embedded widget): success hands a code to the client.
    Embedded,
}

/// The OAuth 2.0 authorization request the flow will answer. Already validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// PKCE S256 challenge; only a confidential client may go without.
    pub code_challenge: Option<String>,
    pub login_hint: Option<String>,
    #[serde(default)]
    pub prompt: Prompt,
    /// Seconds since the last authentication after which it must be repeated.
    #[serde(default)]
    pub max_age: Option<u64>,
    /// Requested authentication context classes, recorded for the policy layer.
    #[serde(default)]
    pub acr_values: Option<String>,
    /// The interface language chosen from `ui_locales`, over the browser's.
    #[serde(default)]
    pub ui_locale: Option<String>,
    /// The API the access token is for (RFC 8707), validated.
    #[serde(default)]
    pub resource: Option<String>,
}

/// OIDC `prompt` values (Core §3.1.2.1). `none` is answered by the shell before a
/// flow exists, so it is not kept here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// Authenticate again even with a live session.
    #[serde(default)]
    pub login: bool,
    /// Ask for consent even when it was given before.
    #[serde(default)]
    pub consent: bool,
}

/// Who asked for this flow: shown when a magic link is opened elsewhere, and used to
/// recognise the same browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    /// Digest of the device cookie of the browser that started the flow.
    pub device: Option<Digest>,
    /// A short description such as "Chrome on Linux".
    pub browser: String,
    pub ip: String,
    /// Negotiated interface language, for emails sent later in the flow.
    pub locale: String,
    /// The browser's operating system, for sign-on rules.
    #[serde(default)]
    pub platform: crate::policy::Platform,
    /// The risk of the request, for sign-on rules (`low` until something assesses it).
    #[serde(default)]
    pub risk: crate::policy::RiskLevel,
    /// The custom domain (`[themes.hostnames]`, as the browser named it, with its port)
    /// the flow started on: its pages, links and brand are that domain's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// Normalised (trimmed, lower-case) email address.
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    pub authenticator: AuthenticatorKind,
    pub at: Timestamp,
}

/// Where the journey stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Asking who the person is.
    Identify,
    /// Asking for the registration attributes.
    EnrollProfile,
    /// A challenge is under way.
    Challenge(Challenge),
    /// Asking for profile attributes the app needs and the profile lacks
    /// (`enroll-profile-update`).
    EnrollProfileUpdate { attributes: Vec<String> },
    /// Offering to enrol an authenticator (`select-authenticator-enroll`); `required`
    /// when the enrollment policy or the app's assurance cannot do without one of
    /// `options` (no `skip` then).
    EnrollSelect {
        #[serde(default)]
        required: bool,
        /// What may be enrolled (empty in flows stored before passwords: a passkey).
        #[serde(default)]
        options: Vec<AuthenticatorKind>,
    },
    /// Choosing a password (`enroll-authenticator`).
    EnrollPassword {
        #[serde(default)]
        required: bool,
    },
    /// Setting up an authenticator app (`enroll-authenticator` with its first code).
    /// The secret is derived from `nonce` under the keyring, never stored here.
    EnrollTotp {
        nonce: String,
        #[serde(default)]
        required: bool,
    },
    /// Asking whose account to recover (`identify-recovery`).
    IdentifyRecovery,
    /// Recovery proven: choosing a new password (`reset-authenticator`).
    ResetPassword,
    /// Recovery proven, in an app without passwords: creating a new passkey
    /// (`reset-authenticator`).
    ResetPasskey { ceremony: Ceremony },
    /// The recovery policy allows none of the account's authenticators.
    CannotRecover,
    /// Creating a passkey (`enroll-authenticator`).
    EnrollPasskey {
        ceremony: Ceremony,
        #[serde(default)]
        required: bool,
    },
    /// Asking the person to allow the app the requested scopes (`consent`).
    Consent,
    /// The app's sign-on policy refuses this person here (rule name, for the log).
    Denied { rule: String },
    /// Success was issued; nothing more can happen.
    Completed,
    /// The account page, as drawn (what a submission is checked against).
    Account(Box<super::account::AccountHome>),
    /// The account was deleted by its owner; nothing more can happen.
    AccountDeleted,
    /// A recovery made a new passkey (`keep`): remove the account's `old` ones?
    ResetOldPasskeys { keep: String, old: usize },
}

/// A challenge under way, by authenticator. Each method hands over to that
/// authenticator's [`Authenticator`] implementation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "authenticator", rename_all = "snake_case")]
pub enum Challenge {
    Email(EmailChallenge),
    Passkey(PasskeyChallenge),
    Password(PasswordChallenge),
    Totp(TotpChallenge),
}

impl Challenge {
    pub fn kind(&self) -> AuthenticatorKind {
        match self {
            Challenge::Email(_) => Email::KIND,
            Challenge::Passkey(_) => Passkey::KIND,
            Challenge::Password(_) => Password::KIND,
            Challenge::Totp(_) => Totp::KIND,
        }
    }

    pub fn answer_fields(&self) -> Vec<Field> {
        match self {
            Challenge::Email(c) => Email::answer_fields(c),
            Challenge::Passkey(c) => Passkey::answer_fields(c),
            Challenge::Password(c) => Password::answer_fields(c),
            Challenge::Totp(c) => Totp::answer_fields(c),
        }
    }

    pub fn verify(&mut self, answer: &Submission, ctx: &VerifyContext<'_>) -> Verdict {
        match self {
            Challenge::Email(c) => Email::verify(c, answer, ctx),
            Challenge::Passkey(c) => Passkey::verify(c, answer, ctx),
            Challenge::Password(c) => Password::verify(c, answer, ctx),
            Challenge::Totp(c) => Totp::verify(c, answer, ctx),
        }
    }

    pub fn present(&self, now: Timestamp) -> Presentation {
        match self {
            Challenge::Email(c) => Email::present(c, now),
            Challenge::Passkey(c) => Passkey::present(c, now),
            Challenge::Password(c) => Password::present(c, now),
            Challenge::Totp(c) => Totp::present(c, now),
        }
    }

    pub fn renew(&mut self, rng: &mut dyn Entropy) -> Option<Ceremony> {
        match self {
            Challenge::Email(c) => Email::renew(c, rng),
            Challenge::Passkey(c) => Passkey::renew(c, rng),
            Challenge::Password(c) => Password::renew(c, rng),
            Challenge::Totp(c) => Totp::renew(c, rng),
        }
    }

    /// Whether wrong answers count towards a lockout (guessable secrets: a password,
    /// an authenticator app's code, an emailed code).
    pub fn locks_out(&self) -> bool {
        matches!(self, Challenge::Password(_) | Challenge::Totp(_) | Challenge::Email(_))
    }

    /// Whether `answer` would be checked (and so counts as an attempt): not an empty or
    /// malformed one, which is refused before any check.
    pub fn is_attempt(&self, answer: &Submission, now: Timestamp) -> bool {
        match self {
            Challenge::Email(c) => Email::is_attempt(c, answer, now),
            Challenge::Passkey(c) => Passkey::is_attempt(c, answer, now),
            Challenge::Password(c) => Password::is_attempt(c, answer, now),
            Challenge::Totp(c) => Totp::is_attempt(c, answer, now),
        }
    }

    /// The WebAuthn ceremony an answer must come from, if any.
    pub fn ceremony(&self) -> Option<&Ceremony> {
        match self {
            Challenge::Email(_) | Challenge::Password(_) | Challenge::Totp(_) => None,
            Challenge::Passkey(c) => Some(&c.ceremony),
        }
    }
}
