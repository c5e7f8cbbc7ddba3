//! `cargo xtask bench`: starts a release build of Passway on a fresh SQLite file (or
//! PostgreSQL with `--postgres`, using PASSWAY_TEST_POSTGRES_URL), drives complete
//! passwordless and passkey sign-ins and the token endpoint's three grants at it with
//! `passway-load`, and measures the widget's bytes. Prints a Markdown report and
//! writes it to target/bench/results.md.
//!
//! The main runs have rate limits off (`[rate_limits] enabled = false`), to measure the
//! engine; a second server has them on, as shipped, with the load spread over many
//! client addresses and accounts (what many people look like), and takes a flood from
//! one address while a normal client signs in. The server's own CPU time is read from
//! `/proc/PID/stat` for every scenario (the load generator shares the machine).
//!
//! After the email scenario, a peer runs on the same machine with the same load: node's
//! oidc-provider and its own authorization-code flow (`bench/peers/oidc-provider`), so
//! that Passway's server CPU per sign-in has something to be set beside. `--peer` runs
//! only those two.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

use crate::fleet::cpu_seconds;
use crate::sh::{self, Run};
use crate::{root, tools};

pub fn bench(args: &[String]) -> Result<()> {
    let root = root();
    let postgres = args.iter().any(|a| a == "--postgres");
    let duration = flag(args, "--duration").unwrap_or("20").to_owned();
    let concurrency = flag(args, "--concurrency").unwrap_or("32").to_owned();
    // A partial run measures the server alone: no widget to build, no tools to install.
    let partial = ["--profile", "--peer", "--scale", "--storage", "--memory", "--instructions", "--hooks"]
        .iter()
        .any(|mode| args.iter().any(|a| a == mode));
    let env = if partial {
        tools::Env::new(&root)
    } else {
        let env = tools::ensure_build_tools(&root)?;
        sh::step("building the widget, then the release binaries");
        crate::widget::build(&env, &root)?;
        env
    };
    if args.iter().any(|a| a == "--profile") {
        // Only where one scenario's server CPU goes: a flame graph and the top functions.
        let scenario = flag(args, "--scenario").unwrap_or("email");
        let markdown = crate::profile::profile(&root, scenario, &duration, &concurrency)?;
        return write_report(&root, &markdown);
    }
    env.cmd("cargo")
        .args(["build", "--release", "-p", "passway-server", "-p", "passway-bench"])
        .current_dir(&root)
        .run()?;

    let dir = std::env::temp_dir().join(format!("passway-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    if args.iter().any(|a| a == "--peer") {
        // Only the email scenario on SQLite and the peer beside it: quick to rerun.
        let markdown = email_beside_peer(&env, &root, &dir, &duration, &concurrency)?;
        let _ = std::fs::remove_dir_all(&dir);
        return write_report(&root, &markdown);
    }
    if args.iter().any(|a| a == "--scale") {
        // Only the cluster: 1, 2 and 3 instances on PostgreSQL behind HAProxy.
        let markdown = scale(&root, &dir, &duration, &concurrency)?;
        let _ = std::fs::remove_dir_all(&dir);
        return write_report(&root, &markdown);
    }
    if args.iter().any(|a| a == "--storage") {
        // Only the SQLite file's growth and its WAL over a long run.
        let duration = flag(args, "--duration").unwrap_or("300");
        let markdown = storage(&root, &dir, duration, &concurrency)?;
        let _ = std::fs::remove_dir_all(&dir);
        return write_report(&root, &markdown);
    }
    if args.iter().any(|a| a == "--memory") {
        // Only the server's memory: after a long load, and holding many flows and streams.
        let duration = flag(args, "--duration").unwrap_or("600");
        let markdown = crate::memory::memory(&root, &dir, duration, &concurrency)?;
        let _ = std::fs::remove_dir_all(&dir);
        return write_report(&root, &markdown);
    }
    if args.iter().any(|a| a == "--instructions") {
        // Only instructions per operation, counted by callgrind: the same on any day.
        let duration = flag(args, "--duration").unwrap_or("15");
        let markdown = crate::instructions::instructions(&root, &dir, duration)?;
        let _ = std::fs::remove_dir_all(&dir);
        return write_report(&root, &markdown);
    }
    if args.iter().any(|a| a == "--hooks") {
        // Only the hooks' cost, on SQLite.
        let markdown = hooks(&root, &dir, &duration, &concurrency)?;
        let _ = std::fs::remove_dir_all(&dir);
        return write_report(&root, &markdown);
    }
    let store = if postgres {
        let url = std::env::var("PASSWAY_TEST_POSTGRES_URL").context("--postgres needs PASSWAY_TEST_POSTGRES_URL")?;
        reset_postgres_schema(&env, &root, &url)?
    } else {
        format!("sqlite://{}/bench.db", dir.display())
    };
    let config = dir.join("passway.toml");
    std::fs::write(&config, config_text(&root, &dir, &store) + LIMITS_OFF)?;

    sh::step(&format!(
        "starting Passway (release, {}, rate limits off)",
        if postgres { "PostgreSQL" } else { "SQLite" }
    ));
    let (mut server, base) = start_server(&root, &config)?;
    let pid = server.id();
    let load = |scenario: &str, extra: &[&str]| measure(&root, &base, pid, &duration, &concurrency, scenario, extra);
    let report = (|| -> Result<_> {
        let email = load("email", &[])?;
        let password = load("password", &[])?;
        let mut grants = vec![];
        for grant in TOKEN_GRANTS {
            grants.push(load(grant, &[])?);
        }
        let enumeration = load("enumeration", &[])?;
        Ok((email, password, grants, enumeration, sizes(&root, &base)?))
    })();
    drop(server.stdin.take());
    let _ = server.wait();
    let (load, password, grants, enumeration, sizes) = report?;
    // With Passway stopped, so that only the peer's server and its driver are busy.
    let peer = peer(&env, &root, &duration, &concurrency)?;

    sh::step("starting Passway with rate limits on (release), behind the bench as its trusted proxy");
    let config = dir.join("limited.toml");
    let limited_store = if postgres {
        let url = std::env::var("PASSWAY_TEST_POSTGRES_URL").context("--postgres needs PASSWAY_TEST_POSTGRES_URL")?;
        reset_postgres_schema(&env, &root, &url)?
    } else {
        format!("sqlite://{}/bench-limited.db", dir.display())
    };
    std::fs::write(&config, config_text(&root, &dir, &limited_store) + LIMITS_ON)?;
    let (mut server, base) = start_server(&root, &config)?;
    let pid = server.id();
    let limited = (|| -> Result<_> {
        let spread = ["--spread-ips", "--accounts", "100"];
        let limited = measure(&root, &base, pid, &duration, &concurrency, "email", &spread)?;
        let flood = flood(&root, &base, pid, &duration)?;
        Ok((limited, flood))
    })();
    drop(server.stdin.take());
    let _ = server.wait();
    let (limited, flood) = limited?;

    // Passkeys need a host name for their RP ID, so this server runs at localhost.
    sh::step("starting Passway with passkeys (release, RP ID localhost)");
    let config = dir.join("passkeys.toml");
    let store = if postgres { store } else { format!("sqlite://{}/bench-passkeys.db", dir.display()) };
    std::fs::write(&config, passkeys_config_text(&root, &dir, &store)?)?;
    let (mut server, base) = start_server(&root, &config)?;
    let passkey_load = measure(&root, &base, server.id(), &duration, &concurrency, "passkey", &[]);
    drop(server.stdin.take());
    let _ = server.wait();
    let passkey_load = passkey_load?;
    let hooks = if postgres { String::new() } else { hooks(&root, &dir, &duration, &concurrency)? };
    let _ = std::fs::remove_dir_all(&dir);

    let store = if postgres { "PostgreSQL" } else { "SQLite" };
    let mut markdown = email_table(&load, store, &concurrency);
    markdown.push_str(&render_peer(&load, &peer, store, &duration, &concurrency));
    markdown.push_str(&render(&password, &passkey_load, &grants, &sizes, store, &concurrency));
    markdown.push_str(&render_limits(&limited, &flood, &enumeration, &concurrency));
    markdown.push_str(&hooks);
    write_report(&root, &markdown)
}

fn write_report(root: &Path, markdown: &str) -> Result<()> {
    println!("\n{markdown}");
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("results.md"), markdown)?;
    eprintln!("written to {}", out.join("results.md").display());
    Ok(())
}

