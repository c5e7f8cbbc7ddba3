//! HTTP integration tests: the real router and store, a manual clock. One binary so
//! the server crate is linked once.

mod account_page;
mod admin_api;
mod attacks;
mod bad_input;
mod console;
mod cors_and_assets;
mod credentials;
mod custom_domains;
mod event_hooks;
mod hardening;
mod inline_hooks;
mod interop;
mod journeys;
mod notices;
mod observability;
mod oidc;
mod passkeys;
mod policy;
mod smtp;
mod smtp_sink;
mod sso;
mod studio_gate;
mod support;
mod system_log;
mod tokens;
