//! An app's sign-on policy: ordered rules, the first whose conditions all hold decides,
//! and the last has no conditions (the catch-all), so there is always a decision.

use super::{Assurance, Context, Platform, RiskLevel, Zones};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOnPolicy {
    pub rules: Vec<Rule>,
}

impl SignOnPolicy {
    /// Whether some rule lets people in only with a phishing-resistant authenticator.
    pub fn requires_phishing_resistance(&self) -> bool {
        self.rules.iter().any(|r| matches!(&r.access, Access::Allow(a) if a.phishing_resistant))
    }
}

impl Default for SignOnPolicy {
    /// Without configured rules: anyone, one factor.
    fn default() -> SignOnPolicy {
        SignOnPolicy {
            rules: vec![Rule {
                name: "Default".into(),
                when: Conditions::default(),
                access: Access::Allow(Assurance::default()),
            }],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub when: Conditions,
    pub access: Access,
}

/// Every condition set must hold; an empty one holds always.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// The person is in one of these groups.
    pub groups: Vec<String>,
    /// The request comes from one of these zones.
    pub zones: Vec<String>,
    /// The request comes from none of these zones.
    pub not_zones: Vec<String>,
    pub device: Option<DeviceCondition>,
    /// The browser runs on one of these.
    pub platforms: Vec<Platform>,
    /// The request's risk is one of these.
    pub risk: Vec<RiskLevel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceCondition {
    /// A browser that has signed this person in before.
    Known,
    New,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Deny,
    Allow(Assurance),
    /// No authentication: someone with a live session comes in as themselves, anyone
    /// else at once as an anonymous guest (a pseudonym per app and browser).
    Anyone,
}

/// Which rule decided, and why each earlier one did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'p> {
    pub rule: &'p Rule,
    /// Earlier rules with the first condition that failed, in words.
    pub skipped: Vec<(&'p Rule, String)>,
}

impl SignOnPolicy {
    pub fn decide(&self, ctx: &Context, zones: &Zones) -> Decision<'_> {
        let mut skipped = vec![];
        for rule in &self.rules {
            match rule.when.mismatch(ctx, zones) {
                None => return Decision { rule, skipped },
                Some(why) => skipped.push((rule, why)),
            }
        }
        unreachable!("config validation makes the last rule a catch-all")
    }
}

impl Conditions {
    pub fn is_catch_all(&self) -> bool {
        *self == Conditions::default()
    }

    /// The first condition `ctx` fails, in words, or `None` when all hold.
    pub fn mismatch(&self, ctx: &Context, zones: &Zones) -> Option<String> {
        if !self.groups.is_empty() && !self.groups.iter().any(|g| ctx.groups.contains(g)) {
            return Some(format!("not in group {}", self.groups.join(" or ")));
        }
        let here = zones.of(ctx.ip);
        let ip = ctx.ip.map(|ip| ip.to_string()).unwrap_or_else(|| "an unknown address".into());
        if !self.zones.is_empty() && !self.zones.iter().any(|z| here.contains(&z.as_str())) {
            return Some(format!("{ip} is not in zone {}", self.zones.join(" or ")));
        }
        if let Some(z) = self.not_zones.iter().find(|z| here.contains(&z.as_str())) {
            return Some(format!("{ip} is in zone {z}"));
        }
        // A browser never seen with this person counts as new.
        match (self.device, ctx.new_device) {
            (Some(DeviceCondition::Known), Some(true) | None) => return Some("a new device".into()),
            (Some(DeviceCondition::New), Some(false)) => return Some("a known device".into()),
            _ => {}
        }
        if !self.platforms.is_empty() && !self.platforms.contains(&ctx.platform) {
            return Some(format!("platform {}", ctx.platform.name()));
        }
        if !self.risk.is_empty() && !self.risk.contains(&ctx.risk) {
            return Some(format!("risk {}", ctx.risk.name()));
        }
        None
    }
}
