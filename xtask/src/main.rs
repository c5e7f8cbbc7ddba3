//! `cargo xtask <command>`: everything the README promises in two commands.
//!
//! - `run`   install what is missing, build widget and server, start the demo
//! - `cluster` the same build, then the demo on three instances sharing PostgreSQL behind
//!   HAProxy (strict round-robin) on http://localhost:8080
//! - `studio` the same build, then the theme studio over `themes/` (no database)
//! - `test`  formatting, clippy, unit + integration tests (PostgreSQL too when
//!   PASSWAY_TEST_POSTGRES_URL is set), browser tests
//! - `chaos` [--short] kill -9, a database restart and an SMTP outage under load, on
//!   three instances behind HAProxy: what failed, what was lost (nothing), duplicates
//! - `bench` throughput and latency of complete sign-ins, widget bytes
//! - `build` install what is missing and build the widget and the server
//! - `setup` only install what is missing
//! - `fuzz`  cargo fuzz on each target for a while (`test` replays seeds and mutants)
//! - `api-fuzz` schemathesis against the OpenAPI document, for longer than `test` does

mod bench;
mod chaos;
mod cluster;
mod fleet;
mod fuzz;
mod instructions;
mod mail_sink;
mod memory;
mod profile;
mod receiver;
mod schemathesis;
mod sh;
mod tools;
mod widget;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use sh::Run;

