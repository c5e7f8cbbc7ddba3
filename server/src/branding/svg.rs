//! SVG logos are served from Passway's own origin, where a script would run with the
//! person's session (open the logo's URL and an SVG's script runs like a page's). So a
//! logo is checked when its theme loads, and refused with the reason when it holds
//! anything that runs or calls out: scripts, event handlers, `javascript:` URLs, HTML
//! inside SVG, DOCTYPEs (entities), and references outside the file (`href`, `url(…)`,
//! `@import`) — only `#fragment`s and `data:image/…` stay. Served logos also carry a
//! sandboxing CSP (see `http::static_files`), in case a browser finds another way.

/// Why `svg` may not be served as a logo, if it may not.
pub fn refused(svg: &[u8]) -> Option<&'static str> {
    let Ok(text) = std::str::from_utf8(svg) else { return Some("bytes that are not UTF-8 text") };
    let lower = text.to_ascii_lowercase();
    if lower.contains("<script") {
        return Some("a <script> element");
    }
    if lower.contains("<foreignobject") {
        return Some("a <foreignObject> (HTML inside SVG)");
    }
    if lower.contains("<!doctype") || lower.contains("<!entity") {
        return Some("a DOCTYPE or entity declaration");
    }
    if lower.contains("javascript:") {
        return Some("a javascript: URL");
    }
    if lower.contains("@import") {
        return Some("an @import");
    }
    if has_event_handler(&lower) {
        return Some("an event handler attribute (on…=)");
    }
    if references_outside(&lower) {
        return Some("an external reference (href, src or url() to something but #id or data:image/)");
    }
    None
}

/// An attribute named `on…` (onload, onclick, …): `on` after whitespace, letters, `=`.
fn has_event_handler(lower: &str) -> bool {
    let bytes = lower.as_bytes();
    lower.match_indices("on").any(|(i, _)| {
        let after_space = i > 0 && bytes[i - 1].is_ascii_whitespace();
        let rest = &lower[i + 2..];
        let name_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        after_space && name_len > 0 && rest[name_len..].trim_start().starts_with('=')
    })
}

/// A `href`, `src` or `url(…)` whose target is not in the file.
fn references_outside(lower: &str) -> bool {
    let local = |target: &str| {
        let t = target.trim_start_matches(['"', '\'', ' ', '\n', '\t']);
        t.starts_with('#') || t.starts_with("data:image/")
    };
    let attribute = ["href", "src"].iter().any(|name| {
        lower.match_indices(name).any(|(i, _)| {
            let rest = lower[i + name.len()..].trim_start();
            match rest.strip_prefix('=') {
                Some(value) => !local(value),
                None => false,
            }
        })
    });
    attribute || lower.match_indices("url(").any(|(i, _)| !local(&lower[i + 4..]))
}
