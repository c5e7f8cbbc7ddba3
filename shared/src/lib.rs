//! The Passway remediation protocol.
//!
//! The server tells a client what can be done next (a list of *remediations*, each a
//! small form); the client renders it and submits field values back. Every type that
//! crosses that wire lives here and nowhere else, so the server and the widget cannot
//! drift apart. This crate does no IO and compiles for native targets and wasm32.
//!
//! Names follow Okta's IDX wherever IDX has one (see [`names`]).

mod error;
mod flow;
pub mod names;
mod remediation;
mod start;

pub use error::ApiError;
pub use flow::{AppInfo, CurrentAuthenticator, FlowResponse, Intent, Level, Message, Poll, Resend, Success, UserInfo};
pub use remediation::{Field, FieldType, FieldValue, Remediation, ScopeInfo, SelectOption, Submission, WebAuthn};
pub use start::StartFlow;
pub use webauthn_rs_proto;

/// Version of the wire format carried in every [`FlowResponse`].
pub const PROTOCOL_VERSION: &str = "1.0";
