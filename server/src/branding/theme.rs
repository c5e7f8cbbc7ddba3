//! Reading one `themes/<brand>/theme.toml`, keeping where each value was written so
//! that every problem can be reported at its line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::config::ConfigError;

/// The sections of design tokens, and the names each may hold.
pub const COLOR_TOKENS: &[&str] =
    &["primary", "on_primary", "background", "surface", "text", "muted", "danger", "success", "border", "focus"];
pub const TYPOGRAPHY_TOKENS: &[&str] = &["font_family", "font_size", "line_height", "heading_weight"];
pub const SHAPE_TOKENS: &[&str] = &["radius", "spacing"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    logo: Option<Spanned<String>>,
    #[serde(default)]
    colors: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    dark: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    typography: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    shape: BTreeMap<String, Spanned<String>>,
    /// locale → string key → text.
    #[serde(default)]
    text: BTreeMap<String, BTreeMap<String, Spanned<String>>>,
    #[serde(default)]
    email: EmailFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailFile {
    footer: Option<String>,
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub value: String,
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
}

impl Located {
    pub fn error(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: self.file.clone(),
            position: Some((self.line, self.col)),
            key: key.into(),
            message: message.into(),
        }
    }
}

/// One theme folder, parsed but not yet merged with `default` or checked.
#[derive(Debug, Clone, Default)]
pub struct ThemeSource {
    pub folder: PathBuf,
    pub name: Option<String>,
    pub logo: Option<Located>,
    /// `colors.primary`, `dark.primary`, `typography.font_size`, … → value.
    pub tokens: BTreeMap<String, Located>,
    pub text: BTreeMap<String, BTreeMap<String, Located>>,
    pub email_footer: Option<String>,
    pub custom_css: Option<String>,
    /// `emails/*.html` and `*.txt`, by file name.
    pub emails: BTreeMap<String, super::emails::Template>,
}

impl ThemeSource {
    pub fn read(folder: &Path) -> Result<ThemeSource, ConfigError> {
        let path = folder.join("theme.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::io(&path, e))?;
        ThemeSource::parse(folder, &text)
    }

    /// `text` as the `theme.toml` of `folder` (the logo and `custom.css` are read from
    /// the folder when present).
    pub fn parse(folder: &Path, text: &str) -> Result<ThemeSource, ConfigError> {
        let path = folder.join("theme.toml");
        let text = text.to_owned();
        let file: ThemeFile = toml::from_str(&text).map_err(|e| {
            ConfigError::at(&path, &text, e.span().map_or(0, |s| s.start), "", e.message().trim_end().to_owned())
        })?;
        let locate = |s: &Spanned<String>| {
            let (line, col) = crate::config::line_col(&text, s.span().start);
            Located { value: s.get_ref().clone(), file: path.clone(), line, col }
        };
        let mut tokens = BTreeMap::new();
        for (section, allowed, values) in [
            ("colors", COLOR_TOKENS, &file.colors),
            ("dark", COLOR_TOKENS, &file.dark),
            ("typography", TYPOGRAPHY_TOKENS, &file.typography),
            ("shape", SHAPE_TOKENS, &file.shape),
        ] {
            for (name, value) in values {
                let at = locate(value);
                if !allowed.contains(&name.as_str()) {
                    return Err(at.error(
                        format!("{section}.{name}"),
                        format!("unknown token; expected one of {}", allowed.join(", ")),
                    ));
                }
                tokens.insert(format!("{section}.{name}"), at);
            }
        }
        let text_overrides = file
            .text
            .iter()
            .map(|(locale, strings)| (locale.clone(), strings.iter().map(|(k, v)| (k.clone(), locate(v))).collect()))
            .collect();
        let custom_css = match std::fs::read_to_string(folder.join("custom.css")) {
            Ok(css) => Some(css),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(ConfigError::io(&folder.join("custom.css"), e)),
        };
        Ok(ThemeSource {
            folder: folder.to_owned(),
            name: file.name,
            logo: file.logo.as_ref().map(locate),
            tokens,
            text: text_overrides,
            email_footer: file.email.footer,
            custom_css,
            emails: super::emails::read(folder)?,
        })
    }
}
