//! Passway's identity engine and everything around it.
//!
//! The [`engine`] is pure; the other modules are the world it talks to through
//! effects: [`store`], [`mail`], [`oidc`], [`branding`], and [`http`] which ties them
//! together. See ARCHITECTURE.md at the repository root for the map.

pub mod app;
pub mod assets;
pub mod authenticators;
pub mod branding;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod engine;
pub mod events;
pub mod groups;
pub mod hooks;
pub mod html;
pub mod http;
pub mod i18n;
pub mod import;
pub mod journey;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod oidc;
pub mod policy;
pub mod qr;
pub mod serve;
pub mod store;
pub mod telemetry;
pub mod tokens;
