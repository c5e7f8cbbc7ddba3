//! `cargo xtask cluster`: the demo on three `passway` instances sharing one PostgreSQL
//! database, behind HAProxy on http://localhost:8080.
//!
//! HAProxy balances every request on its own, in strict round-robin (HTTP mode, no
//! stickiness, no `prefer-last-server`), so consecutive requests of one sign-in land on
//! different instances; each answer names the instance that served it in `X-Served-By`.
//! Event streams may stay open for an hour. The instances trust HAProxy
//! (`trusted_proxies`) for the client's address, which it adds as `X-Forwarded-For`.
//!
//! Each instance's configuration is the demo's (`examples/demo/passway.toml`) with its
//! own `listen`, the PostgreSQL store, one master key for all (`master_key_file`) and
//! paths made absolute; they are written to `.passway/cluster/` with the HAProxy
//! configuration and each instance's log. The database (`PASSWAY_CLUSTER_POSTGRES_URL`,
//! default [`DEFAULT_URL`]) is created when missing and kept between runs, like the
//! demo's SQLite file.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::fleet::{free_ports, haproxy_config};
use crate::sh::{self, Run};
use crate::tools;

pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/passway_cluster";
/// Where the load balancer listens: the demo's issuer.
const FRONT: &str = "127.0.0.1:8080";
const ISSUER: &str = "http://localhost:8080";
const INSTANCES: usize = 3;

