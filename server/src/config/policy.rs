//! The policy parts of the file: network zones, groups, and each app's sign-on rules.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::Spanned;

use super::ConfigError;
use super::file::{self, ConditionFields, RuleEntry};
use super::validate::Checker;
use crate::authenticators::{AuthenticatorKind, FactorType};
use crate::policy::{
    Access, Assurance, Cidr, Conditions, DeviceCondition, Groups, Members, Platform, RiskLevel, Rule, SessionPolicy,
    SessionRule, SignOnPolicy, Zones,
};

pub fn zones(c: &Checker<'_>, zones: &BTreeMap<String, Vec<Spanned<String>>>) -> Result<Zones, ConfigError> {
    let mut out = BTreeMap::new();
    for (name, blocks) in zones {
        let mut cidrs = vec![];
        for (i, block) in blocks.iter().enumerate() {
            match block.get_ref().parse::<Cidr>() {
                Ok(cidr) => cidrs.push(cidr),
                Err(why) => {
                    return c.err(
                        block.span(),
                        format!("zones.{name}[{i}]"),
                        format!("expected a CIDR block like \"10.0.0.0/8\": {why}"),
                    );
                }
            }
        }
        out.insert(name.clone(), cidrs);
    }
    Ok(Zones(out))
}

pub fn groups(c: &Checker<'_>, groups: &BTreeMap<String, Spanned<file::GroupEntry>>) -> Result<Groups, ConfigError> {
    let mut out = BTreeMap::new();
    for (name, entry) in groups {
        let g = entry.get_ref();
        let mut members = Members::default();
        for (i, email) in g.emails.iter().enumerate() {
            match crate::engine::validate::email(email.get_ref()) {
                Ok(e) => members.emails.push(e),
                Err(_) => {
                    return c.err(
                        email.span(),
                        format!("groups.{name}.emails[{i}]"),
                        format!("expected an email address, found {:?}", email.get_ref()),
                    );
                }
            }
        }
        for (i, domain) in g.domains.iter().enumerate() {
            let d = domain.get_ref().trim().to_lowercase();
            if d.is_empty() || d.contains('@') || d.contains(char::is_whitespace) {
                return c.err(
                    domain.span(),
                    format!("groups.{name}.domains[{i}]"),
                    format!("expected a domain like \"example.com\", found {:?}", domain.get_ref()),
                );
            }
            members.domains.push(d);
        }
        out.insert(name.clone(), members);
    }
    Ok(Groups(out))
}

/// The conditions of a rule, each name checked against what is defined.
pub fn conditions(
    c: &Checker<'_>,
    key: &str,
    r: &ConditionFields<'_>,
    zones: &Zones,
    groups: &Groups,
) -> Result<Conditions, ConfigError> {
    let names = |list: &[Spanned<String>],
                 field: &str,
                 known: &dyn Fn(&str) -> bool,
                 what: &str|
     -> Result<Vec<String>, ConfigError> {
        let mut out = vec![];
        for (j, v) in list.iter().enumerate() {
            if !known(v.get_ref()) {
                return c.err(
                    v.span(),
                    format!("{key}.{field}[{j}]"),
                    format!("no {what} {:?} is defined", v.get_ref()),
                );
            }
            out.push(v.get_ref().clone());
        }
        Ok(out)
    };
    let is_zone = |z: &str| zones.0.contains_key(z);
    let is_group = |g: &str| groups.0.contains_key(g);
    let device = match r.device.map(|d| (d, d.get_ref().as_str())) {
        None => None,
        Some((_, "known")) => Some(DeviceCondition::Known),
        Some((_, "new")) => Some(DeviceCondition::New),
        Some((d, other)) => {
            return c.err(d.span(), format!("{key}.device"), format!("expected \"known\" or \"new\", found {other:?}"));
        }
    };
    let mut platforms = vec![];
    for (j, p) in r.platforms.iter().enumerate() {
        match Platform::from_name(p.get_ref()) {
            Some(platform) => platforms.push(platform),
            None => {
                let all: Vec<&str> = Platform::ALL.iter().map(|p| p.name()).collect();
                return c.err(
                    p.span(),
                    format!("{key}.platforms[{j}]"),
                    format!("expected one of {}, found {:?}", all.join(", "), p.get_ref()),
                );
            }
        }
    }
    let mut risk = vec![];
    for (j, level) in r.risk.iter().enumerate() {
        match RiskLevel::from_name(level.get_ref()) {
            Some(level) => risk.push(level),
            None => {
                return c.err(
                    level.span(),
                    format!("{key}.risk[{j}]"),
                    format!("expected \"low\", \"medium\" or \"high\", found {:?}", level.get_ref()),
                );
            }
        }
    }
    Ok(Conditions {
        groups: names(r.groups, "groups", &is_group, "group")?,
        zones: names(r.zones, "zones", &is_zone, "zone")?,
        not_zones: names(r.not_zones, "not_zones", &is_zone, "zone")?,
        device,
        platforms,
        risk,
    })
}

