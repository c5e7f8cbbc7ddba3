//! Installs what the build and the tests need and is missing — from the Rust crate,
//! npm and Debian package registries only — at the exact versions that work here.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::sh::{self, Run};

/// Trunk 0.22+ needs a newer rustc than this toolchain.
const TRUNK_VERSION: &str = "0.21.14";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian's haproxy package puts the load balancer (`cargo xtask cluster`, the
/// cluster browser test).
pub const HAPROXY: &str = "/usr/sbin/haproxy";
const PSQL: &str = "/usr/bin/psql";

/// The environment commands run in: PATH with cargo's bin folder and the widget's
/// npm tools (wasm-opt) in front.
pub struct Env {
    path: OsString,
}

impl Env {
    /// The PATH with the repository's tools first; installs nothing.
    pub fn new(root: &Path) -> Env {
        let mut dirs: Vec<PathBuf> = vec![root.join("widget/node_modules/.bin"), cargo_home().join("bin")];
        dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        Env { path: std::env::join_paths(dirs).expect("PATH entries") }
    }

    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env("PATH", &self.path);
        c
    }
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"))
}

/// Everything: build tools, npm packages for the browser tests, Chromium.
pub fn ensure_all(root: &Path) -> Result<Env> {
    let env = ensure_build_tools(root)?;
    ensure_npm(&env, &root.join("e2e"))?;
    ensure_chromium()?;
    Ok(env)
}

/// What building the widget and the server needs.
pub fn ensure_build_tools(root: &Path) -> Result<Env> {
    let env = Env::new(root);
    ensure_wasm_target(&env)?;
    let bindgen = locked_version(root, "wasm-bindgen")?;
    check_trunk_toml(root, &bindgen)?;
    // A debug build: Trunk only runs cargo, wasm-bindgen and wasm-opt and copies files,
    // and its release build was the longest step of a CI run on a fresh machine (12 min).
    ensure_cargo_tool(&env, "trunk", "trunk", TRUNK_VERSION, &["--locked", "--debug"])?;
    // Without --locked: one of its locked dependencies is not on the registry here. A
    // debug build too: it rewrites one module of half a megabyte per widget build (a
    // few seconds unoptimised), and its release build took 4 minutes of a fresh machine.
    ensure_cargo_tool(&env, "wasm-bindgen", "wasm-bindgen-cli", &bindgen, &["--debug"])?;
    ensure_npm(&env, &root.join("widget"))?;
    Ok(env)
}

fn ensure_wasm_target(env: &Env) -> Result<()> {
    let installed = env.cmd("rustup").args(["target", "list", "--installed"]).output_text().unwrap_or_default();
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    sh::step(&format!("installing the {WASM_TARGET} target"));
    env.cmd("rustup").args(["target", "add", WASM_TARGET]).run()
}

/// The version of `crate_name` in Cargo.lock.
fn locked_version(root: &Path, crate_name: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{crate_name}\"")
            && let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    bail!("{crate_name} is not in Cargo.lock")
}

/// Trunk must ask for the wasm-bindgen that Cargo.lock pins, or it tries to download one.
fn check_trunk_toml(root: &Path, bindgen: &str) -> Result<()> {
    let trunk = std::fs::read_to_string(root.join("Trunk.toml")).context("reading Trunk.toml")?;
    if !trunk.contains(&format!("wasm_bindgen = \"{bindgen}\"")) {
        bail!("Trunk.toml [tools] wasm_bindgen must be \"{bindgen}\", the wasm-bindgen version in Cargo.lock");
    }
    Ok(())
}

/// Installs `krate` at `version` with cargo unless `binary --version` already says it.
fn ensure_cargo_tool(env: &Env, binary: &str, krate: &str, version: &str, extra: &[&str]) -> Result<()> {
    let have = env.cmd(binary).arg("--version").output_text().unwrap_or_default();
    if have.split_whitespace().any(|w| w == version) {
        return Ok(());
    }
    sh::step(&format!("installing {krate} {version} (found: {})", if have.is_empty() { "none" } else { &have }));
    env.cmd("cargo").args(["install", krate, "--version", &format!("={version}")]).args(extra).run()
}

/// `npm ci` in `dir` when its node_modules is missing or older than its lock file
/// (`npm install` where there is no lock file yet, which makes one).
pub fn ensure_npm(env: &Env, dir: &Path) -> Result<()> {
    let lock = dir.join("package-lock.json");
    let marker = dir.join("node_modules/.package-lock.json");
    let fresh = match (
        std::fs::metadata(&lock).and_then(|m| m.modified()),
        std::fs::metadata(&marker).and_then(|m| m.modified()),
    ) {
        (Ok(l), Ok(m)) => m >= l,
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    sh::step(&format!("installing npm packages in {}", dir.display()));
    let install = if lock.exists() { "ci" } else { "install" };
    env.cmd("npm")
        .args([install, "--no-audit", "--no-fund"])
        .current_dir(dir)
        // The browser tests use Debian's Chromium; Playwright must not download one.
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .run()
}

fn ensure_chromium() -> Result<()> {
    ensure_debian_package("Chromium", "chromium", CHROMIUM)
}

/// HAProxy, the load balancer in front of the cluster's instances.
pub fn ensure_haproxy() -> Result<()> {
    ensure_debian_package("HAProxy", "haproxy", HAPROXY)
}

/// `psql`, to create the databases of the cluster and of its browser test.
pub fn ensure_psql() -> Result<()> {
    ensure_debian_package("the PostgreSQL client", "postgresql-client", PSQL)
}

/// `perf`, for `cargo xtask bench --profile`.
pub fn ensure_perf() -> Result<()> {
    ensure_debian_package("perf", "linux-perf", "/usr/bin/perf")
}

/// Installs Debian's `package` (as root, else through `sudo -n`) unless `binary` exists;
/// refreshes the package lists only when the first attempt fails.
fn ensure_debian_package(what: &str, package: &str, binary: &str) -> Result<()> {
    if Path::new(binary).exists() {
        return Ok(());
    }
    sh::step(&format!("installing {what} from Debian's packages"));
    let is_root = Command::new("id").arg("-u").output_text().as_deref() == Some("0");
    let apt = |args: &[&str]| {
        let mut c = if is_root { Command::new("apt-get") } else { Command::new("sudo") };
        if !is_root {
            c.args(["-n", "apt-get"]);
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    if apt(&["install", "-y", "--no-install-recommends", package]).run().is_err() {
        apt(&["update"]).run()?;
        apt(&["install", "-y", "--no-install-recommends", package]).run()?;
    }
    if !Path::new(binary).exists() {
        bail!("{what} is still missing at {binary}");
    }
    Ok(())
}
