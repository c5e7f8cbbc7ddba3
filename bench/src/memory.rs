//! A process's memory as the kernel counts it (`/proc/PID/status`, Linux): resident
//! set, split into anonymous memory (the heap, stacks) and file pages (the binary, and
//! SQLite's memory map of its database), and the high-water mark; and how much of it the
//! process has already given back lazily (`LazyFree` in `/proc/PID/smaps_rollup`: pages
//! freed with `MADV_FREE` stay resident until the system needs them).

use serde_json::{Value, json};

/// `{"rss_mb", "anon_mb", "file_mb", "peak_mb", "lazy_free_mb"}` of process `pid`, or
/// `None` if it is gone.
pub fn of(pid: u32) -> Option<Value> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    Some(json!({
        "rss_mb": megabytes(&status, "VmRSS:")?,
        "anon_mb": megabytes(&status, "RssAnon:")?,
        "file_mb": megabytes(&status, "RssFile:")?,
        "peak_mb": megabytes(&status, "VmHWM:")?,
        "lazy_free_mb": megabytes(&rollup, "LazyFree:").unwrap_or(0.0),
    }))
}

/// The `field:   1234 kB` line of a `/proc` file, in MB to one decimal.
fn megabytes(text: &str, field: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_kilobytes_as_megabytes() {
        let rollup = "Rss:               55808 kB\nLazyFree:          26112 kB\n";
        assert_eq!(super::megabytes(rollup, "LazyFree:"), Some(25.5));
        assert_eq!(super::megabytes(rollup, "Rss:"), Some(54.5));
        assert_eq!(super::megabytes(rollup, "Pss:"), None);
    }
}