fn main() {
    sh::start_clock();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(),
        Some("cluster") => cluster::cluster(),
        Some("studio") => studio(),
        Some("test") => test(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("chaos") => chaos::chaos(&args[1..]),
        Some("build") => build(false).map(|_| ()),
        Some("setup") => tools::ensure_all(&root()).map(|_| ()),
        Some("api-fuzz") => api_fuzz(&args[1..]),
        Some("fuzz") => fuzz_for(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <run | cluster | studio | test | bench | chaos [--short] | build | setup | fuzz [SECONDS] [TARGET…] | api-fuzz [SECONDS]>"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the repository").to_owned()
}

/// Builds the debug binaries (`passway`, `passway-load`, …) the way `cargo test` builds
/// the workspace: the same packages and targets resolve the same features, so after the
/// test step nothing is compiled again. (`-p passway-server --bin passway` resolved
/// features of its own and recompiled tokio, hyper, sqlx and the server: 3–4 minutes
/// of a CI run, twice.)
pub(crate) fn build_debug_binaries(env: &tools::Env, root: &Path) -> Result<()> {
    env.cmd("cargo")
        .args(["build", "--workspace", "--exclude", "passway-widget", "--bins", "--tests"])
        .current_dir(root)
        .run()
}

/// Installs tools, builds the widget bundle and the server (`release` or debug).
fn build(release: bool) -> Result<tools::Env> {
    let root = root();
    let env = tools::ensure_build_tools(&root)?;
    sh::step("building the widget (trunk, wasm-opt)");
    widget::build(&env, &root)?;
    sh::step(if release { "building the server (release)" } else { "building the server" });
    let mut cargo = env.cmd("cargo");
    cargo.args(["build", "-p", "passway-server", "--bin", "passway"]).current_dir(&root);
    if release {
        cargo.arg("--release");
    }
    cargo.run()?;
    Ok(env)
}

/// The demo's event hook signs with a secret made here once, kept out of the
/// repository; the demo configuration reads it.
fn demo_hook_secret(env: &tools::Env, passway: &Path) -> Result<()> {
    let secret = root().join(".passway/dev-hook.secret");
    if !secret.exists() {
        std::fs::create_dir_all(root().join(".passway"))?;
        let made = env
            .cmd(passway.to_str().expect("utf-8 path"))
            .arg("hook-secret")
            .output_text()
            .context("passway hook-secret failed")?;
        std::fs::write(&secret, made.trim())?;
    }
    Ok(())
}

fn run() -> Result<()> {
    let env = build(true)?;
    let root = root();
    let passway = root.join("target/release/passway");
    demo_hook_secret(&env, &passway)?;
    sh::step("starting the demo on http://localhost:8080 (Ctrl-C stops it)");
    println!(
        "\n  Acme Shop (embedded widget):   http://localhost:8080/demo/website/\n  Globex Portal (hosted page):   http://localhost:8080/demo/app/\n  Dev mailbox:                   http://localhost:8080/dev/mailbox\n  Dev hook inbox:                http://localhost:8080/dev/hooks\n"
    );
    env.cmd(passway.to_str().expect("utf-8 path"))
        .args(["--config", "examples/demo/passway.toml", "serve"])
        .current_dir(&root)
        .run()
}

/// The theme studio over the repository's themes, with the demo's profile schema.
fn studio() -> Result<()> {
    let env = build(false)?;
    let root = root();
    let passway = root.join("target/debug/passway");
    // The demo configuration (for its profile schema) names the demo's hook secret.
    demo_hook_secret(&env, &passway)?;
    sh::step("starting the theme studio on http://127.0.0.1:8090/studio (Ctrl-C stops it)");
    env.cmd(passway.to_str().expect("utf-8 path"))
        .args(["--config", "examples/demo/passway.toml", "studio", "--themes", "themes"])
        .current_dir(&root)
        .run()
}

fn test(args: &[String]) -> Result<()> {
    let root = root();
    let skip_browser = args.iter().any(|a| a == "--no-browser");
    let env = tools::ensure_all(&root)?;
    match std::env::var("PASSWAY_TEST_POSTGRES_URL") {
        Ok(url) => {
            // The cluster browser test (e2e/tests/cluster.spec.ts) puts HAProxy in front
            // of three instances on a database of its own, made with psql.
            if !skip_browser {
                tools::ensure_haproxy()?;
                tools::ensure_psql()?;
            }
            sh::step(&format!("PostgreSQL tests enabled ({})", redact(&url)))
        }
        Err(_) => sh::step("PASSWAY_TEST_POSTGRES_URL is not set: the PostgreSQL half of the suite will be skipped"),
    }
    sh::step("formatting (cargo fmt --check)");
    env.cmd("cargo").args(["fmt", "--all", "--", "--check"]).current_dir(&root).run()?;
    sh::step("clippy, warnings denied (native)");
    env.cmd("cargo")
        .args(["clippy", "--workspace", "--exclude", "passway-widget", "--all-targets", "--", "-D", "warnings"])
        .current_dir(&root)
        .run()?;
    sh::step("clippy, warnings denied (widget, wasm32)");
    env.cmd("cargo")
        .args(["clippy", "-p", "passway-widget", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"])
        .current_dir(&root)
        .run()?;
    sh::step("unit and integration tests");
    env.cmd("cargo").args(["test", "--workspace", "--exclude", "passway-widget"]).current_dir(&root).run()?;
    if std::env::var("PASSWAY_TEST_POSTGRES_URL").is_ok() {
        sh::step("chaos, a short pass: kill -9, a database restart and an SMTP outage under load");
        chaos::chaos(&["--short".to_owned()])?;
    }
    sh::step("the JSON API against its OpenAPI document (schemathesis)");
    build_debug_binaries(&env, &root)?;
    schemathesis::run(&root, &root.join("target/debug/passway"), 60)?;
    if skip_browser {
        sh::step("browser tests skipped (--no-browser)");
        return Ok(());
    }
    sh::step("building the widget for the browser tests");
    widget::build(&env, &root)?;
    sh::step("browser tests (Playwright, Chromium)");
    env.cmd("npx")
        .args(["playwright", "test"])
        .current_dir(root.join("e2e"))
        .env("PASSWAY_BIN", root.join("target/debug/passway"))
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .run()
}

/// `cargo xtask fuzz [SECONDS] [TARGET…]`: each target (all by default) for SECONDS
/// (default 300).
fn fuzz_for(args: &[String]) -> Result<()> {
    let seconds = args.first().map(|s| s.parse()).transpose()?.unwrap_or(300);
    let chosen: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let targets: Vec<&str> = if chosen.is_empty() { fuzz::TARGETS.to_vec() } else { chosen };
    let root = root();
    let env = tools::ensure_build_tools(&root)?;
    fuzz::run(&root, &env, &targets, seconds)
}

/// `cargo xtask api-fuzz [SECONDS]`: schemathesis for longer than the test run's minute.
fn api_fuzz(args: &[String]) -> Result<()> {
    let seconds = args.first().map(|s| s.parse()).transpose()?.unwrap_or(600);
    let root = root();
    let env = tools::ensure_build_tools(&root)?;
    env.cmd("cargo").args(["build", "-p", "passway-server", "--bin", "passway"]).current_dir(&root).run()?;
    schemathesis::run(&root, &root.join("target/debug/passway"), seconds)
}

/// A URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
            let colon = s + 3 + url[s + 3..at].find(':').expect("checked");
            format!("{}:***{}", &url[..colon], &url[at..])
        }
        _ => url.to_owned(),
    }
}
