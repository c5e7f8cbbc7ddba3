//! Interface text: a catalog per locale shipped with the server (`en` is complete,
//! others fall back key by key: a region to its language, then to `en`), and locale
//! negotiation (a region's own catalog when there is one, else its language's).
//!
//! The widget carries no text of its own: every label and message reaches it
//! resolved, so adding a language or a brand override never touches the widget.

pub mod format;

use std::collections::BTreeMap;
use std::sync::Arc;

use icu_plurals::PluralRules;

/// Built-in catalogs.
/// Built-in catalogs: Okta's widget languages, plus English, Arabic and Hebrew. Each
/// is complete (a test checks it); lookups still fall back key by key, for the labels
/// and overrides that configurations and themes add.
const SOURCES: &[(&str, &str)] = &[
    ("ar", include_str!("ar.toml")),
    ("cs", include_str!("cs.toml")),
    ("da", include_str!("da.toml")),
    ("de", include_str!("de.toml")),
    ("el", include_str!("el.toml")),
    ("en", include_str!("en.toml")),
    ("es", include_str!("es.toml")),
    ("eu", include_str!("eu.toml")),
    ("fi", include_str!("fi.toml")),
    ("fr", include_str!("fr.toml")),
    ("he", include_str!("he.toml")),
    ("hu", include_str!("hu.toml")),
    ("id", include_str!("id.toml")),
    ("it", include_str!("it.toml")),
    ("ja", include_str!("ja.toml")),
    ("ko", include_str!("ko.toml")),
    ("ms", include_str!("ms.toml")),
    ("nb", include_str!("nb.toml")),
    ("nl", include_str!("nl.toml")),
    ("pl", include_str!("pl.toml")),
    ("pt-BR", include_str!("pt-BR.toml")),
    ("ro", include_str!("ro.toml")),
    ("ru", include_str!("ru.toml")),
    ("sv", include_str!("sv.toml")),
    ("th", include_str!("th.toml")),
    ("tr", include_str!("tr.toml")),
    ("uk", include_str!("uk.toml")),
    ("vi", include_str!("vi.toml")),
    ("zh-CN", include_str!("zh-CN.toml")),
    ("zh-TW", include_str!("zh-TW.toml")),
];

pub const DEFAULT_LOCALE: &str = "en";

#[derive(Clone)]
pub struct Catalog {
    locales: BTreeMap<String, BTreeMap<String, String>>,
    /// CLDR plural rules of each catalog's locale, made once.
    plural_rules: BTreeMap<String, Arc<PluralRules>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("locales", &self.locales.keys()).finish_non_exhaustive()
    }
}

