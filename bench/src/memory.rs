//! A process's memory as the kernel counts it (`/proc/PID/status`, Linux): resident
//! set, split into anonymous memory (the heap, stacks) and file pages (the binary, and
//! SQLite's memory map of its database), and the high-water mark.

use serde_json::{Value, json};

/// `{"rss_mb", "anon_mb", "file_mb", "peak_mb"}` of process `pid`, or `None` if it is gone.
pub fn of(pid: u32) -> Option<Value> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mb = |field: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(field))?;
        let kb: f64 = line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
        Some((kb / 1024.0 * 10.0).round() / 10.0)
    };
    Some(json!({
        "rss_mb": mb("VmRSS:")?,
        "anon_mb": mb("RssAnon:")?,
        "file_mb": mb("RssFile:")?,
        "peak_mb": mb("VmHWM:")?,
    }))
}
