use serde::Serialize;

/// An OAuth 2.0 error (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, utoipa::ToSchema)]
#[error("{error}: {error_description}")]
pub struct OAuthError {
    #[schema(value_type = String)]
    pub error: &'static str,
    pub error_description: String,
    /// HTTP status when answered directly (token endpoint).
    #[serde(skip)]
    pub status: u16,
    /// Answer 401 with `WWW-Authenticate: Basic` (the client used Basic).
    #[serde(skip)]
    pub www_authenticate: bool,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> OAuthError {
        let status = match error {
            "invalid_client" | "invalid_token" => 401,
            "server_error" => 500,
            _ => 400,
        };
        OAuthError { error, error_description: description.into(), status, www_authenticate: false }
    }
    pub fn invalid_request(d: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_request", d)
    }
    /// RFC 8707 §2: the resource asked for is unknown, or not the grant's.
    pub fn invalid_target(d: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_target", d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_grant", d)
    }
    pub fn invalid_client(d: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_client", d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_scope", d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> OAuthError {
        OAuthError::new("unauthorized_client", d)
    }
    /// A failure on our side; the details go to the log, not to the client.
    pub fn server_error() -> OAuthError {
        OAuthError::new("server_error", "the server failed to handle this request")
    }
    pub fn basic(mut self, used_basic: bool) -> OAuthError {
        self.www_authenticate = used_basic;
        self
    }
}
