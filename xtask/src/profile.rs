//! `cargo xtask bench --profile [--scenario NAME] [--duration S]`: where one scenario's
//! server CPU goes. Builds the `profiling` profile (release with line tables), runs the
//! scenario against a fresh SQLite file, samples the server with `perf` (DWARF stacks, so
//! no frame pointers are needed) in the middle of the load, and writes a flame graph
//! (inferno) to `target/bench/flame-NAME.svg`. The report adds what the kernel says the
//! server wrote per operation (`/proc/PID/io`): mostly the WAL and its checkpoints.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use crate::sh::{self, Run};
use crate::tools;

const INFERNO: &str = "0.12.8";

pub fn profile(root: &Path, scenario: &str, duration: &str, concurrency: &str) -> Result<String> {
    let env = tools::Env::new(root);
    tools::ensure_perf()?;
    let inferno = ensure_inferno(&env, root)?;
    sh::step("building the profiling binaries (release, with line tables)");
    env.cmd("cargo")
        .args(["build", "--profile", "profiling", "-p", "passway-server", "-p", "passway-bench"])
        .args(["--bin", "passway", "--bin", "passway-load"])
        .current_dir(root)
        .run()?;
    let dir = std::env::temp_dir().join(format!("passway-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(root, &dir, &inferno, scenario, duration, concurrency);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run(root: &Path, dir: &Path, inferno: &Path, scenario: &str, duration: &str, concurrency: &str) -> Result<String> {
    let config = dir.join("passway.toml");
    let store = format!("sqlite://{}/profile.db", dir.display());
    std::fs::write(&config, crate::bench::config_text(root, dir, &store) + crate::bench::LIMITS_OFF)?;
    let (mut server, base) = crate::fleet::start_instance(&root.join("target/profiling/passway"), &config)?;
    let pid = server.id();
    let seconds: u64 = duration.parse().context("--duration is a number of seconds")?;
    let written_before = written(pid)?;
    sh::step(&format!("load: {scenario}, {concurrency} in flight, {seconds} s; perf samples the middle of it"));
    let mut load = Command::new(root.join("target/profiling/passway-load"));
    load.args(["--base", &base, "--scenario", scenario, "--concurrency", concurrency, "--duration", duration]);
    load.args(["--server-pid", &pid.to_string()]).args(crate::bench::client_args(scenario));
    let load = load.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().context("starting passway-load")?;
    // Past the load generator's 3 s warm-up, for half of the measured time.
    std::thread::sleep(Duration::from_secs(4));
    let perf_data = dir.join("perf.data");
    let sampled = (seconds / 2).max(2);
    Command::new("perf")
        .args(["record", "-q", "-F", "499", "--call-graph", "dwarf,16384", "-p", &pid.to_string(), "-o"])
        .arg(&perf_data)
        .args(["--", "sleep", &sampled.to_string()])
        .run()?;
    let out = load.wait_with_output()?;
    let written_after = written(pid)?;
    drop(server.stdin.take());
    let _ = server.wait();
    if !out.status.success() {
        bail!("passway-load failed");
    }
    let report: Value = serde_json::from_slice(&out.stdout).context("passway-load's report")?;
    let done = report["completed"].as_f64().unwrap_or(0.0).max(1.0);

    sh::step("folding the stacks into a flame graph");
    let script = Command::new("perf").arg("script").arg("-i").arg(&perf_data).arg("--no-inline").output()?;
    let folded = dir.join("folded.txt");
    let collapse = Command::new(inferno.join("inferno-collapse-perf"))
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&folded)?)
        .spawn()
        .context("inferno-collapse-perf")?;
    feed(collapse, &script.stdout)?;
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir)?;
    let svg = out_dir.join(format!("flame-{scenario}.svg"));
    Command::new(inferno.join("inferno-flamegraph"))
        .args(["--title", &format!("passway: {scenario}, {concurrency} in flight (server CPU)")])
        .arg(&folded)
        .stdout(std::fs::File::create(&svg)?)
        .run()?;
    let top = Command::new("perf")
        .arg("report")
        .arg("-i")
        .arg(&perf_data)
        .args(["--no-children", "--sort", "sym", "-g", "none", "--stdio", "--percent-limit", "1"])
        .output_text()
        .unwrap_or_default();
    let top: Vec<&str> = top.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).take(20).collect();
    Ok(format!(
        "## Profile: {scenario} ({concurrency} in flight, {seconds} s, perf for {sampled} s)\n\n\
         | | |\n|---|---|\n\
         | operations per second | {:.0} |\n| server CPU per operation | {:.3} ms |\n\
         | bytes the server wrote per operation (`wchar`) | {:.1} KB |\n\
         | write calls per operation | {:.1} |\n\n\
         Flame graph: `{}`\n\nTop functions by their own samples (≥ 1%):\n\n```\n{}\n```\n",
        report["per_s"].as_f64().unwrap_or(0.0),
        report["server_cpu_ms_per_iteration"].as_f64().unwrap_or(0.0),
        (written_after.0 - written_before.0) as f64 / done / 1024.0,
        (written_after.1 - written_before.1) as f64 / done,
        svg.strip_prefix(root).unwrap_or(&svg).display(),
        top.join("\n"),
    ))
}

/// Bytes written and write calls so far (`/proc/PID/io`: `wchar`, `syscw`).
fn written(pid: u32) -> Result<(u64, u64)> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).context("reading /proc/PID/io")?;
    let field = |name: &str| {
        io.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0)
    };
    Ok((field("wchar:"), field("syscw:")))
}

fn feed(mut child: std::process::Child, input: &[u8]) -> Result<()> {
    use std::io::Write as _;
    child.stdin.take().context("stdin")?.write_all(input)?;
    if !child.wait()?.success() {
        bail!("inferno-collapse-perf failed");
    }
    Ok(())
}

/// inferno's `collapse-perf` and `flamegraph`, built into `target/tools/inferno`.
fn ensure_inferno(env: &tools::Env, root: &Path) -> Result<PathBuf> {
    let home = root.join("target/tools/inferno");
    let bin = home.join("bin");
    let have = Command::new(bin.join("inferno-flamegraph")).arg("--version").output_text().unwrap_or_default();
    if !have.contains(INFERNO) {
        sh::step(&format!("installing inferno {INFERNO} (flame graphs)"));
        env.cmd("cargo")
            .args(["install", "inferno", "--version", &format!("={INFERNO}"), "--locked", "--root"])
            .arg(&home)
            .run()?;
    }
    Ok(bin)
}
