//! Running commands: each shown before it runs, and a failure names the command.

use std::ffi::OsStr;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};

/// When the first step began: every step says how long the command has run, so that a
/// CI log shows where its minutes went.
static STARTED: OnceLock<Instant> = OnceLock::new();

/// Starts the clock the steps read (the first step starts it otherwise).
pub fn start_clock() {
    STARTED.get_or_init(Instant::now);
}

pub fn step(what: &str) {
    let seconds = STARTED.get_or_init(Instant::now).elapsed().as_secs();
    eprintln!("\n\x1b[1m==> [{:02}:{:02}] {what}\x1b[0m", seconds / 60, seconds % 60);
}

pub trait Run {
    /// Runs with inherited output; an error if it cannot start or fails.
    fn run(&mut self) -> Result<()>;
    /// Runs and returns standard output (trimmed); `None` if the program is missing or fails.
    fn output_text(&mut self) -> Option<String>;
}

impl Run for Command {
    fn run(&mut self) -> Result<()> {
        let shown = describe(self);
        eprintln!("$ {shown}");
        let status = self.status().with_context(|| format!("cannot start `{shown}`"))?;
        if !status.success() {
            bail!("`{shown}` failed ({status})");
        }
        Ok(())
    }

    fn output_text(&mut self) -> Option<String> {
        let out = self.output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

/// So that builder chains (`cmd.arg(..).run()`) work.
impl Run for &mut Command {
    fn run(&mut self) -> Result<()> {
        (**self).run()
    }
    fn output_text(&mut self) -> Option<String> {
        (**self).output_text()
    }
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program()).chain(cmd.get_args()).map(OsStr::to_string_lossy).collect::<Vec<_>>().join(" ")
}
