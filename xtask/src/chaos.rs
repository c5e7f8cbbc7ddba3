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

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use crate::fleet::{Postgres, free_ports, haproxy_config, start_instance, wait_for};
use crate::mail_sink::MailSink;
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
    crate::build_debug_binaries(&env, &root)?;
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
    let mut instances: Vec<Child> =
        configs.iter().map(|c| start_instance(passway, c).map(|s| s.0)).collect::<Result<_>>()?;
    let haproxy_cfg = dir.join("haproxy.cfg");
    std::fs::write(&haproxy_cfg, haproxy_config(&format!("127.0.0.1:{}", ports[INSTANCES]), &ports[..INSTANCES]))?;
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
        instances[1] = start_instance(passway, &configs[1])?.0;
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
