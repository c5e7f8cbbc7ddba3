//! Schemathesis (PyPI) against the server's own OpenAPI document: thousands of
//! generated requests to every JSON route, checking that none gets a 5xx and that every
//! answer matches its documented status, content type and schema.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};

use crate::sh::{self, Run};

/// The version that ran here; pinned so that a new release cannot change the verdict.
const VERSION: &str = "4.32.5";

/// Installs schemathesis in a virtualenv under `target/` when it is missing.
fn ensure(root: &Path) -> Result<std::path::PathBuf> {
    let venv = root.join("target/tools/schemathesis");
    let st = venv.join("bin/st");
    let have = Command::new(&st).arg("--version").output_text().unwrap_or_default();
    if have.contains(VERSION) {
        return Ok(st);
    }
    sh::step(&format!("installing schemathesis {VERSION} (PyPI) in {}", venv.display()));
    Command::new("python3").arg("-m").arg("venv").arg(&venv).run()?;
    Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", &format!("schemathesis=={VERSION}")])
        .run()?;
    Ok(st)
}

/// Runs schemathesis for `seconds` against `passway` (a built binary).
pub fn run(root: &Path, passway: &Path, seconds: u32) -> Result<()> {
    let st = ensure(root)?;
    let dir = tempdir(root)?;
    let config = dir.join("passway.toml");
    std::fs::write(&config, config_text(root, &dir)).context("writing the schemathesis config")?;
    // The admin API's routes get the admin token (found in the working directory).
    std::fs::write(dir.join("schemathesis.toml"), admin_headers()).context("writing schemathesis.toml")?;
    let mut server = Command::new(passway)
        .args(["--config"])
        .arg(&config)
        .args(["serve", "--listen", "127.0.0.1:0", "--stop-on-stdin-eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("server.log"))?)
        .spawn()
        .with_context(|| format!("starting {}", passway.display()))?;
    let base = listening_url(&mut server).with_context(|| {
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        format!("its log:\n{log}")
    })?;
    sh::step(&format!("schemathesis against {base} for {seconds} s"));
    let result = Command::new(&st)
        .arg("run")
        .arg(format!("{base}/api/v1/openapi.json"))
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-time",
            &seconds.to_string(),
            "--workers",
            "1",
            "--seed",
            "1",
        ])
        .current_dir(&dir)
        .run();
    drop(server.stdin.take());
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Reads the server's "listening on URL" line.
fn listening_url(server: &mut std::process::Child) -> Result<String> {
    let stdout = server.stdout.take().context("the server's output")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if let Some(rest) = line.strip_prefix("passway: listening on ") {
            return Ok(rest.split_whitespace().next().unwrap_or_default().to_owned());
        }
    }
    bail!("passway stopped before it listened")
}

fn tempdir(root: &Path) -> Result<std::path::PathBuf> {
    let dir = root.join(format!("target/tmp/schemathesis-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// An admin token for the admin API's routes, and its digest for the server's config.
const ADMIN_TOKEN: &str = "schemathesis-admin-token";
const ADMIN_TOKEN_HASH: &str = "sha256:EvCkVBljhwX18kj4FGjzeSjGqls3sV9WvC2bGEyTLkQ";

fn admin_headers() -> String {
    format!(
        "[[operations]]\ninclude-path-regex = \"^/api/v1/(admin|logs)\"\nheaders = {{ Authorization = \"Bearer {ADMIN_TOKEN}\" }}\n"
    )
}

/// Every kind of route on: dev mailbox, an API that may introspect, the admin API. The
/// rate limits are raised so that generated requests reach the logic behind them (the
/// limits themselves are tested elsewhere).
fn config_text(root: &Path, dir: &Path) -> String {
    let r = root.display();
    let d = dir.display();
    format!(
        r#"dev_mode = true
data_dir = "{d}/data"
[store]
url = "sqlite://{d}/api.db"
[themes]
dir = "{r}/themes"
[widget]
dir = "{r}/dist/widget"
[admin]
token_hashes = ["{ADMIN_TOKEN_HASH}"]
[rate_limits]
flow_starts_per_minute = 1000000
live_flows = 1000000
flow_requests_per_minute = 1000000
token_requests_per_minute = 1000000
[[profile.attributes]]
name = "given_name"
[[apps]]
client_id = "acme-shop"
redirect_uris = ["http://localhost:8080/demo/website/"]
[[apps]]
client_id = "reports-api"
client_secret_hashes = ["sha256:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"]
grant_types = ["client_credentials"]
resource = "https://reports.example/api"
audience = "https://reports.example/api"
"#
    )
}
