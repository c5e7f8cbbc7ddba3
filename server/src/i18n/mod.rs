//! Interface text: a catalog per locale shipped with the server (`en` is complete,
//! others fall back key by key: a region to its language, then to `en`), and locale
//! negotiation (a region's own catalog when there is one, else its language's).
//!
//! The widget carries no text of its own: every label and message reaches it
//! resolved, so adding a language or a brand override never touches the widget.

use std::collections::BTreeMap;

/// Built-in catalogs.
const SOURCES: &[(&str, &str)] = &[("en", include_str!("en.toml")), ("fr", include_str!("fr.toml"))];

pub const DEFAULT_LOCALE: &str = "en";

#[derive(Debug, Clone)]
pub struct Catalog {
    locales: BTreeMap<String, BTreeMap<String, String>>,
}

impl Catalog {
    pub fn builtin() -> Catalog {
        let locales = SOURCES
            .iter()
            .map(|(locale, text)| {
                let table: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("i18n/{locale}.toml: {e}"));
                let mut flat = BTreeMap::new();
                flatten("", &table, &mut flat);
                ((*locale).to_owned(), flat)
            })
            .collect();
        Catalog { locales }
    }

    /// With the profile attributes' labels: the English one and those per locale from
    /// the configuration, over the built-in ones (a theme may still override them).
    pub fn with_profile_labels(mut self, schema: &crate::engine::ProfileSchema) -> Catalog {
        for attr in &schema.attributes {
            let key = attr.label_key();
            let english = self.locales.get_mut(DEFAULT_LOCALE).expect("English is built in");
            if attr.name != "email" || !english.contains_key(&key) {
                english.insert(key.clone(), attr.label.clone());
            }
            for (locale, label) in &attr.labels {
                self.locales.entry(locale.clone()).or_default().insert(key.clone(), label.clone());
            }
        }
        self
    }

    /// Text for `key` in `locale`, falling back key by key to its language, then to
    /// English: `pt-BR`, then `pt`, then `en`. One missing key never turns the whole
    /// page into another language.
    pub fn get(&self, locale: &str, key: &str) -> Option<&str> {
        let language = locale.split(['-', '_']).next().unwrap_or(locale);
        [locale, language, DEFAULT_LOCALE]
            .into_iter()
            .find_map(|l| self.locales.get(l).and_then(|texts| texts.get(key)))
            .map(String::as_str)
    }

    /// Text for `key` in exactly `locale`, without falling back.
    pub fn get_exact(&self, locale: &str, key: &str) -> Option<&str> {
        self.locales.get(locale).and_then(|l| l.get(key)).map(String::as_str)
    }

    /// Whether `key` is a known string (themes may override only those).
    pub fn has_key(&self, key: &str) -> bool {
        self.locales[DEFAULT_LOCALE].contains_key(key)
    }

    pub fn locales(&self) -> impl Iterator<Item = &str> {
        self.locales.keys().map(String::as_str)
    }

    /// The best supported locale for an `Accept-Language` header or `ui_locales`
    /// list (space or comma separated, optionally with `;q=` weights).
    pub fn negotiate(&self, preferences: &str) -> &str {
        self.best(preferences).unwrap_or(DEFAULT_LOCALE)
    }

    /// Like [`Catalog::negotiate`], but `None` when no preference is supported.
    pub fn best(&self, preferences: &str) -> Option<&str> {
        let mut prefs: Vec<(f32, &str)> = preferences
            .split([',', ' '])
            .filter(|p| !p.trim().is_empty())
            .enumerate()
            .map(|(i, p)| {
                let mut parts = p.trim().split(';');
                let tag = parts.next().unwrap_or("").trim();
                let q = parts.find_map(|x| x.trim().strip_prefix("q=")).and_then(|q| q.parse().ok()).unwrap_or(1.0);
                // Earlier entries win ties.
                (q - i as f32 * 1e-4, tag)
            })
            .collect();
        prefs.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, tag) in prefs {
            // The tag itself (`pt-BR`, any case, `_` or `-`), else its language (`pt`).
            let tag = tag.replace('_', "-");
            if let Some(locale) = self.locales.keys().find(|l| l.eq_ignore_ascii_case(&tag)) {
                return Some(locale);
            }
            let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
            if let Some((locale, _)) = self.locales.get_key_value(primary.as_str()) {
                return Some(locale);
            }
        }
        None
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => panic!("i18n key {key}: expected text, found {other}"),
        }
    }
}

