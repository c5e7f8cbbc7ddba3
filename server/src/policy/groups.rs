//! Groups, as configured: members by email address or by email domain.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Groups(pub BTreeMap<String, Members>);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members {
    /// Normalised (lower-case) addresses.
    pub emails: Vec<String>,
    /// Domains, lower-case, without `@`.
    pub domains: Vec<String>,
}

impl Groups {
    /// The groups the (normalised) `email` belongs to.
    pub fn of(&self, email: &str) -> BTreeSet<String> {
        let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        self.0
            .iter()
            .filter(|(_, m)| m.emails.iter().any(|e| e == email) || m.domains.iter().any(|d| d == domain))
            .map(|(name, _)| name.clone())
            .collect()
    }
}