impl Catalog {
    pub fn builtin() -> Catalog {
        let locales: BTreeMap<String, BTreeMap<String, String>> = SOURCES
            .iter()
            .map(|(locale, text)| {
                let table: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("i18n/{locale}.toml: {e}"));
                let mut flat = BTreeMap::new();
                flatten("", &table, &mut flat);
                ((*locale).to_owned(), flat)
            })
            .collect();
        let plural_rules = locales.keys().map(|l| (l.clone(), Arc::new(format::rules(l)))).collect();
        Catalog { locales, plural_rules }
    }

    /// `text` filled with `params` by `locale`'s plural rules ([`format::fill`]).
    pub fn fill(&self, locale: &str, text: &str, params: &[(&str, String)]) -> String {
        let language = locale.split(['-', '_']).next().unwrap_or(locale);
        let isolate = direction(locale) == "rtl";
        match self.plural_rules.get(locale).or_else(|| self.plural_rules.get(language)) {
            Some(rules) => format::fill(rules, text, params, isolate),
            None => format::fill(&format::rules(locale), text, params, isolate),
        }
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
            // A language whose catalog is regional: Traditional Chinese (`zh-Hant`,
            // `zh-HK`) reads `zh-TW`, other Chinese `zh-CN`, Portuguese `pt-BR`,
            // Norwegian `nb`.
            let traditional =
                tag.split('-').skip(1).any(|s| ["hant", "tw", "hk", "mo"].iter().any(|t| s.eq_ignore_ascii_case(t)));
            let regional = match primary.as_str() {
                "zh" if traditional => "zh-TW",
                "zh" => "zh-CN",
                "pt" => "pt-BR",
                "no" | "nn" => "nb",
                _ => continue,
            };
            if let Some((locale, _)) = self.locales.get_key_value(regional) {
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

pub use format::placeholders;

/// The writing direction of a locale's script: `rtl` for Arabic, Hebrew, Persian and
/// Urdu, else `ltr` (the `dir` of pages, emails and the widget).
pub fn direction(locale: &str) -> &'static str {
    let language = locale.split(['-', '_']).next().unwrap_or(locale);
    if ["ar", "he", "fa", "ur"].iter().any(|l| language.eq_ignore_ascii_case(l)) { "rtl" } else { "ltr" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_falls_back_per_key() {
        let c = Catalog::builtin();
        assert_eq!(c.get("fr", "action.next"), Some("Suivant"));
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
        let nickname = crate::engine::Attribute {
            name: "nickname".into(),
            label: "Nickname".into(),
            ..crate::engine::Attribute::email()
        };
        schema.attributes.extend([city.clone(), street.clone(), nickname.clone()]);
        let c = Catalog::builtin().with_profile_labels(&schema);
        assert_eq!(c.negotiate("pt-br, en;q=0.5"), "pt-BR");
        assert_eq!(c.negotiate("pt_PT"), "pt");
        assert_eq!(c.get("pt-BR", &street.label_key()), Some("Logradouro"));
        assert_eq!(c.get("pt-BR", &city.label_key()), Some("Cidade"), "pt-BR → pt");
        assert_eq!(c.get("pt-BR", &nickname.label_key()), Some("Nickname"), "pt-BR → pt → en");
        assert_eq!(c.get("fr-CA", "action.next"), Some("Suivant"), "fr-CA → fr");
    }

    #[test]
    fn negotiation() {
        let c = Catalog::builtin();
        for (prefs, expected) in [
            ("fr-CA,fr;q=0.9,en;q=0.8", "fr"),
            ("de-DE,de;q=0.9", "de"),
            ("xx-YY, de;q=0.5", "de"),
            ("zh", "zh-CN"),
            ("zh-Hans-CN", "zh-CN"),
            ("zh-Hant", "zh-TW"),
            ("zh-HK", "zh-TW"),
            ("zh-tw", "zh-TW"),
            ("pt-PT", "pt-BR"),
            ("no", "nb"),
            ("ar-EG", "ar"),
            ("iw, he;q=0.8", "he"),
            ("tlh", "en"),
            ("en;q=0.4, fr;q=0.6", "fr"),
            ("fr en", "fr"),
            ("", "en"),
        ] {
            assert_eq!(c.negotiate(prefs), expected, "{prefs}");
        }
    }

    /// Every shipped catalog: not empty, only English keys and every one of them, the
    /// placeholders English has, and plural parts on the same arguments with exactly
    /// the locale's CLDR categories.
    #[test]
    fn every_catalog_is_complete_and_well_formed() {
        let c = Catalog::builtin();
        let english = &c.locales["en"];
        assert!(english.len() > 150, "the English catalog lost its keys");
        assert!(c.locales.len() >= 30, "{} locales", c.locales.len());
        let mut problems = vec![];
        for (locale, texts) in &c.locales {
            let categories = format::categories(locale);
            for key in english.keys().filter(|k| !texts.contains_key(*k)) {
                problems.push(format!("{locale}: {key} is missing"));
            }
            for (key, text) in texts {
                let Some(en) = english.get(key) else {
                    problems.push(format!("{locale}: {key} is not an English key"));
                    continue;
                };
                if text.trim().is_empty() {
                    problems.push(format!("{locale}: {key} is empty"));
                }
                if placeholders(text) != placeholders(en) {
                    problems.push(format!(
                        "{locale}: {key} has placeholders {:?}, English {:?}",
                        placeholders(text),
                        placeholders(en)
                    ));
                }
                let args = |t: &str| format::plurals(t).iter().map(|p| p.name.to_owned()).collect::<Vec<_>>();
                if args(text) != args(en) {
                    problems.push(format!("{locale}: {key} has plurals of {:?}, English {:?}", args(text), args(en)));
                }
                for plural in format::plurals(text) {
                    let mut given: Vec<&str> = plural.branches.iter().map(|(c, _)| *c).collect();
                    given.sort_by_key(|c| format::CATEGORIES.iter().position(|x| x == c));
                    if given != categories {
                        problems.push(format!("{locale}: {key} gives {given:?}, {locale} has {categories:?}"));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The text a person reads for a number follows their language's rules.
    #[test]
    fn plurals_follow_the_locale() {
        let c = Catalog::builtin();
        let wrong = |locale: &str, n: u32| {
            c.fill(locale, c.get(locale, "email.code.wrong").unwrap(), &[("attempts", n.to_string())])
        };
        assert_eq!(wrong("en", 1), "That code is not right. 1 attempt left.");
        assert_eq!(wrong("en", 3), "That code is not right. 3 attempts left.");
        assert_ne!(wrong("pl", 2).replace('2', ""), wrong("pl", 5).replace('5', ""), "Polish: few, many");
        assert_ne!(wrong("ru", 1).replace('1', ""), wrong("ru", 2).replace('2', ""), "Russian: one, few");
        assert_ne!(wrong("ar", 2).replace('2', ""), wrong("ar", 3).replace('3', ""), "Arabic: two, few");
    }

    #[test]
    fn right_to_left() {
        assert_eq!(direction("ar"), "rtl");
        assert_eq!(direction("he-IL"), "rtl");
        assert_eq!(direction("en"), "ltr");
        assert_eq!(direction("fr"), "ltr");
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
