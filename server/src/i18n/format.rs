//! Filling a catalog text: `{name}` placeholders, and the plural part of ICU's
//! MessageFormat, `{count, plural, one {# attempt} other {# attempts}}`, whose
//! category comes from CLDR's rules for the locale (ICU4X). Translators know this
//! syntax, and one text stays one string, so a theme overrides it like any other.
//!
//! A placeholder without a value is left as it is: the widget fills some
//! (`{seconds}` of a countdown) itself.

use icu_plurals::{PluralCategory, PluralRules};

/// The CLDR plural categories, in CLDR's order.
pub const CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

pub fn category_name(c: PluralCategory) -> &'static str {
    match c {
        PluralCategory::Zero => "zero",
        PluralCategory::One => "one",
        PluralCategory::Two => "two",
        PluralCategory::Few => "few",
        PluralCategory::Many => "many",
        PluralCategory::Other => "other",
    }
}

/// CLDR's cardinal plural rules for a locale (its language's when the region has none
/// of its own; English's for a tag that does not parse).
pub fn rules(locale: &str) -> PluralRules {
    let parsed = locale.replace('_', "-").parse::<icu_locale_core::Locale>().unwrap_or(icu_locale_core::locale!("en"));
    PluralRules::try_new_cardinal(parsed.into())
        .or_else(|_| PluralRules::try_new_cardinal(icu_locale_core::locale!("en").into()))
        .expect("English plural rules are compiled in")
}

/// The categories a locale's plural messages must give (`other` always among them).
pub fn categories(locale: &str) -> Vec<&'static str> {
    rules(locale).categories().map(category_name).collect()
}

/// `text` with its placeholders and plural parts filled from `params`. With `isolate`
/// (right-to-left locales), each value is wrapped in Unicode's first-strong isolate
/// (U+2068 … U+2069), as Fluent does, so an address or an app name written left to
/// right keeps its punctuation where it belongs.
pub fn fill(rules: &PluralRules, text: &str, params: &[(&str, String)], isolate: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(len) = matching(&rest[open..]) else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inner = &rest[open + 1..open + len - 1];
        match parse_plural(inner) {
            Some(plural) => {
                let value = params.iter().find(|(k, _)| *k == plural.name).map(|(_, v)| v.as_str());
                match value {
                    Some(v) => {
                        let category = v.parse::<u64>().map_or("other", |n| category_name(rules.category_for(n)));
                        let branch = plural.branch(category).unwrap_or_default();
                        out.push_str(&fill(rules, &branch.replace('#', v), params, isolate));
                    }
                    // Unfilled: kept for whoever fills it.
                    None => out.push_str(&rest[open..open + len]),
                }
            }
            None => match params.iter().find(|(k, _)| *k == inner) {
                Some((_, v)) if isolate => {
                    out.push('\u{2068}');
                    out.push_str(v);
                    out.push('\u{2069}');
                }
                Some((_, v)) => out.push_str(v),
                None => out.push_str(&rest[open..open + len]),
            },
        }
        rest = &rest[open + len..];
    }
    out.push_str(rest);
    out
}

/// A `{name, plural, category {text} …}` part.
#[derive(Debug, PartialEq)]
pub struct Plural<'a> {
    pub name: &'a str,
    pub branches: Vec<(&'a str, &'a str)>,
}

impl<'a> Plural<'a> {
    fn branch(&self, category: &str) -> Option<&'a str> {
        let find = |c: &str| self.branches.iter().find(|(k, _)| *k == c).map(|(_, t)| *t);
        find(category).or_else(|| find("other"))
    }
}

/// The length of the `{…}` group `s` starts with, braces nested.
fn matching(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn parse_plural(inner: &str) -> Option<Plural<'_>> {
    let (name, rest) = inner.split_once(',')?;
    let rest = rest.trim_start().strip_prefix("plural")?.trim_start().strip_prefix(',')?;
    let mut branches = vec![];
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        let open = rest.find('{')?;
        let category = rest[..open].trim();
        let len = matching(&rest[open..])?;
        branches.push((category, &rest[open + 1..open + len - 1]));
        rest = rest[open + len..].trim_start();
    }
    Some(Plural { name: name.trim(), branches })
}

