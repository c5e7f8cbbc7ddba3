//! `passway users import FILE`: accounts migrated from another system, one JSON object
//! per line: `{"email": "…", "profile": {"given_name": "…"}, "password_hash": "$argon2id$…"}`.
//! An account without `password_hash` signs in with its old password once: the
//! `password_import` inline hook asks the old system, and Passway stores its own
//! argon2id hash (see `engine::hook`). Addresses that have an account are left alone.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::crypto::{Entropy, uuid_v4};
use crate::engine::{NewUser, ProfileSchema, Timestamp, hook, validate};
use crate::store::{Commit, Store, StoreError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    email: String,
    #[serde(default)]
    profile: BTreeMap<String, String>,
    password_hash: Option<String>,
}

/// One account to create: the user and its stored password (a hash, or the import marker).
#[derive(Debug, PartialEq)]
pub struct Imported {
    pub user: NewUser,
    pub password: String,
}

/// Reads one line (`number` for messages) against the profile schema.
pub fn parse(
    line: &str,
    number: usize,
    schema: &ProfileSchema,
    now: Timestamp,
    rng: &mut dyn Entropy,
) -> Result<Imported, String> {
    let l: Line = serde_json::from_str(line).map_err(|e| format!("line {number}: {e}"))?;
    let email = validate::email(&l.email).map_err(|key| format!("line {number}: email {:?}: {key}", l.email))?;
    for (name, value) in &l.profile {
        let Some(attr) = schema.attributes.iter().find(|a| &a.name == name && a.name != "email") else {
            return Err(format!("line {number}: profile attribute {name:?} is not in the profile schema"));
        };
        if value.chars().count() > attr.max_length as usize {
            return Err(format!("line {number}: {name} is longer than {} characters", attr.max_length));
        }
    }
    let password = match l.password_hash {
        Some(h) if h.starts_with("$argon2id$") => h,
        Some(_) => return Err(format!("line {number}: password_hash must be an argon2id PHC string")),
        None => hook::IMPORT.to_owned(),
    };
    let user = NewUser { id: uuid_v4(rng), email, profile: l.profile, created_at: now };
    Ok(Imported { user, password })
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub created: usize,
    /// Addresses that already had an account.
    pub skipped: Vec<String>,
}

/// Creates the accounts of `text` (every line is checked before any is written).
pub async fn import(
    store: &dyn Store,
    schema: &ProfileSchema,
    text: &str,
    now: Timestamp,
    rng: &mut dyn Entropy,
) -> Result<Summary, ImportError> {
    let mut accounts = vec![];
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        accounts.push(parse(line, i + 1, schema, now, rng).map_err(ImportError::Line)?);
    }
    let mut summary = Summary::default();
    for a in accounts {
        if store.user_by_email(&a.user.email).await?.is_some() {
            summary.skipped.push(a.user.email);
            continue;
        }
        let passwords = vec![(a.user.id.clone(), a.password, now)];
        store.commit(Commit { users: vec![a.user], passwords, ..Commit::default() }).await?;
        summary.created += 1;
    }
    Ok(summary)
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Line(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SystemEntropy;
    use crate::engine::Attribute;

    fn check(line: &str, expect: &str) {
        let schema = ProfileSchema {
            attributes: vec![
                Attribute::email(),
                Attribute { name: "given_name".into(), max_length: 5, ..Attribute::email() },
            ],
        };
        let now = Timestamp::from_unix_seconds(1_900_000_000);
        let got = match parse(line, 3, &schema, now, &mut SystemEntropy) {
            Ok(i) => format!("{} {:?} {}", i.user.email, i.user.profile, i.password),
            Err(e) => e,
        };
        assert_eq!(got, expect);
    }

    #[test]
    fn lines_are_checked_against_the_schema() {
        check(r#"{"email": " Ada@Example.com "}"#, "ada@example.com {} $passway-import$");
        check(
            r#"{"email": "ada@example.com", "profile": {"given_name": "Ada"}}"#,
            r#"ada@example.com {"given_name": "Ada"} $passway-import$"#,
        );
        check(
            r#"{"email": "ada@example.com", "password_hash": "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"}"#,
            "ada@example.com {} $argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
        );
        check(
            r#"{"email": "ada@example.com", "password_hash": "5f4dcc3b5aa765d61d8327deb882cf99"}"#,
            "line 3: password_hash must be an argon2id PHC string",
        );
        check(
            r#"{"email": "ada@example.com", "profile": {"role": "admin"}}"#,
            r#"line 3: profile attribute "role" is not in the profile schema"#,
        );
        check(
            r#"{"email": "ada@example.com", "profile": {"given_name": "Adaline"}}"#,
            "line 3: given_name is longer than 5 characters",
        );
        check(r#"{"email": "not an email"}"#, r#"line 3: email "not an email": field.email.invalid"#);
        check(
            r#"{"mail": "ada@example.com"}"#,
            "line 3: unknown field `mail`, expected one of `email`, `profile`, `password_hash` at line 1 column 7",
        );
    }
}