/// The peer's folder: node's oidc-provider with a login and a consent interaction of
/// its own (`server.mjs`) and a driver of complete sign-ins (`load.mjs`).
const PEER_DIR: &str = "bench/peers/oidc-provider";
/// The peer's warm-up before its measured window: passway-load's (3 s), so that both
/// servers are measured after the same start.
const PEER_WARMUP: &str = "3";

/// What the peer measured: oidc-provider's and Node.js's versions, and a row shaped like
/// passway-load's report (`per_s`, `server_cpu_ms_per_iteration`, `p50_ms`, …).
struct Peer {
    version: String,
    node: String,
    load: Value,
}

/// `--peer`: Passway's email scenario (SQLite, rate limits off, as in the full run),
/// then the peer with the same load.
fn email_beside_peer(env: &tools::Env, root: &Path, dir: &Path, duration: &str, concurrency: &str) -> Result<String> {
    let config = dir.join("passway.toml");
    let store = format!("sqlite://{}/bench.db", dir.display());
    std::fs::write(&config, config_text(root, dir, &store) + LIMITS_OFF)?;
    sh::step("starting Passway (release, SQLite, rate limits off)");
    let (mut server, base) = start_server(root, &config)?;
    let email = measure(root, &base, server.id(), duration, concurrency, "email", &[]);
    drop(server.stdin.take());
    let _ = server.wait();
    let email = email?;
    let peer = peer(env, root, duration, concurrency)?;
    Ok(email_table(&email, "SQLite", concurrency) + &render_peer(&email, &peer, "SQLite", duration, concurrency))
}

