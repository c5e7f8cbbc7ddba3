//! `passway serve` as a child process, for the tests that need the real binary.
#![allow(dead_code)] // each test binary uses some of it

use std::io::BufRead as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A running `passway serve` on a free port; its standard error is kept, line by line.
pub struct Served {
    pub child: Child,
    pub base: String,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

/// Starts `passway [global…] serve` with `config` on a free port of 127.0.0.1.
pub fn serve(config: &Path, global: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_passway"))
        .arg("--config")
        .arg(config)
        .args(global)
        .args(["serve", "--listen", "127.0.0.1:0", "--stop-on-stdin-eof"])
        .env_remove("PASSWAY_MASTER_KEY")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start passway");
    let stderr = Arc::new(Mutex::new(vec![]));
    let kept = stderr.clone();
    let err = std::io::BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || err.lines().map_while(Result::ok).for_each(|l| kept.lock().unwrap().push(l)));
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("passway says where it listens").unwrap();
        if let Some(rest) = line.strip_prefix("passway: listening on ") {
            break rest.split(' ').next().unwrap().to_owned();
        }
    };
    // Keep reading so that the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Served { child, base, stderr }
}

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