/// The global session policy: `[[sessions.rules]]` first, then `[sessions]` itself as
/// the catch-all (its lifetime and idle time already read into `lifetimes`).
pub fn sessions(
    c: &Checker<'_>,
    s: &file::Sessions,
    lifetime: Duration,
    idle: Duration,
    zones: &Zones,
    groups: &Groups,
) -> Result<SessionPolicy, ConfigError> {
    let establish_with = |list: Option<&Spanned<Vec<Spanned<String>>>>, key: &str| -> Result<_, ConfigError> {
        let Some(list) = list else { return Ok(None) };
        let mut kinds = vec![];
        for (j, k) in list.get_ref().iter().enumerate() {
            match AuthenticatorKind::from_key(k.get_ref()) {
                Some(kind) if !kinds.contains(&kind) => kinds.push(kind),
                Some(_) => {}
                None => {
                    return c.err(
                        k.span(),
                        format!("{key}.establish_with[{j}]"),
                        format!("expected \"email\", \"passkey\", \"password\" or \"totp\", found {:?}", k.get_ref()),
                    );
                }
            }
        }
        if kinds.is_empty() {
            return c.err(
                list.span(),
                format!("{key}.establish_with"),
                "expected at least one authenticator (or leave it out: any)",
            );
        }
        Ok(Some(kinds))
    };
    let default = SessionRule {
        name: "Default".into(),
        when: Conditions::default(),
        lifetime,
        idle,
        establish_with: establish_with(s.establish_with.as_ref(), "sessions")?.unwrap_or_default(),
    };
    let mut rules = vec![];
    for (i, entry) in s.rules.iter().enumerate() {
        let r = entry.get_ref();
        let key = format!("sessions.rules[{i}]");
        let when = conditions(c, &key, &r.conditions(), zones, groups)?;
        if when.is_catch_all() {
            return c.err(
                entry.span(),
                key,
                format!(
                    "rule {:?} has no conditions: set what it applies to, or change [sessions] itself",
                    r.name.get_ref()
                ),
            );
        }
        let hours = |v: &Option<Spanned<u32>>, field: &str, max: u32, unit: u64| match v {
            None => Ok(None),
            Some(n) if (1..=max).contains(n.get_ref()) => Ok(Some(Duration::from_secs(u64::from(*n.get_ref()) * unit))),
            Some(n) => c.err(n.span(), format!("{key}.{field}"), format!("expected a number between 1 and {max}")),
        };
        rules.push(SessionRule {
            name: r.name.get_ref().clone(),
            when,
            lifetime: hours(&r.lifetime_hours, "lifetime_hours", 24 * 90, 3600)?.unwrap_or(default.lifetime),
            idle: hours(&r.idle_minutes, "idle_minutes", 24 * 60 * 90, 60)?.unwrap_or(default.idle),
            establish_with: establish_with(r.establish_with.as_ref(), &key)?
                .unwrap_or_else(|| default.establish_with.clone()),
        });
    }
    rules.push(default);
    Ok(SessionPolicy { rules })
}

/// An app's rules; none configured means the default (anyone, one factor).
pub fn sign_on(
    c: &Checker<'_>,
    app_key: &str,
    entries: &[Spanned<RuleEntry>],
    zones: &Zones,
    groups: &Groups,
) -> Result<SignOnPolicy, ConfigError> {
    if entries.is_empty() {
        return Ok(SignOnPolicy::default());
    }
    let mut rules = vec![];
    for (i, entry) in entries.iter().enumerate() {
        let key = format!("{app_key}.sign_on[{i}]");
        let rule = rule(c, &key, entry, zones, groups)?;
        let last = i + 1 == entries.len();
        if rule.when.is_catch_all() && !last {
            return c.err(
                entry.span(),
                key,
                format!("rule {:?} has no conditions, so the rules after it could never apply: put it last", rule.name),
            );
        }
        if !rule.when.is_catch_all() && last {
            return c.err(entry.span(), key, format!("the last rule must have no conditions (the catch-all that decides when no other rule applies); {:?} has some", rule.name));
        }
        rules.push(rule);
    }
    Ok(SignOnPolicy { rules })
}