/// Node's oidc-provider on this machine under the email scenario's load (same
/// duration, same number in flight); its server's CPU time is read from
/// `/proc/PID/stat` here, as passway-load reads Passway's, never inside node.
fn peer(env: &tools::Env, root: &Path, duration: &str, concurrency: &str) -> Result<Peer> {
    let dir = root.join(PEER_DIR);
    tools::ensure_npm(env, &dir)?;
    let version = peer_version(&dir)?;
    let node = env.cmd("node").arg("--version").output_text().context("Node.js is needed for the peer")?;
    sh::step(&format!("starting node oidc-provider {version} (Node.js {node}, one process, in-memory adapter)"));
    let (mut server, base) = start_peer(env, &dir)?;
    let load = peer_load(env, &dir, &base, server.id(), duration, concurrency);
    drop(server.stdin.take());
    let _ = server.wait();
    Ok(Peer { version, node, load: load? })
}

/// The oidc-provider version npm installed (package-lock.json pins it).
fn peer_version(dir: &Path) -> Result<String> {
    let manifest = dir.join("node_modules/oidc-provider/package.json");
    let text = std::fs::read_to_string(&manifest).with_context(|| format!("reading {}", manifest.display()))?;
    let manifest: Value = serde_json::from_str(&text)?;
    manifest["version"].as_str().map(str::to_owned).context("no version in oidc-provider's package.json")
}

/// `node server.mjs` on a free port; its first line on standard output names its URL
/// (`{"url": ...}`; its start-up warnings are drained unread), and closing its standard
/// input stops it.
fn start_peer(env: &tools::Env, dir: &Path) -> Result<(Child, String)> {
    let mut command = env.cmd("node");
    command.args(["server.mjs", "--port", "0"]).current_dir(dir);
    crate::fleet::spawn_server(command, "node server.mjs", |line| {
        serde_json::from_str::<Value>(line).ok().and_then(|v| v["url"].as_str().map(str::to_owned))
    })
}

