//! Effects: what a step asks the world to do. The engine returns them; the HTTP layer
//! applies them together with the new flow state, in one store transaction.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Ceremony, LogEntry, Proof, Timestamp};
use crate::authenticators::AuthenticatorKind;
use crate::authenticators::email::Purpose;
use crate::crypto::Digest;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    SendEmail(OutgoingEmail),
    /// Tell the account's owner what happened (sent when the app has this notice on).
    Notify {
        to: String,
        notice: AccountNotice,
    },
    CreateUser(NewUser),
    IssueCode(Box<IssuedCode>),
    Log(LogEntry),
    /// Start a WebAuthn ceremony (the shell runs webauthn-rs and stores its state).
    BeginCeremony(Ceremony),
    /// Store a newly registered passkey.
    SavePasskey(NewPasskey),
    /// Record that a passkey was used, with its new stored form if it changed.
    PasskeyUsed {
        cred_id: String,
        updated: Option<String>,
        at: Timestamp,
    },
    /// Open an SSO session; its cookie value goes to the browser with the reply.
    StartSession(NewSession),
    /// End a session: it was replaced by one with more proofs (a step-up).
    EndSession {
        id: String,
        at: Timestamp,
    },
    /// A session was used to sign in again: record the authenticators proven since.
    TouchSession {
        id: String,
        proofs: Vec<Proof>,
    },
    /// This browser (its device cookie digest) signed the account in.
    RememberDevice {
        user_id: String,
        device: Digest,
        at: Timestamp,
    },
    /// Replace the account's profile (progressive profiling added to it).
    UpdateProfile {
        user_id: String,
        profile: BTreeMap<String, String>,
        at: Timestamp,
    },
    /// Set (or replace) the account's password; clears its failed attempts and lockout.
    SetPassword {
        user_id: String,
        /// PHC string (argon2id).
        hash: String,
        at: Timestamp,
    },
    /// The right answer to a guessable authenticator: the attempts counted for the
    /// email in play (`subject`, see `authenticators::lockout`) are cleared, the one
    /// reserved for this answer too. (Wrong answers need no effect: each was counted
    /// when the shell reserved it.)
    AnswerAccepted {
        subject: Digest,
        authenticator: AuthenticatorKind,
    },
    /// Store the account's new TOTP secret (the shell seals it); its `last_step` is
    /// the step of the code that confirmed it, which cannot be used again.
    SaveTotp {
        user_id: String,
        totp: crate::authenticators::totp::TotpSecret,
        at: Timestamp,
    },
    /// A TOTP code was accepted for `step`: no code of that step or earlier works again.
    /// The store refuses a step that is not later (a code raced on another instance).
    TotpUsed {
        user_id: String,
        step: i64,
    },
    /// The account skipped enrolling these: count it towards the app's skip limit.
    EnrollmentSkipped {
        user_id: String,
        authenticators: Vec<AuthenticatorKind>,
    },
    /// End every SSO session and refresh token family of the account (after a reset).
    RevokeSessions {
        user_id: String,
        at: Timestamp,
    },
    /// The account page: remove an authenticator of the account (`cred_id` names a
    /// passkey).
    RemoveAuthenticator {
        user_id: String,
        kind: AuthenticatorKind,
        cred_id: String,
    },
    RenamePasskey {
        user_id: String,
        cred_id: String,
        name: String,
    },
    /// Every passkey of the account but `keep` goes (after a recovery made it).
    RemoveOldPasskeys {
        user_id: String,
        keep: String,
    },
    /// Every session of the account ends but `keep` (this browser's).
    EndOtherSessions {
        user_id: String,
        keep: Option<String>,
        at: Timestamp,
    },
    /// The account and everything kept about it go (its owner asked).
    EraseAccount {
        user_id: String,
        email: String,
        at: Timestamp,
    },
    /// Remember that the account allowed the app these scopes.
    RememberConsent {
        user_id: String,
        client_id: String,
        scope: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Public id (the ID token's `sid`).
    pub id: String,
    /// Digest of the cookie value.
    pub secret_hash: Digest,
    pub user_id: String,
    pub proofs: Vec<Proof>,
    pub expires_at: Timestamp,
    /// The browser and address it started from (listed on the account page).
    pub browser: String,
    pub ip: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPasskey {
    pub user_id: String,
    pub cred_id: String,
    /// Shown in lists of the account's passkeys, e.g. "Chrome on Linux".
    pub name: String,
    /// The serialised webauthn-rs `Passkey`.
    pub passkey: String,
    pub created_at: Timestamp,
}

/// A challenge email. It carries the secret in clear: it goes to the mailer, never to
/// the flow state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub client_id: String,
    pub purpose: Purpose,
    pub code: String,
    pub link_token: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub id: String,
    pub email: String,
    pub profile: BTreeMap<String, String>,
    pub created_at: Timestamp,
}

/// An authorization code: only its digest is stored, with what it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    pub code_hash: Digest,
    pub grant: Grant,
}

/// What an authorization code (and the tokens it is exchanged for) stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: Timestamp,
    /// Authentication methods used (RFC 8176 style), in order.
    pub amr: Vec<String>,
    /// The authenticators proven, and when (for assurance decisions).
    #[serde(default)]
    pub proofs: Vec<Proof>,
    pub expires_at: Timestamp,
    /// The SSO session the sign-in belongs to (the ID token's `sid`).
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub acr_values: Option<String>,
    /// The API its access tokens are for (RFC 8707), when one was asked for.
    #[serde(default)]
    pub resource: Option<String>,
    /// Refresh tokens of this sign-in end at this instant, however often rotated (set
    /// when the code is exchanged).
    #[serde(default)]
    pub refresh_until: Option<Timestamp>,
}

/// What a notice email tells an account's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountNotice {
    /// The account was just created.
    Welcome,
    /// A sign-in from a browser the account had not used.
    NewDevice,
    /// The password was reset.
    PasswordChanged,
    AuthenticatorAdded(crate::authenticators::AuthenticatorKind),
    AuthenticatorRemoved(crate::authenticators::AuthenticatorKind),
    /// Too many wrong answers: signing in with it is paused for `minutes`.
    Locked {
        kind: crate::authenticators::AuthenticatorKind,
        minutes: u64,
    },
}