pub fn cluster() -> Result<()> {
    tools::ensure_haproxy()?;
    tools::ensure_psql()?;
    let env = crate::build(true)?;
    let root = crate::root();
    let passway = root.join("target/release/passway");
    crate::demo_hook_secret(&env, &passway)?;
    if TcpListener::bind(FRONT).is_err() {
        bail!("{FRONT} is in use (is `cargo xtask run` or another cluster running?)");
    }

    let url = std::env::var("PASSWAY_CLUSTER_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    ensure_database(&env, &url)?;

    let dir = root.join(".passway/cluster");
    std::fs::create_dir_all(&dir)?;
    let master_key = dir.join("master.key");
    if !master_key.exists() {
        let key = env.cmd(&passway).arg("master-key").output_text().context("passway master-key failed")?;
        write_private(&master_key, &key)?;
    }

    let demo_config = root.join("examples/demo/passway.toml");
    let demo = std::fs::read_to_string(&demo_config).with_context(|| format!("reading {}", demo_config.display()))?;
    let demo_dir = demo_config.parent().expect("a file's folder");
    let ports = free_ports(INSTANCES)?;
    let mut configs = vec![];
    for (i, port) in ports.iter().enumerate() {
        let config = derive_config(&demo, demo_dir, &format!("127.0.0.1:{port}"), &url, &master_key)?;
        let path = dir.join(format!("instance-{}.toml", i + 1));
        std::fs::write(&path, config)?;
        configs.push(path);
    }
    let haproxy_cfg = dir.join("haproxy.cfg");
    std::fs::write(&haproxy_cfg, haproxy_config(FRONT, &ports))?;
    Command::new(tools::HAPROXY)
        .args(["-c", "-q", "-f"])
        .arg(&haproxy_cfg)
        .run()
        .context("HAProxy refused its configuration")?;

    let mut running = Running::default();
    sh::step(&format!(
        "starting {INSTANCES} instances on PostgreSQL ({}), logs in {}",
        crate::redact(&url),
        dir.display()
    ));
    // The first alone: it migrates the database and makes the first signing keys; the
    // others then start on a database that is ready.
    let logs: Vec<PathBuf> = (1..=INSTANCES).map(|i| dir.join(format!("instance-{i}.log"))).collect();
    for (i, (config, log)) in configs.iter().zip(&logs).enumerate() {
        let child = start_instance(&env, &root, &passway, config, log)?;
        running.children.push((format!("passway-{}", i + 1), child));
        if i == 0 {
            wait_ready(&mut running, log)?;
        }
    }
    for log in &logs[1..] {
        wait_ready(&mut running, log)?;
    }

    sh::step(&format!("starting HAProxy on {FRONT}: strict round-robin over the {INSTANCES} instances"));
    let haproxy = start_haproxy(&haproxy_cfg)?;
    running.children.push(("haproxy".into(), haproxy));
    wait_until(&mut running, "HAProxy", None, || TcpStream::connect(FRONT).is_ok())?;

    let served_by = (0..INSTANCES)
        .map(|_| served_by(FRONT, "/.well-known/openid-configuration"))
        .collect::<Result<Vec<_>>>()
        .context("asking the cluster for its discovery document")?;
    println!("\n  Consecutive requests were served by: {}", served_by.join(", "));
    println!(
        "\n  Acme Shop (embedded widget):   {ISSUER}/demo/website/\n  Globex Portal (hosted page):   {ISSUER}/demo/app/\n  Dev mailbox:                   {ISSUER}/dev/mailbox\n\n  Every answer names its instance in the X-Served-By header. The dev hook inbox\n  (/dev/hooks) is kept in each instance's memory: it shows what one instance received.\n  Keys: target/release/passway --config {} keys rotate\n\n  Ctrl-C stops the cluster.\n",
        configs[0].display()
    );
    running.wait()
}

/// The children of the cluster; stopped (standard input closed, then killed) when dropped.
#[derive(Default)]
struct Running {
    children: Vec<(String, Child)>,
}

impl Running {
    /// Waits until one of the children ends, which ends the cluster. Ctrl-C reaches them
    /// all (same process group); each instance also stops when our end of its standard
    /// input closes, and the HAProxy wrapper then stops HAProxy.
    fn wait(&mut self) -> Result<()> {
        loop {
            match self.ended() {
                Some((ended, true)) => {
                    eprintln!("{ended} stopped; stopping the cluster");
                    return Ok(());
                }
                Some((ended, false)) => bail!("{ended} stopped; stopping the cluster"),
                None => std::thread::sleep(Duration::from_millis(250)),
            }
        }
    }

    /// The first child that ended, with its status, and whether it ended well.
    fn ended(&mut self) -> Option<(String, bool)> {
        self.children.iter_mut().find_map(|(name, child)| match child.try_wait() {
            Ok(Some(status)) => Some((format!("{name} ({status})"), status.success())),
            Ok(None) => None,
            Err(e) => Some((format!("{name} ({e})"), false)),
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            drop(child.stdin.take());
        }
        let deadline = Instant::now() + Duration::from_secs(12);
        for (_, child) in &mut self.children {
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start_instance(env: &tools::Env, root: &Path, passway: &Path, config: &Path, log: &Path) -> Result<Child> {
    let out = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    env.cmd(passway)
        .arg("--config")
        .arg(config)
        .args(["serve", "--stop-on-stdin-eof"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("starting {}", passway.display()))
}

/// HAProxy in the foreground, stopped when our end of its wrapper's standard input
/// closes, so that it cannot outlive the cluster however this process ends.
fn start_haproxy(config: &Path) -> Result<Child> {
    Command::new("sh")
        // A shell gives background jobs /dev/null as their input, hence fd 3.
        .args([
            "-c",
            r#"exec 3<&0; "$0" "$@" </dev/null 3<&- & pid=$!; (cat <&3 >/dev/null; kill "$pid" 2>/dev/null) & exec 3<&-; wait "$pid""#,
        ])
        .arg(tools::HAPROXY)
        .args(["-db", "-f"])
        .arg(config)
        .stdin(Stdio::piped())
        .spawn()
        .context("starting haproxy")
}

/// Waits until the instance says it listens (it binds its port before it has opened the
/// store, so an open port is not enough); fails if a child ends first, or after 60 s.
fn wait_ready(running: &mut Running, log: &Path) -> Result<()> {
    wait_until(running, &format!("the instance logging to {}", log.display()), Some(log), || {
        std::fs::read_to_string(log).is_ok_and(|text| text.contains("passway: listening on"))
    })
}

/// Waits until `ready` holds; fails if a child ends first (showing the end of `log`) or
/// after 60 s.
fn wait_until(running: &mut Running, what: &str, log: Option<&Path>, ready: impl Fn() -> bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if ready() {
            return Ok(());
        }
        if let Some((ended, _)) = running.ended() {
            let text = log.map(|l| std::fs::read_to_string(l).unwrap_or_default()).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            bail!("{ended} stopped while starting\n{}", lines[lines.len().saturating_sub(20)..].join("\n"));
        }
        if Instant::now() > deadline {
            bail!("{what} did not start within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Creates the database `url` names unless it answers already (through the server's
/// `postgres` database).
fn ensure_database(env: &tools::Env, url: &str) -> Result<()> {
    if env.cmd("psql").arg(url).args(["-qtAc", "SELECT 1"]).output_text().is_some() {
        return Ok(());
    }
    let (server, name, query) = split_database(url)?;
    sh::step(&format!("creating the database {name}"));
    env.cmd("psql")
        .arg(format!("{server}/postgres{query}"))
        .args(["-qc", &format!("CREATE DATABASE \"{name}\"")])
        .run()
        .with_context(|| format!("cannot create the database of {}", crate::redact(url)))
}

/// `postgres://user@host:port/name?query` → (`postgres://user@host:port`, `name`, `?query`).
fn split_database(url: &str) -> Result<(String, String, String)> {
    let after_scheme = url.find("://").map(|i| i + 3).context("PostgreSQL URL without a scheme")?;
    let slash = url[after_scheme..].find('/').map(|i| after_scheme + i).context("PostgreSQL URL without a database")?;
    let (path, query) = match url[slash..].find('?') {
        Some(q) => (&url[slash + 1..slash + q], &url[slash + q..]),
        None => (&url[slash + 1..], ""),
    };
    if path.is_empty() || !path.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bail!("the database name in {} must be letters, digits and underscores", crate::redact(url));
    }
    Ok((url[..slash].to_owned(), path.to_owned(), query.to_owned()))
}

/// The demo configuration for one instance: `listen` is the instance's own, the store
/// the PostgreSQL database; one master key file for all; the load balancer trusted as a
/// proxy; relative paths made absolute (they were relative to the demo's folder).
fn derive_config(demo: &str, demo_dir: &Path, listen: &str, store_url: &str, master_key: &Path) -> Result<String> {
    let mut out = String::new();
    let mut section = String::new();
    let (mut listen_set, mut store_set, mut top_added) = (false, false, false);
    for line in demo.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if !top_added {
                out.push_str(&format!(
                    "# cargo xtask cluster: one master key for every instance; HAProxy (on loopback)\n# names the client in X-Forwarded-For.\nmaster_key_file = {}\ntrusted_proxies = [\"127.0.0.1/32\"]\n\n",
                    toml_string(&master_key.display().to_string())
                ));
                top_added = true;
            }
            section = trimmed.trim_end().to_owned();
        }
        let key = trimmed.split_once('=').map(|(k, _)| k.trim()).unwrap_or_default();
        let value = trimmed.split_once('=').map(|(_, v)| v.trim()).unwrap_or_default();
        if section.is_empty() && key == "listen" {
            out.push_str(&format!("listen = {}\n", toml_string(listen)));
            listen_set = true;
        } else if section == "[store]" && key == "url" {
            out.push_str(&format!("url = {}\n", toml_string(store_url)));
            store_set = true;
        } else if (key == "data_dir" || key == "dir") && value.starts_with('"') {
            let path = value.trim_matches('"');
            out.push_str(&format!("{key} = {}\n", toml_string(&absolute(demo_dir, path))));
        } else if let Some((before, rest)) = line.split_once("{ file = \"") {
            let (path, after) = rest.split_once('"').context("a `file = \"…\"` without its closing quote")?;
            out.push_str(&format!("{before}{{ file = {}{after}\n", toml_string(&absolute(demo_dir, path))));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !(listen_set && store_set && top_added) {
        bail!(
            "examples/demo/passway.toml no longer has a top-level `listen` and a [store] `url`: update xtask/src/cluster.rs"
        );
    }
    Ok(out)
}

/// `path` relative to `base` (unless absolute), without `.` and `..`.
fn absolute(base: &Path, path: &str) -> String {
    let mut out = PathBuf::new();
    for c in base.join(path).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out.display().to_string()
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The instance that served `GET path` through `front` (its `X-Served-By`).
fn served_by(front: &str, path: &str) -> Result<String> {
    let mut stream = TcpStream::connect(front)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost:8080\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let head = response.split("\r\n\r\n").next().unwrap_or_default();
    if !head.starts_with("HTTP/1.1 200") {
        bail!("GET {path}: {}", head.lines().next().unwrap_or("no answer"));
    }
    head.lines()
        .find_map(|l| {
            l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("x-served-by")).map(|(_, v)| v.trim().to_owned())
        })
        .context("no X-Served-By header")
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.trim().as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_database_off_a_url() {
        assert_eq!(
            split_database("postgres://postgres@127.0.0.1:5432/passway_cluster").unwrap(),
            ("postgres://postgres@127.0.0.1:5432".into(), "passway_cluster".into(), String::new())
        );
        assert_eq!(
            split_database("postgres://u:p@h/db?sslmode=disable").unwrap(),
            ("postgres://u:p@h".into(), "db".into(), "?sslmode=disable".into())
        );
        assert!(split_database("postgres://h/db;drop").is_err());
    }

    #[test]
    fn the_demo_configuration_is_derived_for_an_instance() {
        let demo = std::fs::read_to_string(crate::root().join("examples/demo/passway.toml")).unwrap();
        let dir = crate::root().join("examples/demo");
        let config =
            derive_config(&demo, &dir, "127.0.0.1:9001", "postgres://h/db", Path::new("/k/master.key")).unwrap();
        let root = crate::root().display().to_string();
        assert!(config.contains("listen = \"127.0.0.1:9001\"\n"));
        assert!(config.contains("issuer = \"http://localhost:8080\"\n"));
        assert!(config.contains("url = \"postgres://h/db\"\n"));
        assert!(config.contains("master_key_file = \"/k/master.key\"\ntrusted_proxies = [\"127.0.0.1/32\"]\n"));
        assert!(config.contains(&format!("data_dir = \"{root}/.passway\"\n")));
        assert!(config.contains(&format!("dir = \"{root}/examples/demo/site\"\n")));
        assert!(config.contains(&format!("secret = {{ file = \"{root}/.passway/dev-hook.secret\" }}\n")));
        assert!(!config.contains("sqlite"));
        // The top-level keys come before the first table.
        assert!(config.find("trusted_proxies").unwrap() < config.find("[store]").unwrap());
    }
}
