//! Checks on what people type. Each returns the i18n key of the problem.

/// Normalises an email address (trim, lower-case) or says why it is not one.
///
/// Deliberately simple: `local@domain` with a dotted domain (or `localhost`), no
/// spaces, at most 254 characters. Whether it exists is proven by mailing it.
pub fn email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err("field.required");
    }
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("field.email.invalid");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("field.email.invalid");
    };
    let domain_ok = domain == "localhost"
        || (domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.'));
    if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
        return Err("field.email.invalid");
    }
    Ok(email)
}

/// Trims a text answer and checks it against a length limit.
pub fn text(raw: &str, required: bool, max_length: u32) -> Result<String, &'static str> {
    let value = raw.trim();
    if value.is_empty() && required {
        return Err("field.required");
    }
    if value.chars().count() > max_length as usize {
        return Err("field.too_long");
    }
    if value.chars().any(|c| c.is_control()) {
        return Err("field.invalid");
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        assert_eq!(email(input).as_deref().map_err(|e| *e), expected, "input {input:?}");
    }

    #[test]
    fn emails() {
        check(" Jane@Example.COM ", Ok("jane@example.com"));
        check("a@localhost", Ok("a@localhost"));
        check("", Err("field.required"));
        check("jane", Err("field.email.invalid"));
        check("jane@", Err("field.email.invalid"));
        check("@example.com", Err("field.email.invalid"));
        check("jane@example", Err("field.email.invalid"));
        check("ja ne@example.com", Err("field.email.invalid"));
        check("jane@exa..mple.com", Err("field.email.invalid"));
        check("jane@example.com.", Err("field.email.invalid"));
        check("j@a@example.com", Err("field.email.invalid"));
        check(&format!("{}@example.com", "a".repeat(250)), Err("field.email.invalid"));
    }

    #[test]
    fn texts() {
        assert_eq!(text("  Ada ", true, 10), Ok("Ada".into()));
        assert_eq!(text("  ", true, 10), Err("field.required"));
        assert_eq!(text("", false, 10), Ok("".into()));
        assert_eq!(text("abcdefghijk", true, 10), Err("field.too_long"));
        assert_eq!(text("a\u{0}b", true, 10), Err("field.invalid"));
    }
}