/// `node load.mjs` at the peer: a warm-up, then the measured window, whose edges it
/// marks on standard output (`{"window":"start"}`, `{"window":"end"}`) so that the
/// server's CPU time is read at those moments; the row, shaped like passway-load's.
fn peer_load(env: &tools::Env, dir: &Path, base: &str, pid: u32, duration: &str, concurrency: &str) -> Result<Value> {
    sh::step(&format!(
        "load: {concurrency} concurrent sign-ins at oidc-provider, for {duration} s (after a {PEER_WARMUP} s warm-up)"
    ));
    let mut driver = env
        .cmd("node")
        .args(["load.mjs", "--base", base, "--duration", duration, "--concurrency", concurrency])
        .args(["--warmup", PEER_WARMUP, "--marks"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting node load.mjs")?;
    let (mut from, mut to, mut report) = (None, None, None);
    for line in BufReader::new(driver.stdout.take().expect("piped")).lines() {
        let Ok(said) = serde_json::from_str::<Value>(&line?) else { continue };
        match said["window"].as_str() {
            Some("start") => from = cpu_seconds(pid),
            Some("end") => to = cpu_seconds(pid),
            _ => report = Some(said),
        }
    }
    if !driver.wait()?.success() {
        bail!("node load.mjs failed");
    }
    let report = report.context("load.mjs printed no report")?;
    let cpu = from.zip(to).map(|(a, b)| b - a).context("the peer's CPU time (/proc/PID/stat)")?;
    let ok = report["ok"].as_f64().unwrap_or_default();
    let seconds = report["seconds"].as_f64().unwrap_or_default();
    Ok(json!({
        "scenario": "oidc-provider",
        "completed": report["ok"],
        "errors": report["errors"],
        "per_s": report["per_second"],
        "server_cpu_s": cpu,
        "server_cpu_ms_per_iteration": (ok > 0.0).then(|| cpu * 1000.0 / ok),
        "server_cpu_cores": (seconds > 0.0).then(|| cpu / seconds),
        "p50_ms": report["p50_ms"],
        "p99_ms": report["p99_ms"],
    }))
}

/// Passway's email sign-ins beside the peer's sign-ins: both servers' CPU per sign-in
/// and its ratio, with what differs between the two said under the table.
fn render_peer(email: &Value, peer: &Peer, store: &str, duration: &str, concurrency: &str) -> String {
    let f = |v: &Value| v.as_f64().unwrap_or_default();
    let row = |name: &str, load: &Value| {
        format!(
            "| {name} | {:.0} | {:.3} ms | {:.2} | {:.2} ms / {:.2} ms | {} / {} |\n",
            f(&load["per_s"]),
            f(&load["server_cpu_ms_per_iteration"]),
            f(&load["server_cpu_cores"]),
            f(&load["p50_ms"]),
            f(&load["p99_ms"]),
            load["completed"],
            load["errors"],
        )
    };
    let (ours, theirs) = (f(&email["server_cpu_ms_per_iteration"]), f(&peer.load["server_cpu_ms_per_iteration"]));
    let ratio = if ours > 0.0 && theirs > 0.0 {
        if theirs >= ours {
            format!("Passway uses {:.1}× less server CPU per sign-in than oidc-provider.", theirs / ours)
        } else {
            format!("Passway uses {:.1}× more server CPU per sign-in than oidc-provider.", ours / theirs)
        }
    } else {
        "No ratio: a server CPU time per sign-in is missing.".to_owned()
    };
    format!(
        "\n### Beside a peer: node's oidc-provider on the same machine, same load ({concurrency} in flight, {duration} s after a {PEER_WARMUP} s warm-up)\n\n\
         | server | sign-ins per second | server CPU per sign-in | cores busy | p50 / p99 | completed / errors |\n\
         |---|---|---|---|---|---|\n{}{}\n**{ratio}**\n\n\
         Each sign-in on the peer is a fresh browser: `/auth` (code, PKCE S256), its login form and POST, \
         its consent form and POST, the code at the redirect URI, `/token` (an ES256 id_token). \
         It runs as one Node.js {node} process (one core at most) on its in-memory adapter; \
         Passway keeps every sign-in in {store} and sends each code to its dev mailbox, \
         where its driver reads it (that request counts in Passway's CPU too). \
         Server CPU is the process's own (`/proc/PID/stat`) over the measured window; \
         each load driver shares the machine with its server.\n",
        row(&format!("Passway (email code sign-in, {store})"), email),
        row(
            &format!("node oidc-provider {} (authorization code + its login and consent interactions)", peer.version),
            &peer.load
        ),
        node = peer.node,
    )
}

/// Event types the bench's event hook subscribes to: what a CRM or a SIEM would take
/// (four to six events per sign-up, two to three per sign-in).
const HOOKED_EVENTS: &str = r#"["user.registration.create", "user.lifecycle.create", "user.session.start", "user.authentication.verify", "app.oauth2.token.grant.id_token"]"#;

/// Sign-ups and sign-ins without hooks, then with an event hook and a registration
/// inline hook on a receiver on loopback: the server CPU the hooks add per iteration,
/// and how fast the events are delivered (during the load, and the backlog's drain).
fn hooks(root: &Path, dir: &Path, duration: &str, concurrency: &str) -> Result<String> {
    let receiver = crate::receiver::Receiver::start()?;
    let secret = dir.join("hook.secret");
    let made = Command::new(root.join("target/release/passway")).arg("hook-secret").output()?;
    std::fs::write(&secret, &made.stdout)?;
    let mut runs = vec![];
    let event_hook = format!(
        "[[hooks.events]]\nname = \"bench-events\"\nurl = \"{url}/events\"\nevents = {HOOKED_EVENTS}\nsecret = {{ file = \"{secret}\" }}\n",
        url = receiver.url,
        secret = secret.display(),
    );
    let inline_hook = format!(
        "[[hooks.inline]]\nname = \"bench-registration\"\ntype = \"registration\"\nurl = \"{url}/inline\"\nsecret = {{ file = \"{secret}\" }}\non_failure = \"deny\"\n",
        url = receiver.url,
        secret = secret.display(),
    );
    for (name, extra) in [
        ("no hooks", String::new()),
        ("event hook", event_hook.clone()),
        ("event hook + registration inline hook", event_hook + &inline_hook),
    ] {
        sh::step(&format!("starting Passway (release, SQLite, rate limits off): {name}"));
        let config = dir.join(format!("hooks-{}.toml", runs.len()));
        let store = format!("sqlite://{}/bench-hooks-{}.db", dir.display(), runs.len());
        std::fs::write(&config, config_text(root, dir, &store) + LIMITS_OFF + &extra)?;
        let (mut server, base) = start_server(root, &config)?;
        let pid = server.id();
        let result = (|| -> Result<_> {
            let before = (receiver.events(), receiver.started.elapsed().as_secs_f64());
            let signup = measure(root, &base, pid, duration, concurrency, "signup", &[])?;
            let email = measure(root, &base, pid, duration, concurrency, "email", &[])?;
            let after = (receiver.events(), receiver.started.elapsed().as_secs_f64());
            // The backlog: wait until nothing arrived for 3 s (at most a minute).
            let mut waited = 0;
            while !extra.is_empty()
                && waited < 60
                && receiver.started.elapsed().as_secs_f64() - receiver.last_delivery() < 3.0
            {
                std::thread::sleep(std::time::Duration::from_secs(1));
                waited += 1;
            }
            let drained = (receiver.events(), receiver.last_delivery() - after.1);
            Ok((signup, email, before, after, drained))
        })();
        drop(server.stdin.take());
        let _ = server.wait();
        runs.push((name, result?));
    }
    let f = |v: &Value| v.as_f64().unwrap_or_default();
    let mut md = format!(
        "\n### Hooks: an event hook ({} event types) and a registration inline hook, both on a receiver on loopback (SQLite, {concurrency} concurrent clients)\n\n\
         | scenario | hooks | per second | server CPU per iteration | p99 |\n|---|---|---|---|---|\n",
        HOOKED_EVENTS.matches(',').count() + 1
    );
    for (scenario, pick) in [("sign-up (new address, registration form)", 0), ("email sign-in", 1)] {
        let base_cpu = f(&if pick == 0 { &runs[0].1.0 } else { &runs[0].1.1 }["server_cpu_ms_per_iteration"]);
        for (name, (signup, email, ..)) in &runs {
            let load = if pick == 0 { signup } else { email };
            let cpu = f(&load["server_cpu_ms_per_iteration"]);
            let added =
                if *name == "no hooks" { String::new() } else { format!(" ({:+.1}%)", (cpu / base_cpu - 1.0) * 100.0) };
            md.push_str(&format!(
                "| {scenario} | {name} | {:.0} | {cpu:.3} ms{added} | {:.2} ms |\n",
                f(&load["per_s"]),
                f(&load["p99_ms"])
            ));
        }
    }
    let (_, (signup, email, before, after, drained)) = &runs[2];
    let load_seconds = after.1 - before.1;
    let delivered_during = after.0 - before.0;
    md.push_str(&format!(
        "\nEvent deliveries: {delivered_during} events delivered during the {load_seconds:.0} s of load ({:.0} events/s, \
         while the load made {:.0} sign-ups/s and {:.0} sign-ins/s); the backlog was delivered {:.1} s after the load \
         ended, {} events in all.\n",
        delivered_during as f64 / load_seconds,
        f(&signup["per_s"]),
        f(&email["per_s"]),
        drained.1.max(0.0),
        drained.0 - before.0,
    ));
    Ok(md)
}

/// The engine alone: no rate limit (the server says so loudly at start).
pub(crate) const LIMITS_OFF: &str = "[rate_limits]\nenabled = false\n";
/// Limits as shipped, but for the one app every bench client uses (6,000 token requests
/// a minute would cap the run at 100 sign-ins a second), and the bench trusted as the
/// proxy that names each client's address.
const LIMITS_ON: &str =
    "[rate_limits]\ntrusted_proxies = [\"127.0.0.1\"]\nclient_token_requests_per_minute = 100000000\n";

/// A normal client (a few concurrent people, each from their own address) signs in
/// alone, then while one address floods flow starts: the normal client's latency,
/// both times, and what the flood got.
fn flood(root: &Path, base: &str, pid: u32, duration: &str) -> Result<(Value, Value, Value)> {
    // Enough accounts that none is sent more than ten emails in the hour.
    let normal = ["--spread-ips", "--accounts", "1000"];
    let alone = measure(root, base, pid, duration, "4", "email", &normal)?;
    sh::step("a flood from one address (16 concurrent connections) while the normal client signs in");
    let flood_secs = (duration.parse::<u64>().unwrap_or(20) + 6).to_string();
    let flooder = Command::new(root.join("target/release/passway-load"))
        .args([
            "--base",
            base,
            "--scenario",
            "flood",
            "--concurrency",
            "16",
            "--duration",
            &flood_secs,
            "--warmup",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the flood")?;
    let flooded = measure(root, base, pid, duration, "4", "email", &normal);
    let out = flooder.wait_with_output()?;
    let flood: Value = serde_json::from_slice(&out.stdout).context("the flood's report")?;
    Ok((alone, flooded?, flood))
}

/// `--scale`: complete email sign-ins through HAProxy to 1, 2 and 3 instances sharing a
/// PostgreSQL server (the run's own, a fresh database each time). The load generator is
/// pinned to the second core (`taskset -c 1`) in every run, so it gets the same share
/// each time; the instances, HAProxy and PostgreSQL share both cores. CPU per sign-in
/// is the instances' own (`/proc/PID/stat`), summed; PostgreSQL's is not counted.
fn scale(root: &Path, dir: &Path, duration: &str, concurrency: &str) -> Result<String> {
    use crate::fleet::{Postgres, free_ports, haproxy_config, start_instance, wait_for};
    crate::tools::ensure_haproxy()?;
    let f = |v: &Value| v.as_f64().unwrap_or_default();
    let mut pg = Postgres::start(&dir.join("pg"))?;
    let passway = root.join("target/release/passway");
    let mut rows = String::new();
    let result = (|| -> Result<()> {
        for n in 1..=3usize {
            let store = pg.database(&format!("scale{n}"))?;
            let ports = free_ports(n + 1)?;
            let front = format!("http://127.0.0.1:{}", ports[n]);
            sh::step(&format!("{n} instance(s) behind HAProxy ({front}), PostgreSQL"));
            let mut instances = vec![];
            for (i, port) in ports[..n].iter().enumerate() {
                let config = dir.join(format!("scale-{n}-{i}.toml"));
                let text = config_text(root, dir, &store).replacen(
                    "listen = \"127.0.0.1:0\"\n",
                    &format!(
                        "listen = \"127.0.0.1:{port}\"\nissuer = \"{front}\"\ntrusted_proxies = [\"127.0.0.1/32\"]\n"
                    ),
                    1,
                ) + LIMITS_OFF;
                std::fs::write(&config, text)?;
                // One after the other: the first makes the dev master key the others read.
                instances.push(start_instance(&passway, &config)?.0);
            }
            let cfg = dir.join(format!("haproxy-{n}.cfg"));
            std::fs::write(&cfg, haproxy_config(&format!("127.0.0.1:{}", ports[n]), &ports[..n]))?;
            let mut haproxy = Command::new(crate::tools::HAPROXY)
                .args(["-db", "-f"])
                .arg(&cfg)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            let run = (|| -> Result<Value> {
                wait_for(&format!("{front}/readyz"), std::time::Duration::from_secs(30))?;
                let pids: Vec<u32> = instances.iter().map(Child::id).collect();
                let cpu = || pids.iter().filter_map(|p| cpu_seconds(*p)).sum::<f64>();
                let before = cpu();
                let out = Command::new("taskset")
                    .args(["-c", "1"])
                    .arg(root.join("target/release/passway-load"))
                    .args(["--base", &front, "--scenario", "email", "--concurrency", concurrency])
                    .args(["--duration", duration, "--warmup", "0"])
                    .stderr(Stdio::inherit())
                    .output()
                    .context("running passway-load")?;
                let mut load: Value = serde_json::from_slice(&out.stdout)?;
                let completed = load["completed"].as_f64().unwrap_or(0.0).max(1.0);
                load["instances_cpu_ms_per_iteration"] = json!((cpu() - before) * 1000.0 / completed);
                Ok(load)
            })();
            let _ = haproxy.kill();
            let _ = haproxy.wait();
            for mut child in instances {
                drop(child.stdin.take());
                let _ = child.wait();
            }
            let load = run?;
            rows.push_str(&format!(
                "| {n} | {:.0} | {:.3} ms | {:.1} ms | {} |\n",
                f(&load["per_s"]),
                f(&load["instances_cpu_ms_per_iteration"]),
                f(&load["p99_ms"]),
                load["errors"],
            ));
        }
        Ok(())
    })();
    pg.stop();
    result?;
    Ok(format!(
        "## Scale-out (email sign-ins through HAProxy, PostgreSQL, {concurrency} in flight, {duration} s, release build)\n\n\
         | instances | sign-ins per second | instances' CPU per sign-in | p99 | errors |\n|---|---|---|---|---|\n{rows}"
    ))
}

/// `--storage`: complete email sign-ins on SQLite for a long while, sampling the
/// database file and its WAL every half second: the WAL must stay near its limit, and
/// the file grows by what each sign-in keeps (its events, session, refresh token).
fn storage(root: &Path, dir: &Path, duration: &str, concurrency: &str) -> Result<String> {
    let db = dir.join("bench-storage.db");
    let wal = dir.join("bench-storage.db-wal");
    let config = dir.join("storage.toml");
    std::fs::write(&config, config_text(root, dir, &format!("sqlite://{}", db.display())) + LIMITS_OFF)?;
    sh::step("starting Passway (release, SQLite, rate limits off) for the storage run");
    let (mut server, base) = start_server(root, &config)?;
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let (db_before, wal_before) = (size(&db), size(&wal));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (stop, db, wal) = (stop.clone(), db.clone(), wal.clone());
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let mut samples = vec![];
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                samples.push((started.elapsed().as_secs_f64(), size(&db), size(&wal)));
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
            samples
        })
    };
    let load = measure(root, &base, server.id(), duration, concurrency, "email", &[]);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let samples = sampler.join().expect("sampler");
    drop(server.stdin.take());
    let _ = server.wait();
    let load = load?;
    let completed = load["completed"].as_u64().unwrap_or(0).max(1);
    let (db_after, wal_after) = (size(&db), size(&wal));
    let wal_max = samples.iter().map(|s| s.2).max().unwrap_or(0);
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    let every = (samples.len() / 10).max(1);
    let series: Vec<String> =
        samples.iter().step_by(every).map(|(t, d, w)| format!("{t:.0} s: {:.1} / {:.1}", mb(*d), mb(*w))).collect();
    Ok(format!(
        "## Storage (SQLite, {concurrency} concurrent email sign-ins for {duration} s, release build)\n\n\
         | | |\n|---|---|\n\
         | sign-ins completed (after a 3 s warm-up) | {completed} |\n\
         | database file | {:.1} MB → {:.1} MB |\n\
         | database growth per sign-in | {:.1} KB |\n\
         | WAL: largest seen (sampled every 0.5 s) / at the end | {:.1} MB / {:.1} MB |\n\n\
         Database / WAL (MB) over the run: {}\n",
        mb(db_before + wal_before),
        mb(db_after),
        (db_after.saturating_sub(db_before)) as f64 / completed as f64 / 1024.0,
        mb(wal_max),
        mb(wal_after),
        series.join(", "),
    ))
}

/// The token endpoint scenarios of `passway-load`, run by the `bench-api` client.
const TOKEN_GRANTS: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];
/// The `bench-api` client's secret; only its hash is in the server's config.
const BENCH_SECRET: &str = "bench-only-client-secret-0123456789abcdef";
const BENCH_SECRET_HASH: &str = "sha256:EJ0pAtkAaMS3Y8z9xncIXwN-O_AtjiLAZ4_7AKyY5No";

