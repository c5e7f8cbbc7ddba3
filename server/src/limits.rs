//! Rate limits: how often one client address, one app or one email address may do
//! something, counted in the store so that every instance behind a load balancer sees
//! the same counts.
//!
//! Each limit is `max` events per `window`, estimated over a sliding window from two
//! fixed ones (the current count, plus the previous window's count weighted by how much
//! of it still overlaps): a burst at a window's edge cannot double the rate, and the
//! store keeps one small row per key. Keys are MACs of what is counted, so the table
//! lists no addresses. This file is the pure side: the settings, the keys and the
//! arithmetic; `http::limit` applies them to requests and `journey` to emails.

use std::net::IpAddr;
use std::time::Duration;

use crate::crypto::{Digest, Keyring};
use crate::engine::Timestamp;

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Flows started (`POST /api/v1/flows`, `/authorize`), per client address.
    FlowStart,
    /// Flows started within one flow lifetime, per client address: a bound on the
    /// flows one address keeps alive at once.
    LiveFlows,
    /// Requests about a flow (read, step, poll, event stream, hosted page), per address.
    Submission,
    /// Magic-link pages opened, per address.
    LinkOpen,
    /// Token endpoint requests, per address.
    TokenByIp,
    /// Token endpoint requests, per app (`client_id`).
    TokenByClient,
    /// Challenge emails, per email address.
    Email,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::FlowStart,
        Kind::LiveFlows,
        Kind::Submission,
        Kind::LinkOpen,
        Kind::TokenByIp,
        Kind::TokenByClient,
        Kind::Email,
    ];

    /// Stable name, in keys, logs and the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Kind::FlowStart => "flow_starts",
            Kind::LiveFlows => "live_flows",
            Kind::Submission => "flow_requests",
            Kind::LinkOpen => "link_opens",
            Kind::TokenByIp => "token_requests",
            Kind::TokenByClient => "client_token_requests",
            Kind::Email => "emails",
        }
    }
}

/// `max` events per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    pub const fn per_minute(max: u32) -> Limit {
        Limit { max, window: Duration::from_secs(60) }
    }
    pub const fn per_hour(max: u32) -> Limit {
        Limit { max, window: Duration::from_secs(3600) }
    }
}

/// The `[rate_limits]` section: the limits, and the bounds on what one client may hold
/// open at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// `false` turns every limit off (for benchmarks only; the server says so loudly).
    pub enabled: bool,
    pub flow_starts: Limit,
    /// Flows one address may start within a flow lifetime (the window is set to it).
    pub live_flows: Limit,
    pub submissions: Limit,
    pub link_opens: Limit,
    pub token_by_ip: Limit,
    pub token_by_client: Limit,
    pub emails: Limit,
    /// Event streams open at once, per client address and per flow (per instance:
    /// a stream is a connection to one process).
    pub event_streams_per_ip: u32,
    pub event_streams_per_flow: u32,
    /// Password answers waiting for argon2id; past it, `503` with `Retry-After`.
    pub password_queue: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            enabled: true,
            flow_starts: Limit::per_minute(120),
            live_flows: Limit { max: 600, window: Duration::from_secs(30 * 60) },
            submissions: Limit::per_minute(600),
            link_opens: Limit::per_minute(60),
            token_by_ip: Limit::per_minute(600),
            token_by_client: Limit::per_minute(6000),
            emails: Limit::per_hour(10),
            event_streams_per_ip: 20,
            event_streams_per_flow: 2,
            password_queue: 64,
        }
    }
}

impl RateLimits {
    pub fn limit(&self, kind: Kind) -> Limit {
        match kind {
            Kind::FlowStart => self.flow_starts,
            Kind::LiveFlows => self.live_flows,
            Kind::Submission => self.submissions,
            Kind::LinkOpen => self.link_opens,
            Kind::TokenByIp => self.token_by_ip,
            Kind::TokenByClient => self.token_by_client,
            Kind::Email => self.emails,
        }
    }
}

/// The store's key for counting `kind` for `subject` (an address, a client_id, an email).
pub fn key(keys: &Keyring, kind: Kind, subject: &str) -> Digest {
    keys.mac(&[b"rate-limit", kind.name().as_bytes(), subject.as_bytes()])
}

/// Who a client address counts as: itself for IPv4, its /64 for IPv6 (one subscriber
/// usually holds a whole /64, and could otherwise take a fresh address per request).
pub fn client_subject(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The counts of one key as the store holds them after a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Start of the current fixed window.
    pub window_start: Timestamp,
    /// Events in the current window, this one included.
    pub current: u32,
    /// Events in the window before it.
    pub previous: u32,
}

