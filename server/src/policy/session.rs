//! The global session policy: how long an SSO session lives, how long it may sit
//! unused, and which authenticators may start one — per group or place, first rule
//! that matches, the last a catch-all (the `[sessions]` table itself).

use std::time::Duration;

use super::{Conditions, Context, Zones};
use crate::authenticators::AuthenticatorKind;
use crate::engine::Proof;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPolicy {
    pub rules: Vec<SessionRule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRule {
    pub name: String,
    pub when: Conditions,
    pub lifetime: Duration,
    pub idle: Duration,
    /// A session starts only once one of these is proven (empty: any authenticator).
    pub establish_with: Vec<AuthenticatorKind>,
}

impl Default for SessionPolicy {
    /// Sessions of 12 hours, 2 idle, started by any authenticator.
    fn default() -> SessionPolicy {
        SessionPolicy {
            rules: vec![SessionRule {
                name: "Default".into(),
                when: Conditions::default(),
                lifetime: Duration::from_secs(12 * 3600),
                idle: Duration::from_secs(2 * 3600),
                establish_with: vec![],
            }],
        }
    }
}

impl SessionPolicy {
    /// The rule for `ctx`: the first whose conditions hold (the last always does).
    pub fn decide(&self, ctx: &Context, zones: &Zones) -> &SessionRule {
        self.rules
            .iter()
            .find(|r| r.when.mismatch(ctx, zones).is_none())
            .unwrap_or_else(|| self.rules.last().expect("a session policy has its default rule"))
    }

    /// The longest any session lives (the cookie's lifetime; the store ends each
    /// session at its own).
    pub fn longest(&self) -> Duration {
        self.rules.iter().map(|r| r.lifetime).max().unwrap_or_default()
    }

    /// The default rule (the `[sessions]` table).
    pub fn default_rule(&mut self) -> &mut SessionRule {
        self.rules.last_mut().expect("a session policy has its default rule")
    }
}

impl SessionRule {
    /// Whether `proofs` may start a session.
    pub fn established_by(&self, proofs: &[Proof]) -> bool {
        self.establish_with.is_empty() || proofs.iter().any(|p| self.establish_with.contains(&p.authenticator))
    }
}
