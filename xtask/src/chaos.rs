//! `cargo xtask chaos [--short]`: three `passway` instances on a PostgreSQL server of
//! the run's own, behind HAProxy, under a steady load of complete email sign-ins whose
//! codes arrive over real SMTP; meanwhile one instance is killed (`kill -9`) and
//! started again, PostgreSQL restarts, and the SMTP server goes away for a while. Then
//! the queues drain, and the report says, from the store and the receivers:
//!
//! - sign-ins that failed, by the step that failed, and per fault the time until
//!   sign-ins stopped failing (and the longest stretch without one finishing);
//! - flows left corrupted (a state that no longer parses): expected 0;
//! - emails and event hook deliveries lost: expected 0 (the command fails otherwise);
//! - duplicates (allowed: delivery is at least once), counted.
//!
//! The full run takes about four minutes; `--short` (in `cargo xtask test`) about two.
//! The report goes to `target/chaos/report.md`.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

use crate::sh::{self, Run};
use crate::{root, tools};

/// When each fault starts and ends, in seconds after the load starts.
struct Schedule {
    kill: (u64, u64),
    postgres_restart: u64,
    smtp_down: (u64, u64),
    end: u64,
}

const FULL: Schedule = Schedule { kill: (20, 30), postgres_restart: 60, smtp_down: (95, 125), end: 170 };
const SHORT: Schedule = Schedule { kill: (8, 14), postgres_restart: 26, smtp_down: (40, 52), end: 70 };
const INSTANCES: usize = 3;
const CONCURRENCY: &str = "8";