/// The placeholder names a text uses, plural arguments included (and the
/// placeholders inside their branches).
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut names = vec![];
    for_each_part(text, &mut |part| match part {
        Part::Placeholder(name) => names.push(name),
        Part::Plural(p) => names.push(p.name),
    });
    names.sort_unstable();
    names.dedup();
    names
}

/// The plural parts of a text.
pub fn plurals(text: &str) -> Vec<Plural<'_>> {
    let mut found = vec![];
    for_each_part(text, &mut |part| {
        if let Part::Plural(p) = part {
            found.push(p);
        }
    });
    found
}

enum Part<'a> {
    Placeholder(&'a str),
    Plural(Plural<'a>),
}

fn for_each_part<'a>(text: &'a str, f: &mut dyn FnMut(Part<'a>)) {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(len) = matching(&rest[open..]) else { return };
        let inner = &rest[open + 1..open + len - 1];
        match parse_plural(inner) {
            Some(plural) => {
                let branches: Vec<&str> = plural.branches.iter().map(|(_, t)| *t).collect();
                f(Part::Plural(plural));
                for b in branches {
                    for_each_part(b, f);
                }
            }
            None => f(Part::Placeholder(inner.trim())),
        }
        rest = &rest[open + len..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(locale: &str, text: &str, params: &[(&str, &str)], expect: &str) {
        let params: Vec<(&str, String)> = params.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        assert_eq!(fill(&rules(locale), text, &params, false), expect, "{locale}: {text} with {params:?}");
    }

    #[test]
    fn placeholders_and_plurals() {
        let attempts = "{attempts, plural, one {# attempt} other {# attempts}} left for {app}";
        check("en", attempts, &[("attempts", "1"), ("app", "Acme")], "1 attempt left for Acme");
        check("en", attempts, &[("attempts", "3"), ("app", "Acme")], "3 attempts left for Acme");
        check("en", "Resend in {seconds}s", &[], "Resend in {seconds}s");
        check(
            "en",
            attempts,
            &[("app", "Acme")],
            "{attempts, plural, one {# attempt} other {# attempts}} left for Acme",
        );
        check("en", "{n, plural, one {one} other {#}}", &[("n", "many")], "many");
        check("en", "unbalanced {app", &[("app", "x")], "unbalanced {app");
        let pl = "{n, plural, one {# próba} few {# próby} many {# prób} other {# próby}}";
        for (n, expect) in [("1", "1 próba"), ("2", "2 próby"), ("5", "5 prób"), ("22", "22 próby"), ("25", "25 prób")]
        {
            check("pl", pl, &[("n", n)], expect);
        }
        let ar = "{n, plural, zero {z} one {o} two {t} few {f} many {m} other {x}}";
        for (n, expect) in [("0", "z"), ("1", "o"), ("2", "t"), ("3", "f"), ("11", "m"), ("100", "x")] {
            check("ar", ar, &[("n", n)], expect);
        }
        // A region without rules of its own uses its language's.
        check("pt-BR", "{n, plural, one {um} many {muitos} other {outros}}", &[("n", "1")], "um");
    }

    /// In a right-to-left text, a value written left to right is isolated.
    #[test]
    fn values_are_isolated_in_right_to_left_text() {
        let params = [("email", "a***@example.com".to_owned())];
        assert_eq!(
            fill(&rules("ar"), "أرسلنا إلى {email}.", &params, true),
            "أرسلنا إلى \u{2068}a***@example.com\u{2069}."
        );
    }

    #[test]
    fn categories_come_from_cldr() {
        assert_eq!(categories("en"), ["one", "other"]);
        assert_eq!(categories("ja"), ["other"]);
        assert_eq!(categories("ru"), ["one", "few", "many", "other"]);
        assert_eq!(categories("ar"), CATEGORIES);
    }

    #[test]
    fn placeholders_inside_plurals_are_found() {
        let text = "{app}: {n, plural, one {# for {email}} other {#}}";
        assert_eq!(placeholders(text), ["app", "email", "n"]);
        assert_eq!(plurals(text)[0].branches, [("one", "# for {email}"), ("other", "#")]);
    }
}