/// The client a scenario of `passway-load` signs in to, when not the default `bench`.
pub(crate) fn client_args(scenario: &str) -> &'static [&'static str] {
    if TOKEN_GRANTS.contains(&scenario) {
        &["--client-id", "bench-api", "--client-secret", BENCH_SECRET]
    } else if scenario == "password" {
        &["--client-id", "bench-passwords"]
    } else {
        &[]
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

/// [`config_text`] with passkeys on and rate limits off: passkeys need a host name for
/// their RP ID, so the server listens on a port chosen here and its issuer is localhost.
pub(crate) fn passkeys_config_text(root: &Path, dir: &Path, store: &str) -> Result<String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let address = format!("listen = \"127.0.0.1:{port}\"\nissuer = \"http://localhost:{port}\"\n");
    Ok(config_text(root, dir, store).replacen("listen = \"127.0.0.1:0\"\n", &address, 1)
        + "[passkeys]\nrp_id = \"localhost\"\n"
        + LIMITS_OFF)
}

pub(crate) fn config_text(root: &Path, dir: &Path, store: &str) -> String {
    format!(
        r#"listen = "127.0.0.1:0"
dev_mode = true
data_dir = "{dir}"
[store]
url = "{store}"
[[profile.attributes]]
name = "given_name"
required = true
[themes]
dir = "{themes}"
[widget]
dir = "{widget}"
[[apps]]
client_id = "bench"
name = "Bench"
redirect_uris = ["http://bench.invalid/cb"]
[[apps]]
client_id = "bench-passwords"
name = "Bench passwords"
redirect_uris = ["http://bench.invalid/cb"]
passwords = "optional"
[[apps]]
client_id = "bench-api"
name = "Bench API"
redirect_uris = ["http://bench.invalid/cb"]
client_secret_hashes = ["{BENCH_SECRET_HASH}"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]
api_scopes = ["bench"]
audience = "https://bench.invalid/api"
[[apps]]
client_id = "bench-resource"
name = "Bench API"
client_secret_hashes = ["{BENCH_SECRET_HASH}"]
grant_types = ["client_credentials"]
resource = "https://bench.invalid/api"
"#,
        dir = dir.display(),
        themes = root.join("themes").display(),
        widget = root.join("dist/widget").display(),
    )
}

/// A fresh schema for the run, so numbers do not depend on earlier data.
fn reset_postgres_schema(env: &tools::Env, root: &Path, url: &str) -> Result<String> {
    let schema = "passway_bench";
    env.cmd("psql")
        .arg(url)
        .args(["-q", "-c", &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};")])
        .current_dir(root)
        .run()?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}options[search_path]={schema}"))
}

pub(crate) fn start_server(root: &Path, config: &Path) -> Result<(Child, String)> {
    crate::fleet::start_instance(&root.join("target/release/passway"), config)
}

/// A file of the widget bundle: name, raw bytes, brotli bytes.
type Size = (String, usize, usize);

pub(crate) fn measure(
    root: &Path,
    base: &str,
    pid: u32,
    duration: &str,
    concurrency: &str,
    scenario: &str,
    extra: &[&str],
) -> Result<Value> {
    sh::step(&format!(
        "load: {concurrency} concurrent clients, {scenario} {}, for {duration} s (after a 3 s warm-up)",
        extra.join(" ")
    ));
    let mut load = Command::new(root.join("target/release/passway-load"));
    load.args(["--base", base, "--scenario", scenario, "--concurrency", concurrency, "--duration", duration]);
    load.args(["--server-pid", &pid.to_string()]).args(extra);
    load.args(client_args(scenario));
    let out = load.stderr(Stdio::inherit()).output().context("running passway-load")?;
    if !out.status.success() {
        bail!("passway-load failed");
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Bytes of the widget bundle and the default theme, raw and brotli.
fn sizes(root: &Path, base: &str) -> Result<Vec<Size>> {
    let mut sizes = vec![];
    for name in ["passway.js", "passway_glue.js", "passway_bg.wasm"] {
        let bytes =
            std::fs::read(root.join("dist/widget").join(name)).with_context(|| format!("dist/widget/{name}"))?;
        sizes.push((name.to_owned(), bytes.len(), brotli_len(&bytes)));
    }
    let mut snippets = 0;
    let mut snippets_br = 0;
    walk(&root.join("dist/widget/snippets"), &mut |bytes| {
        snippets += bytes.len();
        snippets_br += brotli_len(bytes);
    });
    if snippets > 0 {
        sizes.push(("snippets/".into(), snippets, snippets_br));
    }
    let css = http_get(base, "/themes/default/theme.css")?;
    sizes.push(("theme.css (default)".into(), css.len(), brotli_len(&css)));
    Ok(sizes)
}

fn walk(dir: &Path, f: &mut dyn FnMut(&[u8])) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            walk(&p, f);
        } else if p.extension().is_some_and(|e| e == "br") {
            // The build's brotli copies (`widget.rs`): counted from the files themselves.
        } else if let Ok(bytes) = std::fs::read(&p) {
            f(&bytes);
        }
    }
}

