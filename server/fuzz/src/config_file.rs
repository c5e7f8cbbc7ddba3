//! The configuration file: any text is refused with a located error or accepted,
//! never a panic.

/// One input: returns normally or panics (a finding).
pub fn check(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = passway_server::config::Config::parse(text, std::path::Path::new("/nonexistent/passway.toml"));
    }
}
