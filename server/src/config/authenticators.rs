//! The authenticator parts of the file: the password policy, the lockout, the recovery
//! policy, and each app's enrollment policy (per authenticator, per group).

use std::time::Duration;

use toml::Spanned;

use super::ConfigError;
use super::file::{self, AppEntry};
use super::validate::Checker;
use crate::authenticators::AuthenticatorKind;
use crate::authenticators::lockout::LockoutPolicy;
use crate::authenticators::password::{self, HashCost};
use crate::authenticators::password_policy::{CharClass, PasswordPolicy};
use crate::engine::{Enrollment, EnrollmentPolicy, Enrollments, GroupEnrollments};
use crate::policy::{Groups, RecoveryPolicy};

/// NIST SP 800-63B: at least 8 characters, and at least 64 must be allowed.
const MIN_LENGTH_FLOOR: u32 = 8;
const MAX_LENGTH_FLOOR: u32 = 64;
/// Beyond this a password only costs hashing time (a denial-of-service lever).
const MAX_LENGTH_CEILING: u32 = 1024;

pub fn passwords(c: &Checker<'_>, p: &file::Passwords) -> Result<PasswordPolicy, ConfigError> {
    let mut policy = PasswordPolicy::default();
    if let Some(n) = &p.min_length {
        if *n.get_ref() < MIN_LENGTH_FLOOR {
            return c.err(
                n.span(),
                "passwords.min_length",
                format!("expected at least {MIN_LENGTH_FLOOR} (NIST SP 800-63B), found {}", n.get_ref()),
            );
        }
        policy.min_length = *n.get_ref();
    }
    if let Some(n) = &p.max_length {
        if !(MAX_LENGTH_FLOOR..=MAX_LENGTH_CEILING).contains(n.get_ref()) {
            return c.err(
                n.span(),
                "passwords.max_length",
                format!("expected {MAX_LENGTH_FLOOR} to {MAX_LENGTH_CEILING} (NIST asks that at least 64 be allowed), found {}", n.get_ref()),
            );
        }
        policy.max_length = *n.get_ref();
    }
    if policy.min_length > policy.max_length {
        let span = p.min_length.as_ref().map(|n| n.span()).unwrap_or(0..0);
        return c.err(span, "passwords.min_length", "is more than passwords.max_length");
    }
    for (i, class) in p.require.iter().enumerate() {
        match CharClass::ALL.iter().find(|(name, _)| name == class.get_ref()) {
            Some((_, class)) if !policy.require.contains(class) => policy.require.push(*class),
            Some(_) => {}
            None => {
                let names: Vec<&str> = CharClass::ALL.iter().map(|(n, _)| *n).collect();
                return c.err(
                    class.span(),
                    format!("passwords.require[{i}]"),
                    format!("expected one of {}, found {:?}", names.join(", "), class.get_ref()),
                );
            }
        }
    }
    let cost = HashCost {
        memory_kib: p.memory_kib.as_ref().map_or(HashCost::OWASP.memory_kib, |v| *v.get_ref()),
        iterations: p.iterations.as_ref().map_or(HashCost::OWASP.iterations, |v| *v.get_ref()),
        parallelism: p.parallelism.as_ref().map_or(HashCost::OWASP.parallelism, |v| *v.get_ref()),
    };
    // OWASP's weakest acceptable argon2id setting is 7 MiB with 5 passes.
    let span = p.memory_kib.as_ref().or(p.iterations.as_ref()).or(p.parallelism.as_ref()).map(|v| v.span());
    if !password::valid_cost(cost) || cost.memory_kib < 7 * 1024 {
        return c.err(
            span.unwrap_or(0..0),
            "passwords.memory_kib",
            format!(
                "argon2id needs memory_kib of at least 7168 (OWASP) and at least 8 × parallelism, iterations ≥ 1 and parallelism ≥ 1; found m={}, t={}, p={}",
                cost.memory_kib, cost.iterations, cost.parallelism
            ),
        );
    }
    policy.cost = cost;
    Ok(policy)
}

pub fn lockout(c: &Checker<'_>, l: &file::Lockout) -> Result<LockoutPolicy, ConfigError> {
    let mut policy = LockoutPolicy::default();
    if let Some(n) = &l.attempts {
        if !(1..=100).contains(n.get_ref()) {
            return c.err(n.span(), "lockout.attempts", format!("expected 1 to 100, found {}", n.get_ref()));
        }
        policy.attempts = *n.get_ref();
    }
    if let Some(n) = &l.minutes {
        if !(1..=24 * 60).contains(n.get_ref()) {
            return c.err(n.span(), "lockout.minutes", format!("expected 1 to 1440, found {}", n.get_ref()));
        }
        policy.duration = Duration::from_secs(u64::from(*n.get_ref()) * 60);
    }
    Ok(policy)
}