pub fn chaos(args: &[String]) -> Result<()> {
    let schedule = if args.iter().any(|a| a == "--short") { SHORT } else { FULL };
    let root = root();
    let env = tools::ensure_build_tools(&root)?;
    tools::ensure_haproxy()?;
    sh::step("building passway and passway-load");
    env.cmd("cargo")
        .args(["build", "-p", "passway-server", "--bin", "passway", "-p", "passway-bench"])
        .current_dir(&root)
        .run()?;
    let passway = root.join("target/debug/passway");
    let dir = std::env::temp_dir().join(format!("passway-chaos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let result = run(&root, &passway, &dir, &schedule);
    let _ = std::fs::remove_dir_all(&dir);
    let report = result?;
    let out = root.join("target/chaos");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("report.md"), &report.markdown)?;
    println!("\n{}", report.markdown);
    if !report.problems.is_empty() {
        bail!("chaos: {}", report.problems.join("; "));
    }
    Ok(())
}

struct Report {
    markdown: String,
    problems: Vec<String>,
}

fn run(root: &Path, passway: &Path, dir: &Path, schedule: &Schedule) -> Result<Report> {
    sh::step("starting PostgreSQL (the run's own), the SMTP server and the hook receiver");
    let mut pg = Postgres::start(&dir.join("pg"))?;
    let smtp = MailSink::start()?;
    let receiver = crate::receiver::Receiver::start()?;
    let secret = |cmd: &str| Command::new(passway).arg(cmd).output_text().with_context(|| format!("passway {cmd}"));
    std::fs::write(dir.join("master.key"), secret("master-key")?)?;
    std::fs::write(dir.join("hook.secret"), secret("hook-secret")?)?;

    let ports = free_ports(INSTANCES + 1)?;
    let front = format!("http://127.0.0.1:{}", ports[INSTANCES]);
    let configs: Vec<PathBuf> = (0..INSTANCES)
        .map(|i| {
            let path = dir.join(format!("passway-{i}.toml"));
            let text = config(root, dir, ports[i], &front, &pg.url, smtp.port, &receiver.url);
            std::fs::write(&path, text).map(|()| path)
        })
        .collect::<std::io::Result<_>>()?;
    sh::step(&format!("starting {INSTANCES} instances and HAProxy in front ({front})"));
    let mut instances: Vec<Child> = configs.iter().map(|c| start_instance(passway, c)).collect::<Result<_>>()?;
    let haproxy_cfg = dir.join("haproxy.cfg");
    std::fs::write(&haproxy_cfg, haproxy_config(ports[INSTANCES], &ports[..INSTANCES]))?;
    let mut haproxy = Command::new(tools::HAPROXY)
        .args(["-db", "-f"])
        .arg(&haproxy_cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting haproxy")?;
    let outcome = (|| -> Result<Report> {
        wait_for(&format!("{front}/readyz"), Duration::from_secs(30))?;
        sh::step(&format!("load: {CONCURRENCY} concurrent email sign-ins for {} s, with faults", schedule.end));
        let timeline = dir.join("timeline.jsonl");
        let load = Command::new(root.join("target/debug/passway-load"))
            .args(["--base", &front, "--scenario", "email", "--concurrency", CONCURRENCY, "--warmup", "0"])
            .args(["--duration", &schedule.end.to_string(), "--mailbox", &smtp.http_url])
            .arg("--timeline")
            .arg(&timeline)
            .stdout(Stdio::piped())
            .spawn()
            .context("starting passway-load")?;
        let started = Instant::now();
        let at = |s: u64| started + Duration::from_secs(s);
        let mut faults = vec![];
        sleep_until(at(schedule.kill.0));
        let fault = Fault::begin("kill -9 one instance, start it again");
        instances[1].kill()?;
        instances[1].wait()?;
        sleep_until(at(schedule.kill.1));
        instances[1] = start_instance(passway, &configs[1])?;
        faults.push(fault.end());
        sleep_until(at(schedule.postgres_restart));
        let fault = Fault::begin("restart PostgreSQL");
        pg.restart()?;
        faults.push(fault.end());
        sleep_until(at(schedule.smtp_down.0));
        let fault = Fault::begin("SMTP server down");
        smtp.up.store(false, Ordering::SeqCst);
        sleep_until(at(schedule.smtp_down.1));
        smtp.up.store(true, Ordering::SeqCst);
        faults.push(fault.end());
        let output = load.wait_with_output()?;
        let load: Value = serde_json::from_slice(&output.stdout).context("passway-load's report")?;

        sh::step("draining: waiting for the mail queue and the hook outbox to empty (at most 3 minutes)");
        let drained = Instant::now();
        while pg.count("SELECT (SELECT COUNT(*) FROM mail_queue) + (SELECT COUNT(*) FROM hook_outbox)")? > 0 {
            if drained.elapsed() > Duration::from_secs(180) {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let timeline: Vec<Value> =
            std::fs::read_to_string(&timeline)?.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        report(&pg, &smtp, &receiver, &load, &timeline, &faults, drained.elapsed())
    })();
    for mut child in instances {
        drop(child.stdin.take());
        let _ = child.wait();
    }
    let _ = haproxy.kill();
    let _ = haproxy.wait();
    pg.stop();
    outcome
}

fn report(
    pg: &Postgres,
    smtp: &MailSink,
    receiver: &crate::receiver::Receiver,
    load: &Value,
    timeline: &[Value],
    faults: &[Fault],
    drain: Duration,
) -> Result<Report> {
    let sent = pg.count("SELECT COUNT(*) FROM events WHERE event_type = 'user.authentication.challenge.sent'")?;
    let waiting_mail = pg.count("SELECT COUNT(*) FROM mail_queue")?;
    let (received, distinct) = smtp.received();
    let sessions = pg.count("SELECT COUNT(*) FROM events WHERE event_type = 'user.session.start'")?;
    let waiting_hooks = pg.count("SELECT COUNT(*) FROM hook_outbox")?;
    let (deliveries, hooked) = {
        let uuids = receiver.counts.uuids.lock().unwrap_or_else(|p| p.into_inner());
        (uuids.values().map(|n| u64::from(*n)).sum::<u64>(), uuids.len() as u64)
    };
    let corrupted = pg.count(
        "CREATE FUNCTION pg_temp.unparsable(t text) RETURNS boolean LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM t::jsonb; RETURN false; EXCEPTION WHEN others THEN RETURN true; END $$; \
         SELECT COUNT(*) FROM flows WHERE pg_temp.unparsable(state)",
    )?;
    let flows = pg.count("SELECT COUNT(*) FROM flows")?;

    let ok = timeline.iter().filter(|e| e["ok"] == true).count();
    let failed_at = load["failed_at"].as_object().cloned().unwrap_or_default();
    let failed: u64 = failed_at.values().filter_map(Value::as_u64).sum();
    let by_step = if failed_at.is_empty() {
        "none".to_owned()
    } else {
        failed_at.iter().map(|(step, n)| format!("{step}: {n}")).collect::<Vec<_>>().join(", ")
    };
    let mut markdown = format!(
        "## Chaos ({} instances behind HAProxy, PostgreSQL, SMTP; {} concurrent email sign-ins)\n\n\
         | | |\n|---|---|\n\
         | sign-ins completed | {ok} |\n\
         | sign-ins failed (the step that failed) | {failed} ({by_step}) |\n\
         | flows left corrupted | {corrupted} of {flows} |\n\
         | emails committed / arrived (distinct) / duplicates / lost | {sent} / {distinct} / {} / {} |\n\
         | hook events committed / delivered (distinct) / duplicates / lost | {sessions} / {hooked} / {} / {} |\n\
         | time for the queues to drain after the load | {:.1} s |\n\n\
         | fault | sign-ins failed | recovered after | longest stretch without a sign-in finishing |\n|---|---|---|---|\n",
        INSTANCES,
        CONCURRENCY,
        received - distinct,
        sent.saturating_sub(distinct),
        deliveries - hooked,
        sessions.saturating_sub(hooked),
        drain.as_secs_f64(),
    );
    for (i, fault) in faults.iter().enumerate() {
        let until = faults.get(i + 1).map_or(u64::MAX, |next| next.start_ms);
        let window: Vec<&Value> =
            timeline.iter().filter(|e| (fault.start_ms..until).contains(&e["unix_ms"].as_u64().unwrap_or(0))).collect();
        let failures = window.iter().filter(|e| e["ok"] != true).count();
        let last_failure = window.iter().filter(|e| e["ok"] != true).filter_map(|e| e["unix_ms"].as_u64()).max();
        let recovered = match last_failure {
            None => "no failures".to_owned(),
            Some(last) => match window.iter().filter_map(|e| e["unix_ms"].as_u64().filter(|t| *t > last)).min() {
                Some(ok) => format!("{:.1} s", (ok - fault.start_ms) as f64 / 1000.0),
                None => "not within the window".to_owned(),
            },
        };
        let mut done: Vec<u64> =
            window.iter().filter(|e| e["ok"] == true).filter_map(|e| e["unix_ms"].as_u64()).collect();
        done.insert(0, fault.start_ms);
        let stall = done.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
        markdown.push_str(&format!(
            "| {} ({:.0} s) | {failures} | {recovered} | {:.1} s |\n",
            fault.name,
            (fault.end_ms - fault.start_ms) as f64 / 1000.0,
            stall as f64 / 1000.0
        ));
    }
    let mut problems = vec![];
    if corrupted > 0 {
        problems.push(format!("{corrupted} flows corrupted"));
    }
    if sent > distinct || waiting_mail > 0 {
        problems.push(format!("{} emails lost ({waiting_mail} still queued)", sent.saturating_sub(distinct)));
    }
    if sessions > hooked || waiting_hooks > 0 {
        problems.push(format!("{} hook events lost ({waiting_hooks} still waiting)", sessions.saturating_sub(hooked)));
    }
    if ok == 0 {
        problems.push("no sign-in completed".into());
    }
    Ok(Report { markdown, problems })
}

struct Fault {
    name: &'static str,
    start_ms: u64,
    end_ms: u64,
}

impl Fault {
    fn begin(name: &'static str) -> Fault {
        sh::step(&format!("fault: {name}"));
        let now = unix_ms();
        Fault { name, start_ms: now, end_ms: now }
    }

    fn end(mut self) -> Fault {
        self.end_ms = unix_ms();
        self
    }
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn sleep_until(t: Instant) {
    std::thread::sleep(t.saturating_duration_since(Instant::now()));
}

fn config(root: &Path, dir: &Path, port: u16, front: &str, store: &str, smtp: u16, hooks: &str) -> String {
    format!(
        r#"listen = "127.0.0.1:{port}"
issuer = "{front}"
dev_mode = true
data_dir = "{dir}"
master_key_file = "{dir}/master.key"
trusted_proxies = ["127.0.0.1/32"]
[store]
url = "{store}"
[mail]
from = "Passway <auth@passway.test>"
transport = "smtp"
[mail.smtp]
host = "127.0.0.1"
port = {smtp}
security = "none"
[rate_limits]
enabled = false
[[profile.attributes]]
name = "given_name"
required = true
[themes]
dir = "{themes}"
[[apps]]
client_id = "bench"
name = "Bench"
redirect_uris = ["http://bench.invalid/cb"]
[[hooks.events]]
name = "chaos"
url = "{hooks}/events"
events = ["user.session.start"]
secret = {{ file = "{dir}/hook.secret" }}
"#,
        dir = dir.display(),
        themes = root.join("themes").display(),
    )
}

/// HAProxy in strict round-robin, taking an instance out when `/readyz` fails, and
/// sending a request whose connection was refused to another instance.
fn haproxy_config(front: u16, ports: &[u16]) -> String {
    let mut cfg = format!(
        "global\n  maxconn 4096\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 1h\n  timeout server 1h\n  \
         retries 3\n  option redispatch\n  retry-on conn-failure\nfrontend front\n  bind 127.0.0.1:{front}\n  \
         default_backend passway\nbackend passway\n  balance roundrobin\n  option httpchk GET /readyz\n  \
         http-request set-header X-Forwarded-For %[src]\n"
    );
    for (i, port) in ports.iter().enumerate() {
        cfg.push_str(&format!("  server p{i} 127.0.0.1:{port} check inter 500 fall 1 rise 1\n"));
    }
    cfg
}

fn start_instance(passway: &Path, config: &Path) -> Result<Child> {
    let mut child = Command::new(passway)
        .arg("--config")
        .arg(config)
        .args(["serve", "--stop-on-stdin-eof"])
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting passway")?;
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("listening on") => break,
            Some(_) => {}
            None => bail!("passway ({}) exited before listening", config.display()),
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    Ok(child)
}

fn free_ports(n: usize) -> Result<Vec<u16>> {
    let listeners: Vec<TcpListener> = (0..n).map(|_| TcpListener::bind("127.0.0.1:0")).collect::<Result<_, _>>()?;
    Ok(listeners.iter().map(|l| l.local_addr().map(|a| a.port())).collect::<Result<_, _>>()?)
}

/// Waits until `url` answers 200.
fn wait_for(url: &str, patience: Duration) -> Result<()> {
    let started = Instant::now();
    let address = url.trim_start_matches("http://").split('/').next().unwrap_or_default().to_owned();
    let path = format!("/{}", url.trim_start_matches("http://").split_once('/').map_or("", |(_, p)| p));
    while started.elapsed() < patience {
        if let Ok(mut s) = TcpStream::connect(&address) {
            let _ = write!(s, "GET {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("{url} did not answer 200 within {} s", patience.as_secs())
}

/// A PostgreSQL server of the run's own (so that it can be restarted), trust auth, on
/// a free port; Debian's server binaries, run as `postgres` when this is root.
struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    url: String,
    as_postgres: bool,
}

impl Postgres {
    fn start(dir: &Path) -> Result<Postgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .context("PostgreSQL's server binaries (Debian's postgresql package) are needed")?
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max()
            .context("no initdb under /usr/lib/postgresql/*/bin")?;
        let as_postgres = Command::new("id").arg("-u").output_text().as_deref() == Some("0");
        std::fs::create_dir_all(dir)?;
        if as_postgres {
            Command::new("chown").args(["-R", "postgres"]).arg(dir).run()?;
        }
        let port = free_ports(1)?[0];
        let data = dir.join("data");
        let pg = Postgres { bin, data, url: format!("postgres://postgres@127.0.0.1:{port}/postgres"), as_postgres };
        pg.command("initdb").args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"]).arg(&pg.data).run()?;
        let options = format!("-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={}", dir.display());
        pg.command("pg_ctl")
            .args(["-w", "-D"])
            .arg(&pg.data)
            .args(["-o", &options, "-l"])
            .arg(dir.join("log"))
            .arg("start")
            .stdout(Stdio::null())
            .run()?;
        Ok(pg)
    }

    fn command(&self, tool: &str) -> Command {
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(tool));
            c
        } else {
            Command::new(self.bin.join(tool))
        }
    }

    /// A fast restart: open connections are cut, the server is back in about a second.
    fn restart(&mut self) -> Result<()> {
        self.command("pg_ctl")
            .args(["-w", "-m", "fast", "-D"])
            .arg(&self.data)
            .arg("restart")
            .stdout(Stdio::null())
            .run()
    }

    fn stop(&mut self) {
        let _ = self.command("pg_ctl").args(["-w", "-m", "immediate", "-D"]).arg(&self.data).arg("stop").output();
    }

    /// The number the query's last statement counts.
    fn count(&self, sql: &str) -> Result<u64> {
        let out = Command::new("psql")
            .args([&self.url, "-Atq", "-c", sql])
            .output_text()
            .with_context(|| format!("psql: {sql}"))?;
        out.lines().last().unwrap_or("0").trim().parse().with_context(|| format!("psql said {out:?}"))
    }
}

/// An SMTP server that keeps what it is sent, can go away and come back on the same
/// port, and shows its messages with the dev mailbox's API (`passway-load --mailbox`).
struct MailSink {
    port: u16,
    http_url: String,
    up: Arc<AtomicBool>,
    /// (recipient, text), oldest first.
    messages: Arc<Mutex<Vec<(String, String)>>>,
}

impl MailSink {
    fn start() -> Result<MailSink> {
        let port = free_ports(1)?[0];
        let up = Arc::new(AtomicBool::new(true));
        let messages: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let (smtp_up, smtp_messages) = (up.clone(), messages.clone());
        std::thread::spawn(move || smtp_loop(port, &smtp_up, &smtp_messages));
        let http = TcpListener::bind("127.0.0.1:0")?;
        let http_url = format!("http://{}", http.local_addr()?);
        let shown = messages.clone();
        std::thread::spawn(move || {
            for stream in http.incoming().flatten() {
                let shown = shown.clone();
                std::thread::spawn(move || {
                    let _ = mailbox(stream, &shown);
                });
            }
        });
        Ok(MailSink { port, http_url, up, messages })
    }

    /// Messages received, and distinct ones (a recipient and its code).
    fn received(&self) -> (u64, u64) {
        let messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        let distinct: HashSet<(&str, &str)> = messages
            .iter()
            .map(|(to, text)| (to.as_str(), text.split("code: ").nth(1).map_or("", |c| &c[..c.len().min(6)])))
            .collect();
        (messages.len() as u64, distinct.len() as u64)
    }
}

/// Listens while `up`; while down the port refuses connections, and open sessions are
/// cut at their next command.
fn smtp_loop(port: u16, up: &Arc<AtomicBool>, messages: &Arc<Mutex<Vec<(String, String)>>>) {
    let mut listener: Option<TcpListener> = None;
    loop {
        if !up.load(Ordering::SeqCst) {
            listener = None;
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        let l = match &listener {
            Some(l) => l,
            None => match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => {
                    let _ = l.set_nonblocking(true);
                    listener.insert(l)
                }
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            },
        };
        match l.accept() {
            Ok((stream, _)) => {
                let (up, messages) = (up.clone(), messages.clone());
                std::thread::spawn(move || {
                    let _ = stream.set_nonblocking(false);
                    let _ = smtp_session(stream, &up, &messages);
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn smtp_session(stream: TcpStream, up: &AtomicBool, messages: &Mutex<Vec<(String, String)>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    writer.write_all(b"220 chaos ESMTP\r\n")?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || !up.load(Ordering::SeqCst) {
            return writer.shutdown(std::net::Shutdown::Both);
        }
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-chaos\r\n250 8BITMIME\r\n",
            "DATA" => {
                writer.write_all(b"354 go on\r\n")?;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if reader.read_line(&mut l)? == 0 {
                        return Ok(());
                    }
                    if l.trim_end() == "." {
                        break;
                    }
                    data.push_str(l.trim_end_matches(['\r', '\n']));
                    data.push('\n');
                }
                // Quoted-printable soft breaks and `=3D`, so that the code reads whole.
                let text = data.replace("=\n", "").replace("=3D", "=");
                let to = text.lines().find_map(|l| l.strip_prefix("To: ")).unwrap_or_default().to_owned();
                messages.lock().unwrap_or_else(|p| p.into_inner()).push((to, text));
                b"250 queued\r\n"
            }
            "QUIT" => {
                writer.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => b"250 ok\r\n",
        };
        writer.write_all(reply)?;
    }
}

/// `GET /dev/mailbox/messages?to=…&limit=…`: newest first, `[{id, to, text}]`.
fn mailbox(stream: TcpStream, messages: &Mutex<Vec<(String, String)>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request)? == 0 {
            return Ok(());
        }
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
                break;
            }
        }
        let query: HashMap<&str, String> = request
            .split_whitespace()
            .nth(1)
            .and_then(|target| target.split_once('?'))
            .map(|(_, q)| {
                q.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k, v.replace("%40", "@"))).collect()
            })
            .unwrap_or_default();
        let limit: usize = query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(20);
        let body = {
            let messages = messages.lock().unwrap_or_else(|p| p.into_inner());
            let shown: Vec<Value> = messages
                .iter()
                .enumerate()
                .rev()
                .filter(|(_, (to, _))| query.get("to").is_none_or(|want| to == want))
                .take(limit)
                .map(|(i, (to, text))| json!({ "id": i + 1, "to": to, "text": text }))
                .collect();
            Value::Array(shown).to_string()
        };
        write!(
            writer,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )?;
        writer.flush()?;
    }
}
