//! Policies: which journey a person gets, per app and per context, and why.
//!
//! Everything here is pure data and pure functions. The engine applies them
//! (`engine/sign_on.rs`), and `passway policy explain` is a dry run of the engine
//! (`engine/explain.rs`), so what the explanation says is what the engine does.
//!
//! - [`sign_on`]: an app's ordered rules, first match wins, the last one a catch-all;
//!   conditions on groups, network zones, the device, the platform and the risk; the outcome is
//!   deny, or allow with an [`Assurance`].
//! - [`assurance`]: what an assurance asks of the authenticators proven (factor count
//!   by factor type, phishing resistance, user verification, freshness), what is still
//!   missing (the step-up), and the `acr` an ID token carries.
//! - [`session`]: the global session policy (lifetime, idle time, which authenticators
//!   may start a session), per group or place.
//! - [`recovery`]: which authenticators may recover an account, and how many it takes.
//! - [`zone`]: network zones as CIDR lists.
//! - [`context`]: the facts a rule is evaluated against; [`groups`]: who is in which group.

pub mod assurance;
pub mod context;
pub mod groups;
pub mod recovery;
pub mod session;
pub mod sign_on;
pub mod zone;

#[cfg(test)]
mod tests;

pub use assurance::{Acr, Assurance, Gap};
pub use context::{Context, Platform, RiskLevel};
pub use groups::{Groups, Members};
pub use recovery::{RecoveryNext, RecoveryPolicy};
pub use session::{SessionPolicy, SessionRule};
pub use sign_on::{Access, Conditions, Decision, DeviceCondition, Rule, SignOnPolicy};
pub use zone::{Cidr, Zones};