fn rule(
    c: &Checker<'_>,
    key: &str,
    entry: &Spanned<RuleEntry>,
    zones: &Zones,
    groups: &Groups,
) -> Result<Rule, ConfigError> {
    let r = entry.get_ref();
    let when = conditions(c, key, &r.conditions(), zones, groups)?;
    let assurance_keys = r.factors.is_some()
        || !r.factor_types.is_empty()
        || r.phishing_resistant.is_some()
        || r.user_verification.is_some()
        || r.reauthenticate_minutes.is_some()
        || r.inactivity_minutes.is_some();
    let deny = match r.access.as_ref().map(|a| (a, a.get_ref().as_str())) {
        None | Some((_, "allow")) => false,
        Some((_, "deny")) => true,
        Some((a, "anyone")) => {
            if assurance_keys {
                return c.err(
                    a.span(),
                    format!("{key}.access"),
                    "a rule with access = \"anyone\" asks for no authentication, so it cannot set factors, factor_types, phishing_resistant, user_verification, reauthenticate_minutes or inactivity_minutes",
                );
            }
            if !r.groups.is_empty() {
                return c.err(
                    a.span(),
                    format!("{key}.access"),
                    "a rule with access = \"anyone\" cannot depend on groups: nobody is known before signing in",
                );
            }
            return Ok(Rule { name: r.name.get_ref().clone(), when, access: Access::Anyone });
        }
        Some((a, other)) => {
            return c.err(
                a.span(),
                format!("{key}.access"),
                format!("expected \"allow\", \"deny\" or \"anyone\", found {other:?}"),
            );
        }
    };
    if deny {
        if assurance_keys {
            return c.err(entry.span(), key, "a rule with access = \"deny\" cannot also set factors, factor_types, phishing_resistant, user_verification, reauthenticate_minutes or inactivity_minutes");
        }
        return Ok(Rule { name: r.name.get_ref().clone(), when, access: Access::Deny });
    }
    let mut factor_types = vec![];
    for (j, t) in r.factor_types.iter().enumerate() {
        let t_ = match t.get_ref().as_str() {
            "knowledge" => FactorType::Knowledge,
            "possession" => FactorType::Possession,
            "inherence" => FactorType::Inherence,
            other => {
                return c.err(
                    t.span(),
                    format!("{key}.factor_types[{j}]"),
                    format!("expected \"knowledge\", \"possession\" or \"inherence\", found {other:?}"),
                );
            }
        };
        if !factor_types.contains(&t_) {
            factor_types.push(t_);
        }
    }
    let factors = match &r.factors {
        None => (factor_types.len() as u8).max(1),
        Some(f) if !(1..=2).contains(f.get_ref()) => {
            return c.err(f.span(), format!("{key}.factors"), format!("expected 1 or 2, found {}", f.get_ref()));
        }
        Some(f) if usize::from(*f.get_ref()) < factor_types.len() => {
            return c.err(
                f.span(),
                format!("{key}.factors"),
                format!("factor_types names {} types, more than factors = {}", factor_types.len(), f.get_ref()),
            );
        }
        Some(f) => *f.get_ref(),
    };
    let reauthenticate_after = match &r.reauthenticate_minutes {
        None => None,
        Some(m) if *m.get_ref() == 0 => {
            return c.err(m.span(), format!("{key}.reauthenticate_minutes"), "expected at least 1 minute");
        }
        Some(m) => Some(Duration::from_secs(u64::from(*m.get_ref()) * 60)),
    };
    let inactivity = match &r.inactivity_minutes {
        None => None,
        Some(m) if *m.get_ref() == 0 => {
            return c.err(m.span(), format!("{key}.inactivity_minutes"), "expected at least 1 minute");
        }
        Some(m) => Some(Duration::from_secs(u64::from(*m.get_ref()) * 60)),
    };
    let assurance = Assurance {
        factors,
        factor_types,
        phishing_resistant: r.phishing_resistant.as_ref().is_some_and(|v| *v.get_ref()),
        user_verification: r.user_verification.as_ref().is_some_and(|v| *v.get_ref()),
        reauthenticate_after,
        inactivity,
    };
    Ok(Rule { name: r.name.get_ref().clone(), when, access: Access::Allow(assurance) })
}
