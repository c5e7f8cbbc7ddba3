//! `cargo fuzz` (libFuzzer, nightly) on the server's parsers and the engine: flow
//! submissions, the configuration file, JWS, authorization request parameters, theme
//! files (`server/fuzz/fuzz_targets/`). Each target starts from its seeds
//! (`server/fuzz/seeds/`, committed) and the corpus it grew before (`target/fuzz-corpus/`).
//! A crash fails the run and leaves its input in `server/fuzz/artifacts/`.
//!
//! CI does not build these: `cargo test` replays the seeds, that corpus and mutations
//! of the seeds through the same target bodies (`server/fuzz/src/replay.rs`).

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

use crate::sh::{self, Run};
use crate::tools::Env;

pub const TARGETS: [&str; 5] = ["flow_steps", "config_file", "jws", "authorize_params", "theme_file"];
const CARGO_FUZZ: &str = "0.13.2";

/// Runs each of `targets` for `seconds`.
pub fn run(root: &Path, env: &Env, targets: &[&str], seconds: u32) -> Result<()> {
    let nightly = Command::new("rustup").args(["toolchain", "list"]).output_text().unwrap_or_default();
    if !nightly.lines().any(|l| l.starts_with("nightly")) {
        bail!("cargo fuzz needs the nightly toolchain, and this machine has none (`rustup toolchain list`)");
    }
    let have = env.cmd("cargo").args(["fuzz", "--version"]).output_text().unwrap_or_default();
    if !have.contains(CARGO_FUZZ) {
        sh::step(&format!("installing cargo-fuzz {CARGO_FUZZ}"));
        // A debug build: it only runs cargo and the fuzz targets.
        let version = format!("={CARGO_FUZZ}");
        env.cmd("cargo").args(["install", "cargo-fuzz", "--version", &version, "--locked", "--debug"]).run()?;
    }
    let fuzz_dir = root.join("server/fuzz");
    // Panics are what safe Rust fails with; no sanitizer keeps the build and the runs fast.
    let fuzz = |args: &[&str]| {
        let mut c = env.cmd("cargo");
        c.args(["+nightly", "fuzz"]).args(args).arg("--fuzz-dir").arg(&fuzz_dir).args(["--sanitizer", "none"]);
        // libFuzzer's entry points are behind a feature: stable builds never compile it.
        c.args(["--features", "libfuzzer"]);
        c.current_dir(root);
        c
    };
    sh::step("building the fuzz targets (nightly)");
    fuzz(&["build"]).run()?;
    for target in targets {
        let corpus = root.join("target/fuzz-corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        sh::step(&format!("fuzzing {target} for {seconds} s"));
        fuzz(&["run", target])
            .arg(&corpus)
            .arg(fuzz_dir.join("seeds").join(target))
            .args(["--", &format!("-max_total_time={seconds}"), "-timeout=10", "-rss_limit_mb=2048"])
            .run()?;
    }
    Ok(())
}
