//! `[hooks]`: event hooks, checked as an operator would want them refused — with the
//! line — before anything is sent: a secret written in the file, a URL that is not
//! https (plain http only to loopback in dev mode) or points at a link-local address,
//! an unknown event type, a filter that does not parse.

use std::path::Path;
use std::time::Duration;

use super::ConfigError;
use super::file;
use super::validate::Checker;
use crate::engine::EventType;
use crate::events::filter::Filter;
use crate::hooks::{DEFAULT_TIMEOUT, EventHook, HookConfig, MAX_TIMEOUT, Secret, outbound, signature};

pub fn hooks(c: &Checker<'_>, h: &file::Hooks, path: &Path, dev_mode: bool) -> Result<HookConfig, ConfigError> {
    let mut events: Vec<EventHook> = vec![];
    for (i, entry) in h.events.iter().enumerate() {
        let e = entry.get_ref();
        let key = |k: &str| format!("hooks.events[{i}].{k}");
        let name = e.name.get_ref();
        if name.is_empty()
            || name.len() > 64
            || !name.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_')
        {
            return c.err(
                e.name.span(),
                key("name"),
                format!("expected up to 64 of a-z, 0-9, - and _, found {name:?}"),
            );
        }
        if events.iter().any(|other| &other.name == name) {
            return c.err(e.name.span(), key("name"), format!("{name:?} names another hook already"));
        }
        if let Some(why) = outbound::refuses(e.url.get_ref(), dev_mode, h.allow_link_local) {
            return c.err(e.url.span(), key("url"), why);
        }
        let mut types = vec![];
        for t in e.events.get_ref() {
            match EventType::from_name(t.get_ref()) {
                Some(known) => types.push(known),
                None => {
                    return c.err(
                        t.span(),
                        key("events"),
                        format!(
                            "unknown event type {:?} (the README lists them, under \"The system log\")",
                            t.get_ref()
                        ),
                    );
                }
            }
        }
        if types.is_empty() {
            return c.err(e.events.span(), key("events"), "name at least one event type");
        }
        let filter = match &e.filter {
            None => None,
            Some(f) => Some(Filter::parse(f.get_ref()).or_else(|err| c.err(f.span(), key("filter"), err.to_string()))?),
        };
        let secret = secret(c, &e.secret, &key("secret"), path)?;
        let timeout = match &e.timeout_seconds {
            None => DEFAULT_TIMEOUT,
            Some(t) if (1..=MAX_TIMEOUT.as_secs() as u32).contains(t.get_ref()) => {
                Duration::from_secs(u64::from(*t.get_ref()))
            }
            Some(t) => {
                return c.err(
                    t.span(),
                    key("timeout_seconds"),
                    format!("expected 1 to {}, found {}", MAX_TIMEOUT.as_secs(), t.get_ref()),
                );
            }
        };
        events.push(EventHook {
            name: name.clone(),
            url: e.url.get_ref().clone(),
            events: types,
            filter,
            secret,
            timeout,
        });
    }
    Ok(HookConfig { events, allow_link_local: h.allow_link_local })
}

/// A hook secret by reference: an environment variable or a file (relative to the
/// config file), holding a Standard Webhooks secret (`whsec_` and base64).
fn secret(c: &Checker<'_>, value: &toml::Spanned<toml::Value>, key: &str, path: &Path) -> Result<Secret, ConfigError> {
    let span = value.span();
    let how = "write { env = \"NAME\" } or { file = \"PATH\" } and keep the secret there";
    let table = match value.get_ref() {
        toml::Value::Table(t) => t,
        toml::Value::String(_) => return c.err(span, key, format!("a secret may not be written in the config: {how}")),
        _ => return c.err(span, key, how),
    };
    let text = match (table.get("env"), table.get("file"), table.len()) {
        (Some(toml::Value::String(var)), None, 1) => match std::env::var(var) {
            Ok(v) => v,
            Err(_) => return c.err(span, key, format!("the environment variable {var} is not set")),
        },
        (None, Some(toml::Value::String(file)), 1) => {
            let file = super::resolve_relative(path, Path::new(file));
            match std::fs::read_to_string(&file) {
                Ok(v) => v,
                Err(e) => return c.err(span, key, format!("cannot read {}: {e}", file.display())),
            }
        }
        _ => return c.err(span, key, how),
    };
    match signature::parse_secret(&text) {
        Some(secret) => Ok(secret),
        None => c.err(
            span,
            key,
            "expected a Standard Webhooks secret: whsec_ and the base64 of 24 to 64 random bytes (openssl rand -base64 32)",
        ),
    }
}
