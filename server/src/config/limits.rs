//! `[rate_limits]`, `trusted_proxies` and `[events]`: what one client may do, whom to
//! believe about who the client is, and how long the system log is kept.

use std::time::Duration;

use toml::Spanned;

use super::ConfigError;
use super::file::{self, File};
use super::validate::Checker;
use crate::limits::{Limit, RateLimits};
use crate::policy::Cidr;

pub fn rate_limits(
    c: &Checker<'_>,
    r: &file::RateLimitsEntry,
    flow_lifetime: Duration,
) -> Result<RateLimits, ConfigError> {
    let mut limits = RateLimits::default();
    if let Some(enabled) = &r.enabled {
        limits.enabled = *enabled.get_ref();
    }
    let count = |value: &Option<Spanned<u32>>, key: &str, max: u32| -> Result<Option<u32>, ConfigError> {
        match value {
            None => Ok(None),
            Some(n) if (1..=max).contains(n.get_ref()) => Ok(Some(*n.get_ref())),
            Some(n) => {
                c.err(n.span(), format!("rate_limits.{key}"), format!("expected 1 to {max}, found {}", n.get_ref()))
            }
        }
    };
    const MANY: u32 = 100_000_000;
    let per_minute = |value, key| Ok::<_, ConfigError>(count(value, key, MANY)?.map(Limit::per_minute));
    if let Some(l) = per_minute(&r.flow_starts_per_minute, "flow_starts_per_minute")? {
        limits.flow_starts = l;
    }
    if let Some(l) = per_minute(&r.flow_requests_per_minute, "flow_requests_per_minute")? {
        limits.submissions = l;
    }
    if let Some(l) = per_minute(&r.link_opens_per_minute, "link_opens_per_minute")? {
        limits.link_opens = l;
    }
    if let Some(l) = per_minute(&r.token_requests_per_minute, "token_requests_per_minute")? {
        limits.token_by_ip = l;
    }
    if let Some(l) = per_minute(&r.client_token_requests_per_minute, "client_token_requests_per_minute")? {
        limits.token_by_client = l;
    }
    if let Some(n) = count(&r.emails_per_hour, "emails_per_hour", MANY)? {
        limits.emails = Limit::per_hour(n);
    }
    // Flows alive at once: counted over one flow lifetime.
    limits.live_flows.window = flow_lifetime;
    if let Some(n) = count(&r.live_flows, "live_flows", MANY)? {
        limits.live_flows.max = n;
    }
    if let Some(n) = count(&r.event_streams_per_ip, "event_streams_per_ip", 100_000)? {
        limits.event_streams_per_ip = n;
    }
    if let Some(n) = count(&r.event_streams_per_flow, "event_streams_per_flow", 100)? {
        limits.event_streams_per_flow = n;
    }
    if let Some(n) = count(&r.password_queue, "password_queue", 100_000)? {
        limits.password_queue = n;
    }
    Ok(limits)
}

/// `trusted_proxies`, at the top level or in `[rate_limits]` (one place only).
pub fn trusted_proxies(c: &Checker<'_>, file: &File) -> Result<Vec<Cidr>, ConfigError> {
    let (list, key) = match (&file.trusted_proxies, &file.rate_limits.trusted_proxies) {
        (Some(_), Some(second)) => {
            return c.err(
                second.span(),
                "rate_limits.trusted_proxies",
                "trusted_proxies is set at the top level already: keep one of them",
            );
        }
        (Some(list), None) => (list, "trusted_proxies"),
        (None, Some(list)) => (list, "rate_limits.trusted_proxies"),
        (None, None) => return Ok(vec![]),
    };
    let mut out = vec![];
    for (i, entry) in list.get_ref().iter().enumerate() {
        match entry.get_ref().parse::<Cidr>() {
            Ok(cidr) => out.push(cidr),
            Err(why) => return c.err(entry.span(), format!("{key}[{i}]"), why),
        }
    }
    Ok(out)
}

/// How long system log events are kept (`[events] retention_days`, default 90).
pub fn events_retention(c: &Checker<'_>, e: &file::Events) -> Result<Duration, ConfigError> {
    let days = match &e.retention_days {
        None => 90,
        Some(n) if (1..=3650).contains(n.get_ref()) => *n.get_ref(),
        Some(n) => {
            return c.err(n.span(), "events.retention_days", format!("expected 1 to 3650, found {}", n.get_ref()));
        }
    };
    Ok(Duration::from_secs(u64::from(days) * 24 * 3600))
}
