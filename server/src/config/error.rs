use std::fmt;
use std::path::{Path, PathBuf};

/// A configuration problem, located: `passway.toml:12:3: apps[0].redirect_uris[1]: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based line and column, when the problem is at a place in the file.
    pub position: Option<(usize, usize)>,
    /// Dotted key, e.g. `apps[0].redirect_uris[1]`.
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn io(path: &Path, e: std::io::Error) -> ConfigError {
        ConfigError {
            path: path.to_owned(),
            position: None,
            key: String::new(),
            message: format!("cannot read the file: {e}"),
        }
    }

    /// A problem at byte offset `at` of `text`.
    pub fn at(path: &Path, text: &str, at: usize, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.to_owned(),
            position: Some(line_col(text, at)),
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// 1-based line and column of byte offset `at`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.chars().count(), |nl| before[nl + 1..].chars().count()) + 1;
    (line, col)
}
