//! The Passway remediation protocol.
//!
//! The server tells a client what can be done next (a list of *remediations*, each a
//! small form); the client renders it and submits field values back. Every type that
//! crosses that wire lives here and nowhere else, so the server and the widget cannot
//! drift apart. This crate does no IO and compiles for native targets and wasm32.
//!
//! Names follow Okta's IDX wherever IDX has one (see [`names`]).

#[cfg(target_arch = "wasm32")]
mod browser;
mod error;
mod flow;
pub mod names;
mod remediation;
mod start;

pub use error::ApiError;
pub use flow::{
    Activation, AppInfo, CurrentAuthenticator, FlowResponse, Intent, Level, Message, Poll, QrCode, Resend, Success,
    UserInfo,
};
pub use remediation::{
    CreationOptions, Field, FieldType, FieldValue, Remediation, RequestOptions, ScopeInfo, SelectOption, Submission,
    WebAuthn,
};
pub use start::StartFlow;
#[cfg(not(target_arch = "wasm32"))]
pub use webauthn_rs_proto;

/// The request header that carries a flow's binding secret ([`FlowResponse::binding`]).
/// The event stream, which browsers open without custom headers, takes it as the
/// query parameter `binding` instead (its URL in [`Poll::events`] already has it).
pub const BINDING_HEADER: &str = "passway-binding";

/// Version of the wire format carried in every [`FlowResponse`].
pub const PROTOCOL_VERSION: &str = "1.0";
