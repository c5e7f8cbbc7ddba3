use serde::{Deserialize, Serialize};

/// The body of every 4xx/5xx answer of the JSON APIs: a stable machine code and a
/// sentence for the developer reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// Stable code, e.g. `flow_not_found`, `invalid_request`, `remediation_not_offered`.
    pub error: String,
    /// Human-readable explanation naming what was wrong.
    pub message: String,
}
