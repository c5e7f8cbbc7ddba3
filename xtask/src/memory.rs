//! `cargo xtask bench --memory [--duration S]`: what the server's memory looks like after
//! a long email load (ten minutes by default) and while it holds ten thousand flows and a
//! thousand event streams — the target, RSS ≤ 40 MB — split into the heap
//! (anonymous memory) and file pages (the binary; a memory map of the SQLite file would
//! count here too).

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use crate::bench::{LIMITS_OFF, config_text, measure, start_server};
use crate::sh;

/// Flows and event streams held at the end: `passway-load --hold`.
const HOLD: &str = "10000:1000";

pub fn memory(root: &Path, dir: &Path, duration: &str, concurrency: &str) -> Result<String> {
    let config = dir.join("memory.toml");
    let store = format!("sqlite://{}/bench-memory.db", dir.display());
    std::fs::write(&config, config_text(root, dir, &store) + LIMITS_OFF)?;
    sh::step("starting Passway (release, SQLite, rate limits off) for the memory run");
    let (mut server, base) = start_server(root, &config)?;
    let pid = server.id();
    let report = (|| -> Result<_> {
        let started = hold(root, &base, pid, "0:0")?;
        let load = measure(root, &base, pid, duration, concurrency, "email", &[])?;
        let held = hold(root, &base, pid, HOLD)?;
        Ok((started, load, held))
    })();
    drop(server.stdin.take());
    let _ = server.wait();
    let (started, load, held) = report?;
    let row = |what: &str, m: &Value| {
        format!(
            "| {what} | {} | {} | {} | {} | {} |\n",
            m["rss_mb"], m["anon_mb"], m["lazy_free_mb"], m["file_mb"], m["peak_mb"]
        )
    };
    let (flows, streams) = HOLD.split_once(':').expect("FLOWS:STREAMS");
    Ok(format!(
        "## Memory (SQLite, release build, {concurrency} concurrent email sign-ins for {duration} s)\n\n\
         | moment | RSS (MB) | heap and stacks (anonymous) | of which freed lazily (MADV_FREE) | file pages (the binary) | peak RSS so far |\n\
         |---|---|---|---|---|---|\n{}{}{}\n\
         The load ran at {:.0} sign-ins/s. Flows held: {flows}, each waiting at its first step; event streams \
         held: {streams}, each on one of those flows.\n",
        row("just started", &started["server_memory_held"]),
        row("at the end of the load", &load["server_memory"]),
        row(&format!("{flows} flows and {streams} event streams held"), &held["server_memory_held"]),
        load["per_s"].as_f64().unwrap_or(0.0),
    ))
}

/// `passway-load --hold FLOWS:STREAMS` against the server: its report.
fn hold(root: &Path, base: &str, pid: u32, spec: &str) -> Result<Value> {
    sh::step(&format!("holding {spec} flows:streams and reading the server's memory"));
    let out = Command::new(root.join("target/release/passway-load"))
        .args(["--base", base, "--hold", spec, "--server-pid", &pid.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .context("running passway-load --hold")?;
    if !out.status.success() {
        bail!("passway-load --hold {spec} failed");
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}
