//! Brands: each folder under `themes/` compiled to CSS custom properties, a logo and
//! text overrides, checked before anything is served.
//!
//! A brand inherits every token it does not set from `themes/default`. The checks —
//! WCAG AA contrast of every text/background pair in light and dark, known string
//! keys with known placeholders, a logo that exists, CSS values that cannot break out
//! of their declaration — run on the merged result; a failing theme is reported with
//! file and line and never served.

mod contrast;
mod css;
pub mod emails;
pub mod palette;
mod svg;
mod theme;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

pub use contrast::{Rgb, ratio};
pub use theme::{Located, ThemeSource};

use crate::assets::{Asset, content_type_for};
use crate::config::ConfigError;
use crate::engine::Texts;
use crate::i18n::{Catalog, placeholders};

pub const DEFAULT_BRAND: &str = "default";

/// A brand ready to serve.
#[derive(Debug, Clone)]
pub struct Brand {
    /// Folder name, used in URLs.
    pub id: String,
    pub display_name: String,
    pub css: Asset,
    /// File name of the logo, served at `/themes/{id}/{logo_file}`.
    pub logo_file: String,
    pub logo: Asset,
    /// Resolved colours (light), for emails and server-rendered pages.
    pub colors: BTreeMap<String, String>,
    pub font_family: String,
    /// locale → key → text.
    pub text: BTreeMap<String, BTreeMap<String, String>>,
    pub email_footer: Option<String>,
    /// Email templates, the default theme's under the brand's ([`emails`]).
    pub emails: BTreeMap<String, emails::Template>,
}

/// The brands being served. Loaded at start, and again when a theme file changes
/// ([`Brands::reload`]): a theme that fails its checks then keeps its last good version.
#[derive(Debug)]
pub struct Brands {
    brands: RwLock<BTreeMap<String, Arc<Brand>>>,
    pub catalog: Catalog,
    /// Problems of the last reload, each `file:line:column: …`.
    problems: RwLock<Vec<String>>,
    /// Counts reloads; each is announced on `changed`.
    version: AtomicU64,
    changed: tokio::sync::broadcast::Sender<u64>,
}

impl Brands {
    /// Loads every folder of `dir` that has a `theme.toml`. All problems of all
    /// themes are returned together.
    pub fn load(dir: &Path, catalog: Catalog) -> Result<Brands, Vec<ConfigError>> {
        let (loaded, mut errors) = Brands::load_each(dir, &catalog);
        let mut brands = BTreeMap::new();
        for (id, result) in loaded {
            match result {
                Ok(brand) => {
                    brands.insert(id, Arc::new(brand));
                }
                Err(mut es) => errors.append(&mut es),
            }
        }
        if errors.is_empty() { Ok(Brands::new(brands, catalog)) } else { Err(errors) }
    }

    /// No brand yet: what [`Brands::reload`] starts from when nothing was loaded.
    pub fn empty(catalog: Catalog) -> Brands {
        Brands::new(BTreeMap::new(), catalog)
    }

    fn new(brands: BTreeMap<String, Arc<Brand>>, catalog: Catalog) -> Brands {
        Brands {
            brands: RwLock::new(brands),
            catalog,
            problems: RwLock::default(),
            version: AtomicU64::new(1),
            changed: tokio::sync::broadcast::channel(16).0,
        }
    }

    /// Loads `dir` again: a theme that fails its checks keeps its last good version
    /// (its problems are logged and kept, see [`Brands::problems`]), the others are
    /// replaced, a new folder appears, a removed one goes.
    pub fn reload(&self, dir: &Path) {
        let (loaded, mut errors) = Brands::load_each(dir, &self.catalog);
        {
            let mut brands = self.brands.write().expect("not poisoned");
            let mut next = if errors.is_empty() { BTreeMap::new() } else { brands.clone() };
            for (id, result) in loaded {
                match result {
                    Ok(brand) => {
                        next.insert(id, Arc::new(brand));
                    }
                    Err(mut es) => {
                        if let Some(last_good) = brands.get(&id) {
                            next.insert(id, last_good.clone());
                        }
                        errors.append(&mut es);
                    }
                }
            }
            *brands = next;
        }
        for e in &errors {
            tracing::warn!(problem = %e, "theme not loaded: its last good version (if any) is served");
        }
        *self.problems.write().expect("not poisoned") = errors.iter().map(ToString::to_string).collect();
        let version = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.changed.send(version);
    }

