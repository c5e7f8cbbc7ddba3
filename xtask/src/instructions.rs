//! `cargo xtask bench --instructions [--duration S]`: instructions the server executes
//! per operation, counted by valgrind's callgrind, for the scenarios the performance
//! targets name (email and passkey sign-ins, the three token grants).
//!
//! Why beside CPU time: CPU time on this kind of shared VM moves with the host (the same
//! binary measured 0.9 ms per sign-in one morning and 2.0 ms that afternoon), so CPU
//! figures can only be compared within one run. An instruction count does not depend on
//! what else the machine does: it is how to tell, on any day, whether a change made the
//! server do less. It is a proxy (a cache miss costs more than an instruction, and under
//! valgrind the server's threads take turns, so its group commits batch differently), so
//! the README keeps CPU time as the measure and this as the repeatable check.
//!
//! The server starts with instrumentation off (start-up compresses the static files),
//! turns it on, takes a short warm-up of each scenario, zeroes the counters, and is
//! dumped after the measured window; every count is the whole process, all threads.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use crate::bench::{LIMITS_OFF, client_args, config_text, passkeys_config_text};
use crate::fleet::{listening_address, spawn_server};
use crate::sh::{self, Run};

/// The scenarios with a CPU target in the performance issue, in its order.
const SCENARIOS: [&str; 5] = ["email", "passkey", "authorization_code", "refresh_token", "client_credentials"];
/// Few in flight: under valgrind the server runs one thread at a time.
const CONCURRENCY: &str = "4";