fn brotli_len(bytes: &[u8]) -> usize {
    crate::widget::brotli(bytes).len()
}

/// A plain HTTP/1.1 GET (the body of a small, uncompressed response).
fn http_get(base: &str, path: &str) -> Result<Vec<u8>> {
    let host = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host)?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")?;
    let mut response = vec![];
    stream.read_to_end(&mut response)?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").context("no HTTP header end")?;
    Ok(response[split + 4..].to_vec())
}

fn email_table(email: &Value, store: &str, concurrency: &str) -> String {
    load_table(
        &format!(
            "Complete passwordless sign-ins by email code over HTTP ({store}, {concurrency} concurrent clients, 2-core machine)"
        ),
        "sign-ins",
        email,
    )
}

fn render(
    password: &Value,
    passkey: &Value,
    grants: &[Value],
    sizes: &[Size],
    store: &str,
    concurrency: &str,
) -> String {
    let mut md = String::from("\n");
    md.push_str(&load_table(
        &format!("Complete password sign-ins, identifier first, argon2id at OWASP's cost (m=19 MiB, t=2) over HTTP ({store}, {concurrency} concurrent clients)"),
        "sign-ins",
        password,
    ));
    md.push('\n');
    md.push_str(&load_table(
        &format!("Complete passkey sign-ins (autofill, software authenticator) over HTTP ({store}, {concurrency} concurrent clients)"),
        "sign-ins",
        passkey,
    ));
    for grant in grants {
        let (title, unit) = match grant["scenario"].as_str().unwrap_or_default() {
            "authorization_code" => (
                "`authorization_code`: a silent `/authorize` (SSO session, prompt=none), then the code exchanged",
                "codes",
            ),
            "refresh_token" => ("`refresh_token`: rotation along per-client chains", "refreshes"),
            _ => ("`client_credentials`: JWT access tokens (ES256), `client_secret_basic`", "grants"),
        };
        md.push('\n');
        md.push_str(&load_table(
            &format!("Token endpoint, {title} ({store}, {concurrency} concurrent clients)"),
            unit,
            grant,
        ));
    }
    md.push_str("\n### Widget bytes (what a page downloads)\n\n| file | raw | brotli |\n|---|---|---|\n");
    let (mut raw, mut br) = (0, 0);
    for (name, r, b) in sizes {
        md.push_str(&format!("| {name} | {:.1} KB | {:.1} KB |\n", *r as f64 / 1024.0, *b as f64 / 1024.0));
        raw += r;
        br += b;
    }
    md.push_str(&format!("| **all** | **{:.1} KB** | **{:.1} KB** |\n", raw as f64 / 1024.0, br as f64 / 1024.0));
    md
}

