//! Several `passway` instances behind HAProxy, and a PostgreSQL server of one's own:
//! the parts `cargo xtask chaos` and `cargo xtask bench --scale` share.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::sh::Run;

/// HAProxy in front of the instances on `ports`: HTTP mode, strict round-robin, each
/// request balanced on its own, long timeouts for event streams; an instance whose
/// `/readyz` fails is taken out within a second, and a request whose connection was
/// refused goes to another instance.
pub fn haproxy_config(front: &str, ports: &[u16]) -> String {
    let servers: String = ports
        .iter()
        .enumerate()
        .map(|(i, port)| format!("    server passway-{} 127.0.0.1:{port} check inter 500 fall 1 rise 1\n", i + 1))
        .collect();
    format!(
        r#"# Written by `cargo xtask` (cluster, chaos, bench --scale).
global
    maxconn 4096

defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout http-request 10s
    timeout http-keep-alive 10s
    # Event streams (the widget waiting for a magic link) stay open: an hour.
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    # A connection refused (an instance just killed) is tried on another instance.
    retries 3
    option redispatch
    retry-on conn-failure

frontend passway
    bind {front}
    default_backend instances

backend instances
    # Every request on its own, in turn: no stickiness, no prefer-last-server.
    balance roundrobin
    # Only instances whose store answers (/readyz) get requests.
    option httpchk GET /readyz
    http-response set-header X-Served-By %s
{servers}"#
    )
}

/// Starts `passway serve` with `config` (standard output read until it says where it
/// listens; standard input kept open: closing it stops the server); its base URL.
pub fn start_instance(passway: &Path, config: &Path) -> Result<(Child, String)> {
    let mut command = Command::new(passway);
    command.arg("--config").arg(config).args(["serve", "--stop-on-stdin-eof"]).env("RUST_LOG", "warn");
    let what = format!("passway ({})", config.display());
    spawn_server(command, &what, listening_address)
}

/// The address in `passway serve`'s line saying where it listens.
pub fn listening_address(line: &str) -> Option<String> {
    line.split_once("listening on ").and_then(|(_, r)| r.split_whitespace().next()).map(str::to_owned)
}

/// Spawns a server whose standard output names its address on a line `address` picks
/// out (standard input kept open, so that closing it can stop the server); the child
/// and that address. Everything else it prints is drained unread, so that it never
/// blocks on a full pipe; if it exits first, what it said on standard error is the error.
pub fn spawn_server(
    mut command: Command,
    what: &str,
    address: impl Fn(&str) -> Option<String>,
) -> Result<(Child, String)> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let mut stderr = child.stderr.take().expect("piped");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let found = loop {
        match lines.next() {
            Some(Ok(line)) => match address(&line) {
                Some(found) => break found,
                None => continue,
            },
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let mut said = String::new();
                let _ = stderr.read_to_string(&mut said);
                bail!("{what} exited before saying where it listens: {}", said.trim());
            }
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    Ok((child, found))
}

pub fn free_ports(n: usize) -> Result<Vec<u16>> {
    let listeners: Vec<TcpListener> = (0..n).map(|_| TcpListener::bind("127.0.0.1:0")).collect::<Result<_, _>>()?;
    Ok(listeners.iter().map(|l| l.local_addr().map(|a| a.port())).collect::<Result<_, _>>()?)
}

/// Waits until `url` answers 200.
pub fn wait_for(url: &str, patience: Duration) -> Result<()> {
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
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    pub url: String,
    as_postgres: bool,
}

impl Postgres {
    pub fn start(dir: &Path) -> Result<Postgres> {
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
    pub fn restart(&mut self) -> Result<()> {
        self.command("pg_ctl")
            .args(["-w", "-m", "fast", "-D"])
            .arg(&self.data)
            .arg("restart")
            .stdout(Stdio::null())
            .run()
    }

    pub fn stop(&mut self) {
        let _ = self.command("pg_ctl").args(["-w", "-m", "immediate", "-D"]).arg(&self.data).arg("stop").output();
    }

    /// A database of its own for a run; its URL.
    pub fn database(&self, name: &str) -> Result<String> {
        Command::new("psql").args([&self.url, "-q", "-c", &format!("CREATE DATABASE {name}")]).run()?;
        let server = self.url.rsplit_once('/').map_or(self.url.as_str(), |(server, _)| server);
        Ok(format!("{server}/{name}"))
    }

    /// The number the query's last statement counts.
    pub fn count(&self, sql: &str) -> Result<u64> {
        let out = Command::new("psql")
            .args([&self.url, "-Atq", "-c", sql])
            .output_text()
            .with_context(|| format!("psql: {sql}"))?;
        out.lines().last().unwrap_or("0").trim().parse().with_context(|| format!("psql said {out:?}"))
    }
}

/// A process's CPU time so far, user and system, in seconds (`/proc/PID/stat`, whose
/// times are in clock ticks: 100 a second on Linux).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name in parentheses: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}
