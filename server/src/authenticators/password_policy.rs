//! What a new password must be, following NIST SP 800-63B and OWASP: long enough, not
//! absurdly long, not one of the common passwords of public breaches, not the email;
//! character classes only when configured (both advise against composition rules, but
//! some organisations must have them). Also the hash cost of new passwords.

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};

use super::password::HashCost;

/// The password policy, as configured (`[passwords]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: u32,
    pub max_length: u32,
    /// Character classes each new password must contain.
    pub require: Vec<CharClass>,
    pub cost: HashCost,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy { min_length: 12, max_length: 128, require: vec![], cost: HashCost::OWASP }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharClass {
    Lowercase,
    Uppercase,
    Digit,
    Symbol,
}

impl CharClass {
    pub const ALL: [(&'static str, CharClass); 4] = [
        ("lowercase", CharClass::Lowercase),
        ("uppercase", CharClass::Uppercase),
        ("digit", CharClass::Digit),
        ("symbol", CharClass::Symbol),
    ];

    fn matches(self, c: char) -> bool {
        match self {
            CharClass::Lowercase => c.is_lowercase(),
            CharClass::Uppercase => c.is_uppercase(),
            CharClass::Digit => c.is_numeric(),
            CharClass::Symbol => !c.is_alphanumeric() && !c.is_whitespace(),
        }
    }

    fn error_key(self) -> &'static str {
        match self {
            CharClass::Lowercase => "password.error.needs_lowercase",
            CharClass::Uppercase => "password.error.needs_uppercase",
            CharClass::Digit => "password.error.needs_digit",
            CharClass::Symbol => "password.error.needs_symbol",
        }
    }
}

/// Why a new password is refused: an i18n key and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub key: &'static str,
    pub params: Vec<(&'static str, String)>,
}

impl Refusal {
    fn new(key: &'static str) -> Refusal {
        Refusal { key, params: vec![] }
    }
}

impl PasswordPolicy {
    /// Checks a new password of the account with this `email`. Length counts
    /// characters (Unicode scalar values), as NIST asks.
    pub fn check(&self, password: &str, email: &str) -> Result<(), Refusal> {
        let length = password.chars().count() as u32;
        if length < self.min_length {
            return Err(Refusal {
                key: "password.error.too_short",
                params: vec![("min", self.min_length.to_string())],
            });
        }
        if length > self.max_length {
            return Err(Refusal { key: "password.error.too_long", params: vec![("max", self.max_length.to_string())] });
        }
        if let Some(missing) = self.require.iter().find(|class| !password.chars().any(|c| class.matches(c))) {
            return Err(Refusal::new(missing.error_key()));
        }
        let lower = password.to_lowercase();
        let local = email.split('@').next().unwrap_or("").to_lowercase();
        if local.chars().count() >= 3 && lower.contains(&local) {
            return Err(Refusal::new("password.error.contains_email"));
        }
        if is_common(password) || is_common(&lower) {
            return Err(Refusal::new("password.error.common"));
        }
        Ok(())
    }
}

/// The shipped list: sorted 20-hex-digit prefixes of SHA-1 digests (see `server/data/`).
const COMMON: &str = include_str!("../../data/common-passwords.sha1");
const LINE: usize = 21;

/// Whether `password` is on the list of common passwords, looked up k-anonymity style:
/// the range of entries sharing its 5-digit prefix, then the rest within that range.
pub fn is_common(password: &str) -> bool {
    let hex: String = digest(&SHA1_FOR_LEGACY_USE_ONLY, password.as_bytes())
        .as_ref()
        .iter()
        .take(10)
        .map(|b| format!("{b:02X}"))
        .collect();
    let (prefix, suffix) = hex.split_at(5);
    range(prefix).any(|entry| &entry[5..] == suffix)
}

/// The entries whose hash starts with `prefix` (5 hex digits).
fn range(prefix: &str) -> impl Iterator<Item = &'static str> {
    let count = COMMON.len() / LINE;
    let entry = |i: usize| &COMMON[i * LINE..i * LINE + LINE - 1];
    let start = partition_point(count, |i| &entry(i)[..5] < prefix);
    (start..count).map(entry).take_while(move |e| e.starts_with(prefix))
}

fn partition_point(len: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if before(mid) { lo = mid + 1 } else { hi = mid }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(policy: &PasswordPolicy, password: &str) -> String {
        match policy.check(password, "ada.lovelace@example.com") {
            Ok(()) => "ok".into(),
            Err(r) => {
                let params: Vec<String> = r.params.iter().map(|(k, v)| format!(" {k}={v}")).collect();
                format!("{}{}", r.key, params.concat())
            }
        }
    }

    #[test]
    fn the_shipped_list_is_sorted_and_well_formed() {
        assert_eq!(COMMON.len() % LINE, 0);
        let lines: Vec<&str> = COMMON.lines().collect();
        assert_eq!(lines.len(), 30_000);
        assert!(lines.iter().all(|l| l.len() == 20 && l.chars().all(|c| c.is_ascii_hexdigit() && !c.is_lowercase())));
        assert!(lines.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn common_passwords_are_found_and_others_not() {
        for common in ["password", "123456", "qwerty", "letmein", "dragon", "trustno1"] {
            assert!(is_common(common), "{common}");
        }
        for rare in ["", "vq8-Lw2#marrow-tundra", "correct horse battery staple 9"] {
            assert!(!is_common(rare), "{rare}");
        }
    }

    #[test]
    fn new_passwords_against_the_default_policy() {
        let policy = PasswordPolicy::default();
        let cases = [
            ("short", "password.error.too_short min=12"),
            ("elevenchars", "password.error.too_short min=12"),
            // Twelve characters, but on the breach list (any case).
            ("leavemealone", "password.error.common"),
            ("LeaveMeAlone", "password.error.common"),
            ("qwerty123456", "password.error.common"),
            ("my name is ada.lovelace!", "password.error.contains_email"),
            ("ADA.LOVELACE rocks 1815", "password.error.contains_email"),
            ("vq8-Lw2#marrow-tundra", "ok"),
            // Length counts characters, not bytes.
            ("ééééééééééé", "password.error.too_short min=12"),
            ("éééééééééééé", "ok"),
        ];
        for (password, expected) in cases {
            assert_eq!(check(&policy, password), expected, "{password}");
        }
        assert_eq!(check(&policy, &"x".repeat(129)), "password.error.too_long max=128");
    }

    #[test]
    fn character_classes_when_configured() {
        let policy = PasswordPolicy { require: CharClass::ALL.map(|(_, c)| c).to_vec(), ..PasswordPolicy::default() };
        let cases = [
            ("NO LOWER CASE 1!", "password.error.needs_lowercase"),
            ("no upper case 1!", "password.error.needs_uppercase"),
            ("No digits here!", "password.error.needs_digit"),
            ("No symbols here 1", "password.error.needs_symbol"),
            ("All four here 1!", "ok"),
        ];
        for (password, expected) in cases {
            assert_eq!(check(&policy, password), expected, "{password}");
        }
    }
}
