//! System log entries as the engine (and the shell around it) describe them: what
//! happened, to whom, with what outcome. `events/` adds the request's client, an id and
//! the time, and writes them as Okta LogEvents. [`EventType`] is the catalogue: every
//! event Passway writes, and when.

use serde::{Deserialize, Serialize};

use crate::authenticators::AuthenticatorKind;

/// A system log entry, before the shell adds the request's client, an id and the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub event_type: EventType,
    pub severity: Severity,
    pub outcome: LogOutcome,
    pub reason: Option<String>,
    /// The user concerned, when known: (id, email). Left out, the shell names the person
    /// the flow is about, if any.
    pub actor: Option<(String, String)>,
    /// An operator acting through the admin API (over `actor`, which then names no one).
    pub admin: Option<AdminActor>,
    /// What it was done to, besides the app (which the shell adds).
    pub targets: Vec<Target>,
    /// The authenticator the event is about (`authenticationContext.credentialType`).
    pub credential: Option<AuthenticatorKind>,
    pub message: String,
    /// Details for whoever debugs (`debugContext.debugData`): never a secret, a code or a
    /// token.
    pub debug: Vec<(&'static str, String)>,
}

impl LogEntry {
    /// An entry with the severity its outcome suggests (INFO on success, WARN otherwise).
    pub fn new(event_type: EventType, outcome: LogOutcome, message: impl Into<String>) -> LogEntry {
        LogEntry {
            event_type,
            severity: if outcome == LogOutcome::Success { Severity::Info } else { Severity::Warn },
            outcome,
            reason: None,
            actor: None,
            admin: None,
            targets: vec![],
            credential: None,
            message: message.into(),
            debug: vec![],
        }
    }

    pub fn reason(mut self, reason: impl Into<String>) -> LogEntry {
        self.reason = Some(reason.into());
        self
    }

    pub fn actor(mut self, id: impl Into<String>, email: impl Into<String>) -> LogEntry {
        self.actor = Some((id.into(), email.into()));
        self
    }

    pub fn by_admin(mut self, admin: AdminActor) -> LogEntry {
        self.admin = Some(admin);
        self
    }

    pub fn target(mut self, target: Target) -> LogEntry {
        self.targets.push(target);
        self
    }

    pub fn credential(mut self, kind: AuthenticatorKind) -> LogEntry {
        self.credential = Some(kind);
        self
    }

    pub fn severity(mut self, severity: Severity) -> LogEntry {
        self.severity = severity;
        self
    }

    pub fn debug(mut self, key: &'static str, value: impl Into<String>) -> LogEntry {
        self.debug.push((key, value.into()));
        self
    }
}

/// Who used the admin API: an admin token (by a digest prefix, never the token), or an
/// app with a `client_credentials` token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminActor {
    pub id: String,
    /// Okta's actor type: `AdminToken` or `PublicClientApp`.
    pub kind: &'static str,
}

/// What an event was done to (`target[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    User {
        id: String,
        email: String,
    },
    Passkey {
        id: String,
        name: String,
    },
    /// A password or an authenticator app, by the account it belongs to.
    Authenticator {
        kind: AuthenticatorKind,
        user_id: String,
    },
    Session {
        id: String,
    },
    /// A refresh token family.
    TokenFamily {
        id: String,
    },
    /// An event hook.
    EventHook {
        name: String,
    },
    InlineHook {
        name: String,
    },
    /// A group kept in the store.
    Group {
        name: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Debug,
    Info,
    Warn,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Debug => "DEBUG",
            Severity::Info => "INFO",
            Severity::Warn => "WARN",
            Severity::Error => "ERROR",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogOutcome {
    Success,
    Failure,
    /// A policy refused.
    Deny,
    /// A policy asked for more.
    Challenge,
}

impl LogOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            LogOutcome::Success => "SUCCESS",
            LogOutcome::Failure => "FAILURE",
            LogOutcome::Deny => "DENY",
            LogOutcome::Challenge => "CHALLENGE",
        }
    }
}

macro_rules! event_types {
    ($($variant:ident = $name:literal, $when:literal;)*) => {
        /// Every event type Passway writes. Okta's names where one fits.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType { $($variant,)* }

        impl EventType {
            pub const ALL: &[EventType] = &[$(EventType::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(EventType::$variant => $name,)* }
            }

            /// When it fires (the README's catalogue).
            pub fn when(self) -> &'static str {
                match self { $(EventType::$variant => $when,)* }
            }
        }
    };
}

