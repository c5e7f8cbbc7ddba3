//! The fuzz targets' bodies, one module each, so that two drivers share them:
//!
//! - libFuzzer (`fuzz_targets/`, `cargo xtask fuzz`, nightly): coverage-guided, for as
//!   long as you let it run;
//! - `cargo test` (the `replay` tests below, in CI's test step on stable): every seed,
//!   every input a libFuzzer run left in `target/fuzz-corpus/`, and a fixed set of
//!   mutations of the seeds. It finds less than libFuzzer does, but it costs CI seconds
//!   instead of a nightly build with coverage instrumentation (8 of a fresh machine's
//!   minutes), and a panic fails it the same way.
//!
//! A `check` returns normally or panics; a panic is a finding. (The workspace's lints
//! are not inherited: libFuzzer's entry macro exports a `no_mangle` symbol, which
//! `forbid(unsafe_code)` would refuse in the binaries; the library forbids it itself.)

#![forbid(unsafe_code)]

pub mod authorize_params;
pub mod config_file;
pub mod flow_steps;
pub mod jws;
pub mod theme_file;

#[cfg(test)]
mod replay;
