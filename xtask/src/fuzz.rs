//! `cargo fuzz` (libFuzzer, nightly) on the server's parsers and the engine: flow
//! submissions, the configuration file, JWS, authorization request parameters, theme
//! files (`server/fuzz/fuzz_targets/`). Each target starts from its seeds
//! (`server/fuzz/seeds/`, committed) and the corpus it grew before (`target/fuzz-corpus/`).
//! A crash fails the run and leaves its input in `server/fuzz/artifacts/`.

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

use crate::sh::{self, Run};
use crate::tools::Env;

pub const TARGETS: [&str; 5] = ["flow_steps", "config_file", "jws", "authorize_params", "theme_file"];
const CARGO_FUZZ: &str = "0.13.2";
/// Runs this short or shorter (CI's pass) build the targets without optimisations: there
/// the build is most of the time, and a few seconds of slower fuzzing still run every
/// seed and corpus entry (with overflow checks and debug assertions on, too).
const QUICK_SECONDS: u32 = 30;

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
    let profile: &[&str] = if seconds <= QUICK_SECONDS { &["--dev"] } else { &[] };
    // Panics are what safe Rust fails with; no sanitizer keeps the build and the runs fast.
    let fuzz = |args: &[&str]| {
        let mut c = env.cmd("cargo");
        c.args(["+nightly", "fuzz"]).args(args).arg("--fuzz-dir").arg(&fuzz_dir).args(["--sanitizer", "none"]);
        c.args(profile);
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
