//! `[hooks]`: event and inline hooks, checked as an operator would want them refused —
//! with the line — before anything is sent: a secret written in the file, a URL that is
//! not https (plain http only to loopback in dev mode) or points at a link-local
//! address, an unknown event type or hook point, a filter that does not parse, two
//! hooks of one point for one app, an import hook that would let a password in when
//! it fails.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::ConfigError;
use super::file;
use super::validate::Checker;
use crate::engine::EventType;
use crate::engine::hook::{HookPoint, HookRule, InlineHooks, OnFailure};
use crate::events::filter::Filter;
use crate::hooks::inline::{self, InlineHook};
use crate::hooks::{DEFAULT_TIMEOUT, EventHook, HookConfig, MAX_TIMEOUT, Secret, outbound, signature};

pub fn hooks(c: &Checker<'_>, h: &file::Hooks, path: &Path, dev_mode: bool) -> Result<HookConfig, ConfigError> {
    let mut events: Vec<EventHook> = vec![];
    for (i, entry) in h.events.iter().enumerate() {
        let e = entry.get_ref();
        let key = |k: &str| format!("hooks.events[{i}].{k}");
        let name = e.name.get_ref();
        check_name(c, &e.name, &key("name"))?;
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
    let inline = inline(c, h, path, dev_mode)?;
    Ok(HookConfig { events, inline, allow_link_local: h.allow_link_local })
}

fn inline(c: &Checker<'_>, h: &file::Hooks, path: &Path, dev_mode: bool) -> Result<Vec<InlineHook>, ConfigError> {
    let mut hooks: Vec<InlineHook> = vec![];
    for (i, entry) in h.inline.iter().enumerate() {
        let e = entry.get_ref();
        let key = |k: &str| format!("hooks.inline[{i}].{k}");
        let name = e.name.get_ref();
        check_name(c, &e.name, &key("name"))?;
        if hooks.iter().any(|other| &other.name == name)
            || h.events.iter().any(|ev| ev.get_ref().name.get_ref() == name)
        {
            return c.err(e.name.span(), key("name"), format!("{name:?} names another hook already"));
        }
        let Some(point) = HookPoint::from_name(e.point.get_ref()) else {
            let known: Vec<&str> = HookPoint::ALL.iter().map(|p| p.name()).collect();
            return c.err(
                e.point.span(),
                key("type"),
                format!("unknown hook point {:?}: expected one of {}", e.point.get_ref(), known.join(", ")),
            );
        };
        if let Some(why) = outbound::refuses(e.url.get_ref(), dev_mode, h.allow_link_local) {
            return c.err(e.url.span(), key("url"), why);
        }
        let secret = secret(c, &e.secret, &key("secret"), path)?;
        let on_failure = match e.on_failure.get_ref().as_str() {
            "allow" if point == HookPoint::PasswordImport => {
                return c.err(
                    e.on_failure.span(),
                    key("on_failure"),
                    "a password import hook that fails cannot let a password in: write on_failure = \"deny\"",
                );
            }
            "allow" => OnFailure::Allow,
            "deny" => OnFailure::Deny,
            other => {
                return c.err(
                    e.on_failure.span(),
                    key("on_failure"),
                    format!("expected \"allow\" or \"deny\", found {other:?}"),
                );
            }
        };
        let timeout = match &e.timeout_seconds {
            None => inline::DEFAULT_TIMEOUT,
            Some(t) if (1..=inline::MAX_TIMEOUT.as_secs() as u32).contains(t.get_ref()) => {
                Duration::from_secs(u64::from(*t.get_ref()))
            }
            Some(t) => {
                return c.err(
                    t.span(),
                    key("timeout_seconds"),
                    format!("expected 1 to {}, found {}", inline::MAX_TIMEOUT.as_secs(), t.get_ref()),
                );
            }
        };
        let apps = match &e.apps {
            Some(apps) if point == HookPoint::PasswordImport => {
                return c.err(
                    apps.span(),
                    key("apps"),
                    "a password import hook serves every app (an account signs in to any of them)",
                );
            }
            Some(apps) => Some(apps.get_ref().iter().map(|a| a.get_ref().clone()).collect()),
            None => None,
        };
        hooks.push(InlineHook {
            name: name.clone(),
            point,
            url: e.url.get_ref().clone(),
            secret,
            timeout,
            on_failure,
            apps,
        });
    }
    Ok(hooks)
}

/// Each app's inline hooks, by point: at most one per point for an app, and every app
/// named is configured.
pub fn app_hooks(
    c: &Checker<'_>,
    h: &file::Hooks,
    hooks: &[InlineHook],
    client_ids: &[String],
) -> Result<BTreeMap<String, InlineHooks>, ConfigError> {
    let mut by_app: BTreeMap<String, InlineHooks> = client_ids.iter().map(|id| (id.clone(), BTreeMap::new())).collect();
    for (i, (hook, entry)) in hooks.iter().zip(&h.inline).enumerate() {
        let e = entry.get_ref();
        if let Some(apps) = &e.apps {
            for app in apps.get_ref() {
                if !client_ids.contains(app.get_ref()) {
                    return c.err(
                        app.span(),
                        format!("hooks.inline[{i}].apps"),
                        format!("no app has client_id {:?}", app.get_ref()),
                    );
                }
            }
        }
        for (client_id, points) in &mut by_app {
            if hook.apps.as_ref().is_some_and(|apps| !apps.contains(client_id)) {
                continue;
            }
            let rule = HookRule { name: hook.name.clone(), on_failure: hook.on_failure };
            if let Some(other) = points.insert(hook.point, rule) {
                return c.err(
                    e.name.span(),
                    format!("hooks.inline[{i}]"),
                    format!(
                        "the app {client_id:?} already calls {:?} as its {} hook: one hook per point and app",
                        other.name,
                        hook.point.name()
                    ),
                );
            }
        }
    }
    Ok(by_app)
}

fn check_name(c: &Checker<'_>, name: &toml::Spanned<String>, key: &str) -> Result<(), ConfigError> {
    let n = name.get_ref();
    if n.is_empty()
        || n.len() > 64
        || !n.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_')
    {
        return c.err(name.span(), key, format!("expected up to 64 of a-z, 0-9, - and _, found {n:?}"));
    }
    Ok(())
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