fn load_table(title: &str, unit: &str, load: &Value) -> String {
    let f = |v: &Value| v.as_f64().unwrap_or_default();
    let mut md = format!(
        "### {title}\n\n| measure | value |\n|---|---|\n\
         | {unit} per second | **{rate:.0}** |\n| completed / errors | {done} / {errors} |\n\
         | server CPU per iteration (cores busy) | {cpu:.3} ms ({cores:.2}) |\n\
         | whole iteration p50 / p99 | {p50:.2} ms / {p99:.2} ms |\n\n| step | p50 | p99 |\n|---|---|---|\n",
        rate = f(&load["per_s"]),
        done = load["completed"],
        errors = load["errors"],
        cpu = f(&load["server_cpu_ms_per_iteration"]),
        cores = f(&load["server_cpu_cores"]),
        p50 = f(&load["p50_ms"]),
        p99 = f(&load["p99_ms"]),
    );
    for s in load["steps"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {:.2} ms | {:.2} ms |\n",
            s["step"].as_str().unwrap_or(""),
            f(&s["p50_ms"]),
            f(&s["p99_ms"])
        ));
    }
    md
}

/// Rate limits on: sign-ins from many addresses, the flood, and the enumeration timing.
fn render_limits(limited: &Value, flood: &(Value, Value, Value), enumeration: &Value, concurrency: &str) -> String {
    let f = |v: &Value| v.as_f64().unwrap_or_default();
    let mut md = String::from("\n");
    md.push_str(&load_table(
        &format!(
            "Complete email sign-ins with rate limits ON, each from another client address, 100 accounts per client ({concurrency} concurrent clients)"
        ),
        "sign-ins",
        limited,
    ));
    let (alone, flooded, attack) = flood;
    let refused = f(&attack["refused"]);
    let sent = f(&attack["completed"]);
    md.push_str(&format!(
        "\n### A flood from one address while others sign in (rate limits on)\n\n\
         | normal client (4 concurrent sign-ins, many addresses) | sign-ins/s | errors | p50 | p99 |\n|---|---|---|---|---|\n\
         | alone | {:.0} | {} | {:.2} ms | {:.2} ms |\n| during the flood | {:.0} | {} | {:.2} ms | {:.2} ms |\n\n\
         The flood: {:.0} flow starts a second from one address over 16 connections, {:.1}% refused with `429`.\n",
        f(&alone["per_s"]),
        alone["errors"],
        f(&alone["p50_ms"]),
        f(&alone["p99_ms"]),
        f(&flooded["per_s"]),
        flooded["errors"],
        f(&flooded["p50_ms"]),
        f(&flooded["p99_ms"]),
        f(&attack["per_s"]),
        if sent > 0.0 { refused * 100.0 / sent } else { 0.0 },
    ));
    md.push_str("\n### Known and unknown addresses take the same time (rate limits off)\n\n| step | p50 | p99 |\n|---|---|---|\n");
    for s in enumeration["steps"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {:.2} ms | {:.2} ms |\n",
            s["step"].as_str().unwrap_or(""),
            f(&s["p50_ms"]),
            f(&s["p99_ms"])
        ));
    }
    md
}