/// What a hit learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over the limit: try again after this long. `first` for the first refused hit
    /// of a burst (the one worth a line in the system log).
    Limited {
        retry_after: Duration,
        first: bool,
    },
}

/// The fixed window `now` falls in.
pub fn window_start(limit: Limit, now: Timestamp) -> Timestamp {
    let width = limit.window.as_millis().max(1) as i64;
    Timestamp(now.0.div_euclid(width) * width)
}

/// Judges a hit from the counts the store returned for it.
pub fn judge(limit: Limit, counts: Counts, now: Timestamp) -> Verdict {
    let width = limit.window.as_millis().max(1) as f64;
    let into = (now.0 - counts.window_start.0).clamp(0, width as i64) as f64 / width;
    let estimate = |current: u32| f64::from(counts.previous) * (1.0 - into) + f64::from(current);
    let max = f64::from(limit.max);
    if estimate(counts.current) <= max {
        return Verdict::Allowed;
    }
    let first = estimate(counts.current.saturating_sub(1)) <= max;
    Verdict::Limited { retry_after: retry_after(limit, counts, now), first }
}

/// How long until a hit would be allowed again, if nothing else came: the previous
/// window's weight has to fade, and once the current window becomes the previous one,
/// its own.
fn retry_after(limit: Limit, counts: Counts, now: Timestamp) -> Duration {
    let width = limit.window.as_secs_f64().max(0.001);
    let elapsed = (now.0 - counts.window_start.0).max(0) as f64 / 1000.0;
    let max = f64::from(limit.max);
    let (previous, current) = (f64::from(counts.previous), f64::from(counts.current));
    // Within the current window: previous * (1 - t/width) + current + 1 <= max.
    let needed = if current + 1.0 <= max && previous > 0.0 {
        let t = width * (1.0 - (max - current - 1.0) / previous);
        (t - elapsed).max(0.0)
    } else {
        // Only once this window is the previous one: current * (1 - t/width) + 1 <= max.
        let rest = width - elapsed;
        let t = if current > 0.0 { width * (1.0 - (max - 1.0).max(0.0) / current) } else { 0.0 };
        rest + t.max(0.0)
    };
    Duration::from_secs_f64(needed.ceil().max(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: f64) -> Timestamp {
        Timestamp((secs * 1000.0) as i64)
    }

    fn check(limit: Limit, counts: (f64, u32, u32), now: f64, expected: &str) {
        let counts = Counts { window_start: at(counts.0), current: counts.1, previous: counts.2 };
        let got = match judge(limit, counts, at(now)) {
            Verdict::Allowed => "allowed".to_owned(),
            Verdict::Limited { retry_after, first } => {
                format!("limited {}s{}", retry_after.as_secs(), if first { " first" } else { "" })
            }
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn a_sliding_window_estimated_from_two_fixed_ones() {
        let ten = Limit::per_minute(10);
        check(ten, (0.0, 10, 0), 30.0, "allowed");
        // Over the limit: once this window ends, its weight must fade to let one more in.
        check(ten, (0.0, 11, 0), 30.0, "limited 41s first");
        check(ten, (0.0, 12, 0), 30.0, "limited 45s");
        // Half of the previous window still counts half way through this one.
        check(ten, (60.0, 5, 10), 90.0, "allowed");
        check(ten, (60.0, 6, 10), 90.0, "limited 12s first");
        check(ten, (60.0, 6, 10), 119.0, "allowed");
        // A previous window twice over: the new one starts refused, until it fades.
        check(ten, (60.0, 1, 20), 60.0, "limited 36s");
        check(Limit::per_hour(10), (0.0, 11, 0), 600.0, "limited 3655s first");
    }

    #[test]
    fn windows_and_subjects() {
        assert_eq!(window_start(Limit::per_minute(1), at(125.5)), at(120.0));
        assert_eq!(client_subject("203.0.113.9".parse().unwrap()), "203.0.113.9");
        assert_eq!(client_subject("::ffff:203.0.113.9".parse().unwrap()), "203.0.113.9");
        assert_eq!(client_subject("2001:db8:1:2:3:4:5:6".parse().unwrap()), "2001:db8:1:2::/64");
        let keys = Keyring::from_master(&[1; 32]);
        assert_ne!(key(&keys, Kind::FlowStart, "a"), key(&keys, Kind::Submission, "a"));
    }
}