    /// The problems of the last reload (none after a clean one).
    pub fn problems(&self) -> Vec<String> {
        self.problems.read().expect("not poisoned").clone()
    }

    /// How many times the brands were loaded.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    /// A reload's version, as it happens.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Each brand folder of `dir`, built or refused, and the problems that concern
    /// them all (the default theme, a folder's name).
    #[allow(clippy::type_complexity)]
    fn load_each(
        dir: &Path,
        catalog: &Catalog,
    ) -> (BTreeMap<String, Result<Brand, Vec<ConfigError>>>, Vec<ConfigError>) {
        let default_folder = dir.join(DEFAULT_BRAND);
        let default = match ThemeSource::read(&default_folder) {
            Ok(d) => d,
            Err(e) => return (BTreeMap::new(), vec![e]),
        };
        let mut errors = vec![];
        let mut brands = BTreeMap::new();
        let mut folders: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| vec![ConfigError::io(dir, e)])
            .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_else(|mut e| {
                errors.append(&mut e);
                vec![]
            });
        folders.retain(|p: &std::path::PathBuf| p.join("theme.toml").is_file());
        folders.sort();
        for folder in folders {
            let id = folder.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                errors.push(ConfigError {
                    path: folder.clone(),
                    position: None,
                    key: String::new(),
                    message: "a brand folder name may only hold letters, digits, '-' and '_'".into(),
                });
                continue;
            }
            let source = if id == DEFAULT_BRAND { Ok(default.clone()) } else { ThemeSource::read(&folder) };
            let built = source.map_err(|e| vec![e]).and_then(|s| Brands::build(&default, &id, s, catalog));
            brands.insert(id, built);
        }
        (brands, errors)
    }

    /// One brand from its parsed theme: merged over `default`, checked, compiled.
    pub fn build(
        default: &ThemeSource,
        id: &str,
        source: ThemeSource,
        catalog: &Catalog,
    ) -> Result<Brand, Vec<ConfigError>> {
        compile(id, &merge(default, source), catalog)
    }

    /// The brand's current version.
    pub fn get(&self, id: &str) -> Option<Arc<Brand>> {
        self.brands.read().expect("not poisoned").get(id).cloned()
    }

    pub fn ids(&self) -> Vec<String> {
        self.brands.read().expect("not poisoned").keys().cloned().collect()
    }

    /// Interface text for a brand and locale.
    pub fn texts<'a>(&'a self, brand: &str, locale: &'a str) -> BrandTexts<'a> {
        BrandTexts { brand: self.get(brand), catalog: &self.catalog, locale }
    }
}

/// Reloads `brands` from `dir` whenever a file under it changes (checked every
/// `period`), until the task is dropped. A running server keeps serving a theme's last
/// good version when a save breaks it, and logs why.
pub async fn watch(brands: Arc<Brands>, dir: std::path::PathBuf, period: std::time::Duration) {
    let mut last = fingerprint(&dir);
    loop {
        tokio::time::sleep(period).await;
        let d = dir.clone();
        let Ok(now) = tokio::task::spawn_blocking(move || fingerprint(&d)).await else { continue };
        if now != last {
            last = now;
            let (b, d) = (brands.clone(), dir.clone());
            let _ = tokio::task::spawn_blocking(move || b.reload(&d)).await;
        }
    }
}

/// A digest of every file's path, size and modification time under `dir` (three
/// levels deep): what a watcher compares to know a theme was saved.
pub fn fingerprint(dir: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut files = vec![];
    let mut pending = vec![(dir.to_owned(), 0)];
    while let Some((d, depth)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() && depth < 3 {
                pending.push((entry.path(), depth + 1));
            } else if meta.is_file() {
                files.push((entry.path(), meta.len(), meta.modified().ok()));
            }
        }
    }
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    files.hash(&mut h);
    h.finish()
}

/// Text lookup: brand override in the locale, built-in text in the locale, then the
/// same two in English.
pub struct BrandTexts<'a> {
    brand: Option<Arc<Brand>>,
    catalog: &'a Catalog,
    locale: &'a str,
}

