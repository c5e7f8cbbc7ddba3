//! Remediation names: the public vocabulary of the protocol.
//!
//! They follow Okta IDX so that people who know Okta recognise them. Add new ones in
//! the same style; never rename one (clients outside this repository match on them).

pub const IDENTIFY: &str = "identify";
/// Goes back to `identify` (e.g. from the registration form).
pub const SELECT_IDENTIFY: &str = "select-identify";
pub const SELECT_ENROLL_PROFILE: &str = "select-enroll-profile";
pub const ENROLL_PROFILE: &str = "enroll-profile";
pub const SELECT_AUTHENTICATOR_AUTHENTICATE: &str = "select-authenticator-authenticate";
pub const CHALLENGE_AUTHENTICATOR: &str = "challenge-authenticator";
/// Asks whether an out-of-band proof (a magic link) has arrived; advances if it has.
pub const CHALLENGE_POLL: &str = "challenge-poll";
/// Sends the current challenge again (subject to a cooldown).
pub const RESEND: &str = "resend";
pub const SELECT_AUTHENTICATOR_ENROLL: &str = "select-authenticator-enroll";
pub const ENROLL_AUTHENTICATOR: &str = "enroll-authenticator";
pub const ENROLL_PROFILE_UPDATE: &str = "enroll-profile-update";
/// Goes to `identify-recovery` ("Forgot password?").
pub const SELECT_IDENTIFY_RECOVERY: &str = "select-identify-recovery";
pub const IDENTIFY_RECOVERY: &str = "identify-recovery";
pub const RESET_AUTHENTICATOR: &str = "reset-authenticator";
pub const SKIP: &str = "skip";
pub const REDIRECT_IDP: &str = "redirect-idp";
pub const CONSENT: &str = "consent";
pub const CANCEL: &str = "cancel";
/// The account page (intent `account`): change profile attributes.
pub const UPDATE_PROFILE: &str = "update-profile";
/// The account page: remove a passkey, the authenticator app or the password.
pub const REMOVE_AUTHENTICATOR: &str = "remove-authenticator";
/// The account page: give a passkey another name.
pub const RENAME_AUTHENTICATOR: &str = "rename-authenticator";
/// The account page: sign out one of the account's other sessions.
pub const END_SESSION: &str = "end-session";
/// The account page: sign out every session but this browser's.
pub const END_OTHER_SESSIONS: &str = "end-other-sessions";
/// The account page: delete the account, confirmed.
pub const DELETE_ACCOUNT: &str = "delete-account";
/// After a recovery that made a new passkey: remove the ones the account had before.
pub const REMOVE_OLD_AUTHENTICATORS: &str = "remove-old-authenticators";
/// Sign in with a passkey without typing an identifier (autofill or a button).
pub const CHALLENGE_WEBAUTHN_AUTOFILL: &str = "challenge-webauthn-autofillui-authenticator";

/// Every remediation name, for clients and tests that must know them all.
pub const ALL: &[&str] = &[
    IDENTIFY,
    SELECT_IDENTIFY,
    SELECT_ENROLL_PROFILE,
    ENROLL_PROFILE,
    SELECT_AUTHENTICATOR_AUTHENTICATE,
    CHALLENGE_AUTHENTICATOR,
    CHALLENGE_POLL,
    RESEND,
    SELECT_AUTHENTICATOR_ENROLL,
    ENROLL_AUTHENTICATOR,
    ENROLL_PROFILE_UPDATE,
    SELECT_IDENTIFY_RECOVERY,
    IDENTIFY_RECOVERY,
    RESET_AUTHENTICATOR,
    SKIP,
    REDIRECT_IDP,
    CONSENT,
    CANCEL,
    CHALLENGE_WEBAUTHN_AUTOFILL,
    UPDATE_PROFILE,
    REMOVE_AUTHENTICATOR,
    RENAME_AUTHENTICATOR,
    END_SESSION,
    END_OTHER_SESSIONS,
    DELETE_ACCOUNT,
    REMOVE_OLD_AUTHENTICATORS,
];

/// Names reserved for what the engine does not do yet (`redirect-idp`: federation).
pub const NOT_YET_PRODUCED: &[&str] = &[REDIRECT_IDP];
