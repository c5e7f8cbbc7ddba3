//! Assurance: what a sign-on rule asks of the authenticators proven, what is still
//! missing when it is not met (the step-up), and the `acr` an ID token carries.
//!
//! Factors are counted by type (NIST SP 800-63B): an email and a passkey are both
//! possession, so together they are one possession factor, plus the inherence of the
//! passkey's user verification.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::authenticators::{AuthenticatorKind, FactorType};
use crate::engine::{Proof, Timestamp};

/// What a rule asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assurance {
    /// Distinct factor types (1 or 2).
    pub factors: u8,
    /// Factor types that must be among them.
    pub factor_types: Vec<FactorType>,
    /// A phishing-resistant authenticator (a passkey) must be among them.
    pub phishing_resistant: bool,
    /// A possession authenticator that verifies its user (biometrics or PIN).
    pub user_verification: bool,
    /// Proofs older than this do not count (re-authentication frequency).
    pub reauthenticate_after: Option<Duration>,
    /// An SSO session unused for this long does not sign in without asking again.
    pub inactivity: Option<Duration>,
}

impl Default for Assurance {
    /// One factor of any type, proven at any time during the session.
    fn default() -> Assurance {
        Assurance {
            factors: 1,
            factor_types: vec![],
            phishing_resistant: false,
            user_verification: false,
            reauthenticate_after: None,
            inactivity: None,
        }
    }
}

impl Assurance {
    /// What it asks for, in words (explanations, the admin API's view of the rules).
    pub fn describe_required(&self) -> String {
        let mut parts = vec![format!("{} factor type(s)", self.factors)];
        for t in &self.factor_types {
            parts.push(format!("a {} factor", factor_name(*t)));
        }
        if self.phishing_resistant {
            parts.push("phishing-resistant".into());
        }
        if self.user_verification {
            parts.push("user verification".into());
        }
        if let Some(d) = self.reauthenticate_after {
            parts.push(format!("proven within {} min", d.as_secs() / 60));
        }
        parts.join(", ")
    }
    /// The stricter of both: the most factors, every type, every constraint, the
    /// shortest freshness.
    pub fn and(&self, other: &Assurance) -> Assurance {
        let mut factor_types = self.factor_types.clone();
        factor_types.extend(other.factor_types.iter().filter(|t| !self.factor_types.contains(t)));
        Assurance {
            factors: self.factors.max(other.factors),
            factor_types,
            phishing_resistant: self.phishing_resistant || other.phishing_resistant,
            user_verification: self.user_verification || other.user_verification,
            reauthenticate_after: shortest(self.reauthenticate_after, other.reauthenticate_after),
            inactivity: shortest(self.inactivity, other.inactivity),
        }
    }

    /// The authenticators proven recently enough to count at `now`.
    pub fn fresh(&self, proofs: &[Proof], now: Timestamp) -> Vec<AuthenticatorKind> {
        proofs
            .iter()
            .filter(|p| self.reauthenticate_after.is_none_or(|d| now <= p.at.plus(d)))
            .map(|p| p.authenticator)
            .collect()
    }

    /// What the proofs still lack at `now`, or `None` when they are enough.
    pub fn gap(&self, proofs: &[Proof], now: Timestamp) -> Option<Gap> {
        let fresh = self.fresh(proofs, now);
        let have = factor_types(&fresh);
        let gap = Gap {
            factors: usize::from(self.factors).saturating_sub(have.len()) as u8,
            factor_types: self.factor_types.iter().copied().filter(|t| !have.contains(t)).collect(),
            phishing_resistant: self.phishing_resistant
                && !fresh.iter().any(|k| k.characteristics().phishing_resistant),
            user_verification: self.user_verification && !fresh.iter().any(|k| verifies_user(*k)),
            stale: !proofs.is_empty() && fresh.len() < proofs.len(),
        };
        (!gap.is_closed()).then_some(gap)
    }
}

fn shortest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What is missing; each authenticator that would close part of it is a way forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// More distinct factor types needed.
    pub factors: u8,
    pub factor_types: Vec<FactorType>,
    pub phishing_resistant: bool,
    pub user_verification: bool,
    /// Some proofs were too old to count.
    pub stale: bool,
}