pub fn recovery(c: &Checker<'_>, r: &file::Recovery) -> Result<RecoveryPolicy, ConfigError> {
    let mut policy = RecoveryPolicy::default();
    if let Some(list) = &r.authenticators {
        policy.authenticators = vec![];
        for (i, key) in list.get_ref().iter().enumerate() {
            let kind = match AuthenticatorKind::from_key(key.get_ref()) {
                Some(AuthenticatorKind::Password) => {
                    return c.err(
                        key.span(),
                        format!("recovery.authenticators[{i}]"),
                        "a password cannot recover an account: recovery is for a forgotten password",
                    );
                }
                Some(kind) => kind,
                None => {
                    return c.err(
                        key.span(),
                        format!("recovery.authenticators[{i}]"),
                        format!("expected \"email\", \"passkey\" or \"totp\", found {:?}", key.get_ref()),
                    );
                }
            };
            if policy.authenticators.contains(&kind) {
                return c.err(
                    key.span(),
                    format!("recovery.authenticators[{i}]"),
                    format!("{:?} is listed twice", key.get_ref()),
                );
            }
            policy.authenticators.push(kind);
        }
        if policy.authenticators.is_empty() {
            return c.err(list.span(), "recovery.authenticators", "expected at least one authenticator");
        }
    }
    if let Some(n) = &r.factors {
        let most = policy.authenticators.len() as u32;
        if !(1..=most).contains(n.get_ref()) {
            return c.err(
                n.span(),
                "recovery.factors",
                format!("expected 1 to {most} (the number of recovery authenticators), found {}", n.get_ref()),
            );
        }
        policy.factors = *n.get_ref() as usize;
    }
    policy.email_alone_for_phishing_resistant_apps = r.email_alone_for_phishing_resistant_apps;
    Ok(policy)
}

/// An app's enrollment policy: `passkeys` and `passwords`, then `[[apps.enrollment]]`
/// entries for groups, each over the app's own.
pub fn enrollment(
    c: &Checker<'_>,
    key: &str,
    a: &AppEntry,
    brand: &str,
    has_party: bool,
    groups: &Groups,
) -> Result<EnrollmentPolicy, ConfigError> {
    let app_default = Enrollments {
        passkey: if has_party { Enrollment::Optional } else { Enrollment::Off },
        password: Enrollment::Off,
        totp: Enrollment::Off,
    };
    let default = enrollments(c, key, Keys::of_app(a), app_default, brand, has_party)?;
    let mut by_group = vec![];
    for (i, entry) in a.enrollment.iter().enumerate() {
        let e = entry.get_ref();
        let entry_key = format!("{key}.enrollment[{i}]");
        if e.groups.is_empty() {
            return c.err(entry.span(), format!("{entry_key}.groups"), "expected at least one group");
        }
        for (j, g) in e.groups.iter().enumerate() {
            if !groups.0.contains_key(g.get_ref()) {
                return c.err(
                    g.span(),
                    format!("{entry_key}.groups[{j}]"),
                    format!("no group {:?} is defined", g.get_ref()),
                );
            }
        }
        let keys = Keys { passkeys: e.passkeys.as_ref(), passwords: e.passwords.as_ref(), totp: e.totp.as_ref() };
        let enrollments = enrollments(c, &entry_key, keys, default, brand, has_party)?;
        by_group.push(GroupEnrollments { groups: e.groups.iter().map(|g| g.get_ref().clone()).collect(), enrollments });
    }
    let skip_limit = match &a.skip_limit {
        None => None,
        Some(n) if (1..=100).contains(n.get_ref()) => Some(*n.get_ref()),
        Some(n) => {
            return c.err(n.span(), format!("{key}.skip_limit"), format!("expected 1 to 100, found {}", n.get_ref()));
        }
    };
    Ok(EnrollmentPolicy { default, by_group, skip_limit })
}

/// The enrollment keys of an app or of one of its group entries.
struct Keys<'a> {
    passkeys: Option<&'a Spanned<String>>,
    passwords: Option<&'a Spanned<String>>,
    totp: Option<&'a Spanned<String>>,
}

impl Keys<'_> {
    fn of_app(a: &AppEntry) -> Keys<'_> {
        Keys { passkeys: a.passkeys.as_ref(), passwords: a.passwords.as_ref(), totp: a.totp.as_ref() }
    }
}

fn enrollments(
    c: &Checker<'_>,
    key: &str,
    keys: Keys<'_>,
    base: Enrollments,
    brand: &str,
    has_party: bool,
) -> Result<Enrollments, ConfigError> {
    let passkey = match keys.passkeys {
        None => base.passkey,
        Some(p) => {
            let value = one(c, &format!("{key}.passkeys"), p)?;
            if value != Enrollment::Off && !has_party {
                return c.err(
                    p.span(),
                    format!("{key}.passkeys"),
                    format!("brand {brand:?} has no passkey relying party: add a [passkeys] section"),
                );
            }
            value
        }
    };
    let password = match keys.passwords {
        None => base.password,
        Some(p) => one(c, &format!("{key}.passwords"), p)?,
    };
    let totp = match keys.totp {
        None => base.totp,
        Some(p) => one(c, &format!("{key}.totp"), p)?,
    };
    Ok(Enrollments { passkey, password, totp })
}

fn one(c: &Checker<'_>, key: &str, value: &Spanned<String>) -> Result<Enrollment, ConfigError> {
    match value.get_ref().as_str() {
        "required" => Ok(Enrollment::Required),
        "optional" => Ok(Enrollment::Optional),
        "off" => Ok(Enrollment::Off),
        other => c.err(value.span(), key, format!("expected \"required\", \"optional\" or \"off\", found {other:?}")),
    }
}