impl Texts for BrandTexts<'_> {
    fn get(&self, key: &str) -> Option<String> {
        let brand = |locale: &str| {
            self.brand.as_ref().and_then(|b| b.text.get(locale)).and_then(|t| t.get(key)).map(String::as_str)
        };
        brand(self.locale)
            .or_else(|| self.catalog.get_exact(self.locale, key))
            .or_else(|| brand(crate::i18n::DEFAULT_LOCALE))
            .or_else(|| self.catalog.get(crate::i18n::DEFAULT_LOCALE, key))
            .map(str::to_owned)
    }

    fn fill(&self, text: &str, params: &[(&str, String)]) -> String {
        self.catalog.fill(self.locale, text, params)
    }

    fn locale(&self) -> &str {
        self.locale
    }
}

/// `brand` over `default`, token by token. A brand that sets a light primary colour
/// but no dark one gets a dark primary derived from it: lightened until it reads on
/// the dark surface, with whichever of black or white reads best on it.
fn merge(default: &ThemeSource, brand: ThemeSource) -> ThemeSource {
    let mut tokens = default.tokens.clone();
    let derived = match (brand.tokens.get("colors.primary"), brand.tokens.contains_key("dark.primary")) {
        (Some(light), false) => {
            let surface = brand.tokens.get("dark.surface").or_else(|| default.tokens.get("dark.surface"));
            surface.and_then(|s| derive_dark_primary(light, &s.value))
        }
        _ => None,
    };
    if let Some((primary, on_primary)) = derived {
        tokens.insert("dark.primary".into(), primary.clone());
        tokens.insert("dark.focus".into(), primary);
        tokens.insert("dark.on_primary".into(), on_primary);
    }
    tokens.extend(brand.tokens);
    let mut text = default.text.clone();
    for (locale, strings) in brand.text {
        text.entry(locale).or_default().extend(strings);
    }
    ThemeSource {
        folder: brand.folder,
        name: brand.name.or_else(|| default.name.clone()),
        logo: brand.logo.or_else(|| default.logo.clone()),
        tokens,
        text,
        email_footer: brand.email_footer.or_else(|| default.email_footer.clone()),
        custom_css: brand.custom_css,
        emails: {
            let mut emails = default.emails.clone();
            emails.extend(brand.emails);
            emails
        },
    }
}

/// (dark primary, dark on-primary), both located at the light primary they come from.
fn derive_dark_primary(light: &Located, dark_surface: &str) -> Option<(Located, Located)> {
    let (base, surface) = (Rgb::parse(&light.value)?, Rgb::parse(dark_surface)?);
    let mix = |c: u8, t: f64| (f64::from(c) + (255.0 - f64::from(c)) * t).round() as u8;
    let lifted = (0..=20)
        .map(|step| {
            let t = f64::from(step) * 0.05;
            Rgb(mix(base.0, t), mix(base.1, t), mix(base.2, t))
        })
        .find(|c| ratio(*c, surface) >= contrast::AA_TEXT)?;
    let black = Rgb(0x11, 0x11, 0x11);
    let white = Rgb(0xff, 0xff, 0xff);
    let on = if ratio(black, lifted) >= ratio(white, lifted) { black } else { white };
    let at = |c: Rgb| Located { value: format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2), ..light.clone() };
    Some((at(lifted), at(on)))
}

/// Foreground/background pairs that carry text, checked against WCAG AA.
const CONTRAST_PAIRS: &[(&str, &str)] = &[
    ("text", "surface"),
    ("muted", "surface"),
    ("danger", "surface"),
    ("success", "surface"),
    ("primary", "surface"),
    ("on_primary", "primary"),
    ("text", "background"),
];