/// The `{name}` placeholders in a text.
pub fn placeholders(text: &str) -> Vec<&str> {
    text.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_falls_back_per_key() {
        let c = Catalog::builtin();
        assert_eq!(c.get("fr", "action.next"), Some("Suivant"));
        assert_eq!(c.get("fr", "link.used.title"), Some("This link was already used"));
        assert_eq!(c.get("xx", "action.next"), Some("Next"));
        assert_eq!(c.get("en", "nope"), None);
    }

    /// A regional catalog (here: profile labels a configuration gives per locale) falls
    /// back to its language, then to English, key by key.
    #[test]
    fn regions_fall_back_to_their_language_then_english() {
        let mut schema = crate::engine::ProfileSchema::default();
        let mut city = crate::engine::Attribute {
            name: "locality".into(),
            label: "City".into(),
            ..crate::engine::Attribute::email()
        };
        city.labels = [("pt".to_owned(), "Cidade".to_owned())].into();
        let mut street = crate::engine::Attribute {
            name: "street".into(),
            label: "Street".into(),
            ..crate::engine::Attribute::email()
        };
        street.labels = [("pt".to_owned(), "Rua".to_owned()), ("pt-BR".to_owned(), "Logradouro".to_owned())].into();
        schema.attributes.extend([city.clone(), street.clone()]);
        let c = Catalog::builtin().with_profile_labels(&schema);
        assert_eq!(c.negotiate("pt-br, en;q=0.5"), "pt-BR");
        assert_eq!(c.negotiate("pt_PT"), "pt");
        assert_eq!(c.get("pt-BR", &street.label_key()), Some("Logradouro"));
        assert_eq!(c.get("pt-BR", &city.label_key()), Some("Cidade"), "pt-BR → pt");
        assert_eq!(c.get("pt-BR", "action.next"), Some("Next"), "pt-BR → pt → en");
        assert_eq!(c.get("fr-CA", "action.next"), Some("Suivant"), "fr-CA → fr");
    }

    #[test]
    fn negotiation() {
        let c = Catalog::builtin();
        for (prefs, expected) in [
            ("fr-CA,fr;q=0.9,en;q=0.8", "fr"),
            ("de-DE,de;q=0.9", "en"),
            ("de, fr;q=0.5", "fr"),
            ("en;q=0.4, fr;q=0.6", "fr"),
            ("fr en", "fr"),
            ("", "en"),
        ] {
            assert_eq!(c.negotiate(prefs), expected, "{prefs}");
        }
    }

    #[test]
    fn translations_use_only_the_placeholders_english_has() {
        let c = Catalog::builtin();
        for locale in c.locales() {
            for (key, text) in &c.locales[locale] {
                let english = c.get("en", key).unwrap_or_else(|| panic!("{locale}: {key} is not an English key"));
                for p in placeholders(text) {
                    assert!(placeholders(english).contains(&p), "{locale}: {key} uses {{{p}}}");
                }
            }
        }
    }
}

#[cfg(test)]
mod coverage {
    use super::Catalog;

    /// Every string literal in the engine that looks like an i18n key of a known
    /// section must exist in the English catalog (catches typos in keys).
    #[test]
    fn engine_keys_exist() {
        let sources = [
            include_str!("../engine/identify.rs"),
            include_str!("../engine/register.rs"),
            include_str!("../engine/challenge.rs"),
            include_str!("../engine/forms.rs"),
            include_str!("../engine/view.rs"),
            include_str!("../engine/validate.rs"),
            include_str!("../authenticators/email.rs"),
            include_str!("../authenticators/passkey.rs"),
            include_str!("../engine/ceremony.rs"),
            include_str!("../engine/enroll/mod.rs"),
            include_str!("../engine/enroll/passkey.rs"),
            include_str!("../engine/enroll/password.rs"),
            include_str!("../engine/enroll/totp.rs"),
            include_str!("../authenticators/totp.rs"),
            include_str!("../engine/sign_on.rs"),
            include_str!("../engine/recover.rs"),
            include_str!("../authenticators/password.rs"),
            include_str!("../authenticators/password_policy.rs"),
        ];
        let sections = [
            "action.",
            "field.",
            "identify.",
            "enroll_profile.",
            "enroll_profile_update.",
            "register.",
            "email.",
            "widget.",
            "success.",
            "link.",
            "policy.denied",
            "policy.step_up",
            "enroll.",
            "password.",
            "recovery.",
            "totp.",
        ];
        let c = Catalog::builtin();
        let mut checked = 0;
        for src in sources {
            for literal in src.split('"').skip(1).step_by(2) {
                let looks_like_key = sections.iter().any(|s| literal.starts_with(s))
                    && literal.chars().all(|ch| ch.is_ascii_lowercase() || ch == '.' || ch == '_');
                if looks_like_key {
                    assert!(c.has_key(literal), "engine uses unknown i18n key {literal:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 30, "only {checked} keys found: the scan is broken");
    }
}