event_types! {
    UserRegistrationCreate = "user.registration.create",
        "A person registered: a new email proven in a registration flow (actor and target: the new account).";
    UserLifecycleCreate = "user.lifecycle.create",
        "An account was created, with the registration (target: the account).";
    UserAuthenticationChallengeSent = "user.authentication.challenge.sent",
        "An email with a code and a magic link was sent (or, for recovery of an unknown address, an email saying there is no account).";
    UserAuthenticationVerify = "user.authentication.verify",
        "An answer to a challenge was checked: SUCCESS, or FAILURE with the reason (wrong code, wrong password, magic link opened in another browser, challenge ended).";
    UserAuthenticationAuthViaMfa = "user.authentication.auth_via_mfa",
        "A further authenticator was proven in a flow that already had a proof (step-up or a second factor).";
    UserAccountLock = "user.account.lock",
        "Too many wrong answers: the address is locked out of an authenticator for a while.";
    UserAuthenticationSso = "user.authentication.sso",
        "A person signed in to an app with an existing session (no new proof).";
    UserSessionStart = "user.session.start",
        "A new session started: a person signed in.";
    UserSessionEnd = "user.session.end",
        "A session ended: the person signed out (RP-initiated logout).";
    UserAuthenticationAnonymous = "user.authentication.anonymous",
        "An app whose rule lets anyone in got a code for an anonymous guest.";
    PolicyEvaluateSignOn = "policy.evaluate_sign_on",
        "The app's sign-on policy denied a sign-in or asked for a step-up (outcome DENY or CHALLENGE, the rule in the reason).";
    PolicyEvaluateSession = "policy.evaluate_session",
        "The global session policy refused to start a session with what was proven.";
    UserAccountUpdateProfile = "user.account.update_profile",
        "Progressive profiling: a signed-in person filled in attributes an app needs.";
    UserMfaFactorActivate = "user.mfa.factor.activate",
        "An authenticator was enrolled: a passkey, a password or an authenticator app (target: it).";
    UserAccountRecoveryStart = "user.account.recovery.start",
        "A person started account recovery.";
    UserAccountRecoveryRefuse = "user.account.recovery.refuse",
        "Recovery was refused: the recovery policy offers this account no way back.";
    UserAccountResetPassword = "user.account.reset_password",
        "Recovery ended: the account proved itself and reset its authenticators.";
    ConsentGrant = "app.oauth2.as.consent.grant",
        "A person allowed an app the scopes it asked for.";
    ConsentDeny = "app.oauth2.as.consent.deny",
        "A person refused an app the scopes it asked for.";
    TokenGrantIdToken = "app.oauth2.token.grant.id_token",
        "An authorization code was exchanged for tokens (target: the app and the token family).";
    TokenGrantRefreshToken = "app.oauth2.token.grant.refresh_token",
        "A refresh token was rotated for new tokens.";
    TokenDetectReuse = "app.oauth2.as.token.detect_reuse",
        "A spent authorization code or refresh token was presented again: what it issued is revoked.";
    TokenRevoke = "app.oauth2.token.revoke",
        "An app revoked a token (RFC 7009).";
    PasskeyPossibleClone = "security.authenticator.possible_clone",
        "A passkey answered with a signature counter that went backwards: it may have been cloned. The answer is refused.";
    RequestBlocked = "security.request.blocked",
        "A rate limit refused requests (once per burst, per limit and key).";
    EventHookVerified = "event_hook.verified",
        "An event hook's endpoint echoed its one-time verification challenge: deliveries start.";
    EventHookVerificationFailed = "event_hook.verification_failed",
        "An event hook's endpoint did not echo its verification challenge: it gets nothing until it does.";
    EventHookFailing = "event_hook.delivery.failing",
        "An event hook's deliveries have failed for a day: it is marked failing (deliveries keep being retried, hourly).";
    EventHookRecovered = "event_hook.delivery.recovered",
        "A failing event hook took a delivery again: it is active, and the backlog follows.";
    UserLifecycleCreateByAdmin = "user.lifecycle.create.admin",
        "An operator created an account through the admin API (target: it).";
    UserLifecycleInvite = "user.lifecycle.invite",
        "An operator invited an address to an app: an email with a link to a registration bound to it (nothing is created until it is proven).";
    UserLifecycleDeactivate = "user.lifecycle.deactivate",
        "An operator deactivated an account: it signs in nowhere, and its sessions and tokens ended.";
    UserLifecycleReactivate = "user.lifecycle.reactivate",
        "An operator reactivated an account.";
    UserLifecycleDelete = "user.lifecycle.delete.completed",
        "An operator erased an account (GDPR): profile, authenticators, sessions, tokens and known browsers went; the log keeps its id, not its address.";
    UserAccountUnlock = "user.account.unlock_by_admin",
        "An operator lifted an address's lockouts.";
    UserSessionClear = "user.session.clear",
        "An operator ended an account's sessions (all, or one) or one of its token families.";
    UserMfaFactorDeactivate = "user.mfa.factor.deactivate",
        "An operator removed an authenticator of an account (a passkey, the authenticator app or the password).";
    UserMfaFactorUpdate = "user.mfa.factor.update",
        "An operator renamed a passkey.";
    UserMfaFactorResetAll = "user.mfa.factor.reset_all",
        "An operator reset an account's authenticators: it enrols anew at its next sign-in.";
    UserAccountUpdateProfileByAdmin = "user.account.update_profile.admin",
        "An operator changed an account's profile attributes.";
    GroupLifecycleCreate = "group.lifecycle.create",
        "A group was created in the store (admin API or `passway groups`).";
    GroupLifecycleDelete = "group.lifecycle.delete",
        "A group was deleted from the store, with its memberships.";
    GroupMembershipAdd = "group.user_membership.add",
        "An account was added to a store group.";
    GroupMembershipRemove = "group.user_membership.remove",
        "An account was removed from a store group.";
    InlineHookExecuted = "inline_hook.executed",
        "An inline hook was called: SUCCESS (its commands were applied), DENY (it refused), or FAILURE (no answer in time, not 2xx, garbage, a command it may not give; the reason says which, and what `on_failure` did), with its duration in `debugContext.durationMs`.";
}

impl EventType {
    pub fn from_name(name: &str) -> Option<EventType> {
        EventType::ALL.iter().copied().find(|t| t.name() == name)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