impl Gap {
    fn is_closed(&self) -> bool {
        self.factors == 0 && self.factor_types.is_empty() && !self.phishing_resistant && !self.user_verification
    }

    /// Whether proving `kind` (on top of `proven`, the fresh proofs so far) moves
    /// toward closing the gap.
    pub fn closed_by(&self, kind: AuthenticatorKind, proven: &[AuthenticatorKind]) -> bool {
        let c = kind.characteristics();
        let have = factor_types(proven);
        let adds_a_type = c.factors.iter().any(|t| !have.contains(t));
        (self.factors > 0 && adds_a_type)
            || self.factor_types.iter().any(|t| c.factors.contains(t))
            || (self.phishing_resistant && c.phishing_resistant)
            || (self.user_verification && verifies_user(kind))
    }

    /// In words, for explanations and logs.
    pub fn describe(&self) -> String {
        let mut parts = vec![];
        if self.factors > 0 {
            parts.push(format!("{} more factor type(s)", self.factors));
        }
        for t in &self.factor_types {
            parts.push(format!("a {} factor", factor_name(*t)));
        }
        if self.phishing_resistant {
            parts.push("a phishing-resistant authenticator".into());
        }
        if self.user_verification {
            parts.push("user verification".into());
        }
        let mut text = parts.join(", ");
        if self.stale {
            text.push_str(" (earlier proofs are older than the re-authentication frequency)");
        }
        text
    }
}

pub fn factor_name(t: FactorType) -> &'static str {
    match t {
        FactorType::Knowledge => "knowledge",
        FactorType::Possession => "possession",
        FactorType::Inherence => "inherence",
    }
}

fn factor_types(kinds: &[AuthenticatorKind]) -> BTreeSet<FactorType> {
    kinds.iter().flat_map(|k| k.characteristics().factors.iter().copied()).collect()
}

/// A possession authenticator that also checks who holds it (a passkey's UV).
fn verifies_user(kind: AuthenticatorKind) -> bool {
    let f = kind.characteristics().factors;
    f.contains(&FactorType::Possession) && (f.contains(&FactorType::Inherence) || f.contains(&FactorType::Knowledge))
}

/// Authentication context classes, weakest first. An ID token carries the strongest
/// the proofs satisfy; `acr_values` ask for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Acr {
    /// Any one factor.
    OneFactor,
    /// Two factor types.
    TwoFactor,
    /// Phishing-resistant (OpenID EAP ACR Values 1.0: `phr`).
    PhishingResistant,
}

impl Acr {
    pub const ALL: [Acr; 3] = [Acr::OneFactor, Acr::TwoFactor, Acr::PhishingResistant];

    pub fn uri(self) -> &'static str {
        match self {
            Acr::OneFactor => "urn:passway:loa:1fa",
            Acr::TwoFactor => "urn:passway:loa:2fa",
            Acr::PhishingResistant => "phr",
        }
    }

    pub fn from_uri(uri: &str) -> Option<Acr> {
        Acr::ALL.into_iter().find(|a| a.uri() == uri)
    }

    pub fn assurance(self) -> Assurance {
        match self {
            Acr::OneFactor => Assurance::default(),
            Acr::TwoFactor => Assurance { factors: 2, ..Assurance::default() },
            Acr::PhishingResistant => Assurance { phishing_resistant: true, ..Assurance::default() },
        }
    }

    /// The strongest class `proofs` satisfy, if any.
    pub fn of(proofs: &[Proof], now: Timestamp) -> Option<Acr> {
        Acr::ALL.into_iter().rev().find(|a| a.assurance().gap(proofs, now).is_none())
    }

    /// The first of the requested `acr_values` this server knows (OIDC Core §3.1.2.1:
    /// in order of preference; unknown values are ignored).
    pub fn requested(acr_values: Option<&str>) -> Option<Acr> {
        acr_values?.split_whitespace().find_map(Acr::from_uri)
    }
}
