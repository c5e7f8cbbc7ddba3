//! Compiles merged design tokens to CSS custom properties, followed by the widget's
//! base stylesheet (which uses only those properties) and the brand's `custom.css`.

use std::fmt::Write;

use super::ThemeSource;
use super::theme::{COLOR_TOKENS, SHAPE_TOKENS, TYPOGRAPHY_TOKENS};

/// The widget's structure and look, written only in terms of `--pw-*` properties.
pub const BASE_CSS: &str = include_str!("widget.css");

/// A token value must stay inside its declaration: no `;`, braces, or markup.
pub fn check_value(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("expected a CSS value, found nothing".into());
    }
    match value.chars().find(|c| matches!(c, ';' | '{' | '}' | '<' | '>' | '\\') || c.is_control()) {
        Some(c) => Err(format!("{c:?} is not allowed in a token value (found {value:?})")),
        None => Ok(()),
    }
}

pub fn compile(brand: &str, t: &ThemeSource) -> String {
    let mut out = String::with_capacity(BASE_CSS.len() + 2048);
    let _ = writeln!(out, "/* Passway theme \"{brand}\": generated from themes/{brand}/theme.toml. */");
    out.push_str(":host, .pw-theme {\n");
    declarations(&mut out, t, "colors");
    for (section, names) in [("typography", TYPOGRAPHY_TOKENS), ("shape", SHAPE_TOKENS)] {
        for name in names {
            let _ = writeln!(out, "  --pw-{}: {};", property(name), t.tokens[&format!("{section}.{name}")].value);
        }
    }
    out.push_str("  color-scheme: light dark;\n}\n");
    out.push_str("@media (prefers-color-scheme: dark) {\n  :host, .pw-theme {\n");
    declarations(&mut out, t, "dark");
    out.push_str("  }\n}\n");
    out.push_str(BASE_CSS);
    if let Some(custom) = &t.custom_css {
        let _ = write!(out, "\n/* themes/{brand}/custom.css */\n{custom}\n");
    }
    out
}

fn declarations(out: &mut String, t: &ThemeSource, section: &str) {
    for name in COLOR_TOKENS {
        let _ = writeln!(out, "  --pw-color-{}: {};", property(name), t.tokens[&format!("{section}.{name}")].value);
    }
}

fn property(token: &str) -> String {
    token.replace('_', "-")
}
