//! The OpenID Provider: authorization request checks, token issuance, signing keys,
//! discovery. Pure where it can be (checks and claims take the instant as an
//! argument); the HTTP handlers in `http::oidc` do the IO.

pub mod admin_api;
pub mod claims;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod jwt;
pub mod keys;
pub mod logout;
pub mod pkce;
pub mod request;
pub mod rotation;
pub mod token;

pub use error::OAuthError;
pub use keys::{KeySet, LiveKeys};

/// Scopes Passway understands.
pub const SUPPORTED_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access", "groups"];