pub fn instructions(root: &Path, dir: &Path, duration: &str) -> Result<String> {
    if Command::new("valgrind").arg("--version").output().is_err() {
        bail!("--instructions needs valgrind (Debian's package `valgrind`)");
    }
    let store = |name: &str| format!("sqlite://{}/{name}.db", dir.display());
    let plain = config_text(root, dir, &store("instructions")) + LIMITS_OFF;
    // Passkey sign-ins need the passkeys configuration; the other scenarios the plain one
    // (with passkeys on, a new account is offered one, and the load does not take it).
    let passkeys = passkeys_config_text(root, dir, &store("instructions-passkeys"))?;
    let groups: [(String, &[&'static str]); 2] =
        [(plain, &["email", "authorization_code", "refresh_token", "client_credentials"]), (passkeys, &["passkey"])];
    let mut rows: Vec<Row> = vec![];
    let mut top = String::new();
    for (config, scenarios) in groups {
        let path = dir.join("instructions.toml");
        std::fs::write(&path, config)?;
        rows.extend(count(root, dir, &path, scenarios, duration, &mut top)?);
    }
    rows.sort_by_key(|row| SCENARIOS.iter().position(|s| *s == row.scenario));
    let mut markdown = format!(
        "## Instructions per operation (callgrind; release build, SQLite, {CONCURRENCY} in flight, {duration} s each)\n\n\
         | scenario | operations counted | instructions per operation |{}\n|---|---|---|{}\n",
        COUNTED.map(|(column, _)| format!(" {column} |")).concat(),
        "---|".repeat(COUNTED.len()),
    );
    for row in rows {
        let calls = row.calls.iter().map(|c| format!(" {c:.1} |")).collect::<String>();
        markdown.push_str(&format!("| {} | {} | {:.2} M |{calls}\n", row.scenario, row.done, row.instructions / 1e6));
    }
    markdown.push_str(&format!(
        "\nWhere the email sign-in's instructions go (`callgrind_annotate`, self cost, top {TOP}):\n\n```\n{top}```\n"
    ));
    Ok(markdown)
}

/// Calls counted per operation besides instructions, a column each: the entry points
/// summed (each allocator's, so a call inside one is not counted twice).
const COUNTED: [(&str, &[&str]); 4] = [
    ("Rust allocations", &["mi_malloc_aligned", "mi_zalloc_aligned", "mi_realloc_aligned"]),
    ("C allocations (SQLite, aws-lc)", &["malloc", "calloc", "realloc"]),
    ("SQLite statement steps", &["sqlite3_step"]),
    ("SQLite statements prepared", &["sqlite3_prepare_v3", "sqlite3_prepare_v2"]),
];

/// One scenario's counts, per operation.
struct Row {
    scenario: &'static str,
    done: u64,
    instructions: f64,
    /// Per entry of [`COUNTED`].
    calls: Vec<f64>,
}

/// Starts the server under callgrind with `config` and counts each of `scenarios`;
/// the email scenario's top functions go to `top`.
fn count(
    root: &Path,
    dir: &Path,
    config: &Path,
    scenarios: &[&'static str],
    duration: &str,
    top: &mut String,
) -> Result<Vec<Row>> {
    sh::step("starting Passway (release, SQLite, rate limits off) under callgrind");
    // A folder per server: each numbers its dumps from 1.
    let dir = &dir.join(format!("callgrind-{}", scenarios[0]));
    std::fs::create_dir_all(dir)?;
    let mut command = Command::new("valgrind");
    command
        .args(["--tool=callgrind", "--instr-atstart=no", "--dump-instr=no"])
        .arg(format!("--callgrind-out-file={}", dir.join("callgrind.out").display()))
        .arg(root.join("target/release/passway"))
        .arg("--config")
        .arg(config)
        .args(["serve", "--stop-on-stdin-eof"])
        .env("RUST_LOG", "warn");
    let (mut server, base) = spawn_server(command, "passway under callgrind", listening_address)?;
    let pid = server.id().to_string();
    let rows = (|| -> Result<Vec<Row>> {
        control(&["--instr=on", &pid])?;
        let mut rows = vec![];
        for &scenario in scenarios {
            let before = dumps(dir)?;
            let window =
                [format!("callgrind_control --zero {pid}"), format!("callgrind_control --dump={scenario} {pid}")];
            let report = load(root, &base, scenario, duration, &window)?;
            let done = report["completed"].as_u64().unwrap_or(0);
            if done == 0 {
                bail!("no {scenario} operation completed under callgrind");
            }
            let dump = dumps(dir)?.into_iter().find(|d| !before.contains(d)).context("callgrind wrote no dump")?;
            let text = std::fs::read_to_string(&dump).with_context(|| dump.display().to_string())?;
            let per_op = |n: u64| n as f64 / done as f64;
            let received = calls_by_callee(&text);
            let calls =
                COUNTED.iter().map(|(_, names)| per_op(names.iter().filter_map(|n| received.get(*n)).sum())).collect();
            if scenario == "email" {
                *top = top_functions(&dump)?;
            }
            rows.push(Row { scenario, done, instructions: per_op(total_instructions(&text)?), calls });
        }
        Ok(rows)
    })();
    drop(server.stdin.take());
    let _ = server.wait();
    rows
}

/// `passway-load` with its warm-up; callgrind's counters are zeroed as its measured
/// window opens and dumped as it closes (`window`), so set-up and warm-up do not count.
fn load(root: &Path, base: &str, scenario: &str, seconds: &str, window: &[String; 2]) -> Result<Value> {
    sh::step(&format!("{scenario}: {CONCURRENCY} in flight for {seconds} s after a 3 s warm-up"));
    let out = Command::new(root.join("target/release/passway-load"))
        .args(["--base", base, "--scenario", scenario, "--concurrency", CONCURRENCY])
        .args(["--duration", seconds, "--warmup", "3"])
        .args(["--on-window-start", &window[0], "--on-window-end", &window[1]])
        .args(client_args(scenario))
        .stderr(Stdio::inherit())
        .output()
        .context("running passway-load")?;
    if !out.status.success() {
        bail!("passway-load failed ({scenario})");
    }
    serde_json::from_slice(&out.stdout).context("passway-load's report")
}

/// The dumps callgrind has written so far (`callgrind.out`, then `.1`, `.2`, … per dump).
fn dumps(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    Ok(std::fs::read_dir(dir)?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("callgrind.out")))
        .collect())
}

/// `callgrind_control ARGS PID`: here, instrumentation on once the server has started
/// (it returns once callgrind has done it).
fn control(args: &[&str]) -> Result<()> {
    Command::new("callgrind_control").args(args).stdout(Stdio::null()).run()
}

/// Functions listed for the email scenario.
const TOP: usize = 20;

/// The functions with the most instructions of their own (not their callees').
fn top_functions(dump: &Path) -> Result<String> {
    let out = Command::new("callgrind_annotate")
        .arg("--inclusive=no")
        .arg(dump)
        .output_text()
        .context("callgrind_annotate")?;
    Ok(out
        .lines()
        .filter(|l| l.contains("%)") && !l.contains("PROGRAM TOTALS"))
        .take(TOP)
        .map(|l| format!("{}\n", l.trim()))
        .collect())
}

/// The `totals:` (or `summary:`) line of a callgrind dump: instructions executed.
fn total_instructions(dump: &str) -> Result<u64> {
    dump.lines()
        .find_map(|l| l.strip_prefix("totals:").or_else(|| l.strip_prefix("summary:")))
        .and_then(|v| v.split_whitespace().next())
        .context("no totals in the callgrind dump")?
        .parse()
        .context("callgrind's totals")
}

/// How many calls each function received, by name, from the `cfn=` / `calls=` lines of
/// a callgrind dump (names are compressed: `(12) name` the first time, `(12)` after;
/// `fn=` and `cfn=` share the numbering).
fn calls_by_callee(dump: &str) -> HashMap<String, u64> {
    let mut names = HashMap::new();
    let mut calls = HashMap::new();
    let mut callee = None;
    for line in dump.lines() {
        if let Some(spec) = line.strip_prefix("fn=") {
            function_name(&mut names, spec);
        } else if let Some(spec) = line.strip_prefix("cfn=") {
            callee = Some(function_name(&mut names, spec));
        } else if let Some(rest) = line.strip_prefix("calls=") {
            let n: u64 = rest.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
            if let Some(name) = callee.take() {
                *calls.entry(name.to_owned()).or_insert(0) += n;
            }
        }
    }
    calls
}

/// The name a `fn=` / `cfn=` spec stands for, learning `(id) name` pairs as they come.
fn function_name<'a>(names: &mut HashMap<&'a str, &'a str>, spec: &'a str) -> &'a str {
    let spec = spec.trim();
    match spec.strip_prefix('(').and_then(|rest| rest.split_once(')')) {
        Some((id, "")) => names.get(id).copied().unwrap_or(spec),
        Some((id, name)) => names.entry(id).or_insert(name.trim()),
        None => spec,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_the_calls_each_function_received() {
        let dump = "events: Ir\nfn=(1) main\n1 5\ncfn=(2) malloc\ncalls=3 0\n1 30\ncfn=(3) sqlite3_step\ncalls=2 0\n1 9\n\
                    fn=(4) handler\ncfn=(2)\ncalls=4 0\n1 40\nfn=(2)\n0 70\n";
        let calls = super::calls_by_callee(dump);
        assert_eq!(calls["malloc"], 7);
        assert_eq!(calls["sqlite3_step"], 2);
        assert!(!calls.contains_key("main") && !calls.contains_key("handler"));
    }

    #[test]
    fn reads_the_total_of_a_dump() {
        let dump =
            "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nfn=main\n1 5\nsummary: 1234567\ntotals: 1234567\n";
        assert_eq!(super::total_instructions(dump).unwrap(), 1_234_567);
        assert!(super::total_instructions("events: Ir\n").is_err());
    }
}
