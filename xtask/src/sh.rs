//! Running commands: each shown before it runs, and a failure names the command.

use std::ffi::OsStr;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

pub fn step(what: &str) {
    eprintln!("\n\x1b[1m==> {what}\x1b[0m");
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