fn compile(id: &str, t: &ThemeSource, catalog: &Catalog) -> Result<Brand, Vec<ConfigError>> {
    let mut errors = vec![];
    let theme_file = t.folder.join("theme.toml");
    let missing = |key: &str| ConfigError {
        path: theme_file.clone(),
        position: None,
        key: key.into(),
        message: "missing, and themes/default does not set it either".into(),
    };

    for (section, names) in [
        ("colors", theme::COLOR_TOKENS),
        ("dark", theme::COLOR_TOKENS),
        ("typography", theme::TYPOGRAPHY_TOKENS),
        ("shape", theme::SHAPE_TOKENS),
    ] {
        for name in names {
            let key = format!("{section}.{name}");
            match t.tokens.get(&key) {
                None => errors.push(missing(&key)),
                Some(v) if section == "colors" || section == "dark" => {
                    if Rgb::parse(&v.value).is_none() {
                        errors.push(v.error(&key, format!("expected a colour like \"#1a73e8\", found {:?}", v.value)));
                    }
                }
                Some(v) => {
                    if let Err(why) = css::check_value(&v.value) {
                        errors.push(v.error(&key, why));
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        for section in ["colors", "dark"] {
            for (fg, bg) in CONTRAST_PAIRS {
                let (f, b) = (&t.tokens[&format!("{section}.{fg}")], &t.tokens[&format!("{section}.{bg}")]);
                let r = ratio(Rgb::parse(&f.value).unwrap(), Rgb::parse(&b.value).unwrap());
                if r < contrast::AA_TEXT {
                    errors.push(f.error(
                        format!("{section}.{fg}"),
                        format!("contrast of {} on {bg} {} is {r:.2}:1; WCAG AA needs 4.5:1", f.value, b.value),
                    ));
                }
            }
        }
    }

    for (locale, strings) in &t.text {
        let locale_ok = locale.len() >= 2
            && locale.split('-').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()));
        for (key, text) in strings {
            if !locale_ok {
                errors
                    .push(text.error(format!("text.{locale}"), "expected a language tag such as \"en\" or \"fr-CA\""));
            } else if !catalog.has_key(key) {
                errors.push(text.error(
                    format!("text.{locale}.{key:?}"),
                    "unknown string key (see server/src/i18n/en.toml for the keys)",
                ));
            } else {
                let english = catalog.get("en", key).unwrap_or_default();
                for p in placeholders(&text.value) {
                    if !placeholders(english).contains(&p) {
                        errors.push(text.error(
                            format!("text.{locale}.{key:?}"),
                            format!(
                                "placeholder {{{p}}} is not available here; this text may use {:?}",
                                placeholders(english)
                            ),
                        ));
                    }
                }
            }
        }
    }

    let logo = match &t.logo {
        None => {
            errors.push(missing("logo"));
            None
        }
        Some(l) => {
            // The logo is looked up in the folder that named it.
            let folder = l.file.parent().unwrap_or(Path::new("."));
            let file_name = Path::new(&l.value).file_name().and_then(|n| n.to_str()).filter(|n| *n == l.value);
            match file_name.map(|n| (n, std::fs::read(folder.join(n)))) {
                Some((name, Ok(bytes))) => {
                    let content_type = content_type_for(name);
                    match (content_type == "image/svg+xml").then(|| svg::refused(&bytes)).flatten() {
                        Some(why) => {
                            errors.push(l.error(
                                "logo",
                                format!("{name} holds {why}: a logo is served from Passway's origin, so it may not run or load anything"),
                            ));
                            None
                        }
                        None => Some((name.to_owned(), Asset::new(content_type, bytes))),
                    }
                }
                Some((_, Err(e))) => {
                    errors.push(l.error("logo", format!("cannot read {}: {e}", folder.join(&l.value).display())));
                    None
                }
                None => {
                    errors.push(l.error("logo", "expected a file name in the theme folder, like \"logo.svg\""));
                    None
                }
            }
        }
    };

    // Each brand answers for its own templates (the default theme's are checked with it).
    let own = t.emails.iter().filter(|(_, tpl)| tpl.path.starts_with(&t.folder));
    errors.extend(emails::check(&own.map(|(k, v)| (k.clone(), v.clone())).collect()));
    if !errors.is_empty() {
        errors.sort_by(|a, b| (&a.path, a.position).cmp(&(&b.path, b.position)));
        return Err(errors);
    }
    let (logo_file, logo) = logo.expect("checked above");
    let value = |k: &str| t.tokens[k].value.clone();
    Ok(Brand {
        id: id.to_owned(),
        display_name: t.name.clone().unwrap_or_else(|| id.to_owned()),
        css: Asset::new("text/css; charset=utf-8", css::compile(id, t).into_bytes()),
        logo_file,
        logo,
        colors: theme::COLOR_TOKENS.iter().map(|n| ((*n).to_owned(), value(&format!("colors.{n}")))).collect(),
        font_family: value("typography.font_family"),
        text: t
            .text
            .iter()
            .map(|(l, s)| (l.clone(), s.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect()))
            .collect(),
        email_footer: t.email_footer.clone(),
        emails: t.emails.clone(),
    })
}

#[cfg(test)]
mod tests;
