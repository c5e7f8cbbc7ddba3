//! Email templates: `themes/<brand>/emails/*.html` and `*.txt`, in minijinja (HTML
//! auto-escaped), a brand's file over the default theme's of the same name.
//!
//! For an email of kind `K` in locale `L` the first file that exists is used, for the
//! HTML part and the plain-text part each: `K.L`, `K`, `message.L`, `message`. The
//! default theme ships `message.html` and `message.txt`. Every template is rendered
//! with a sample of each kind it may serve when the theme loads, with undefined
//! variables an error, so a misspelt variable is refused with file:line, never sent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::config::ConfigError;

/// What an email is, which decides the template (`challenge`, `welcome`, `notice`).
pub const KINDS: &[&str] = &["challenge", "welcome", "notice"];

/// A template file: where it is, what it holds, and that compiled once (rendering an
/// email is then only the rendering: parsing it for every email was 4% of a sign-in).
#[derive(Debug, Clone)]
pub struct Template {
    pub path: PathBuf,
    pub source: String,
    /// The template alone in an environment, named by its part (`email.html` or
    /// `email.txt`, which decides escaping); `None` when it does not compile (the
    /// theme check says where, and rendering says so again).
    compiled: Option<std::sync::Arc<Environment<'static>>>,
}

impl Template {
    pub fn new(path: PathBuf, source: String) -> Template {
        let mut template = Template { path, source, compiled: None };
        let mut env = environment();
        if env.add_template_owned(template.part(), template.source.clone()).is_ok() {
            template.compiled = Some(std::sync::Arc::new(env));
        }
        template
    }
}

impl Template {
    /// The part this template is compiled as.
    fn part(&self) -> &'static str {
        if self.path.extension().is_some_and(|e| e == "html") { "email.html" } else { "email.txt" }
    }
}

/// How every email template is rendered: undefined values are errors, HTML escaped.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| if name.ends_with(".html") { AutoEscape::Html } else { AutoEscape::None });
    env
}

/// Everything a template may use. Absent parts are `none`, never undefined.
#[derive(Debug, Clone, Serialize)]
pub struct EmailContext {
    /// `challenge`, `welcome` or `notice`.
    pub kind: &'static str,
    pub lang: String,
    pub dir: &'static str,
    pub subject: String,
    pub app: String,
    pub logo_url: String,
    pub intro: String,
    /// The button (HTML) or the link (text).
    pub action: Option<Action>,
    /// The one-time code, with the words around it.
    pub code: Option<CodeLine>,
    /// Smaller print: expiry, "if this was not you", …
    pub notes: Vec<String>,
    /// The brand's footer.
    pub footer: String,
    /// The brand's light colours (`primary`, `on_primary`, `text`, `muted`, `surface`, …).
    pub colors: BTreeMap<String, String>,
    pub font_family: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Action {
    pub url: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeLine {
    pub before: String,
    pub code: String,
    pub after: String,
}

/// The templates of a theme folder (`emails/`), by file name.
pub fn read(folder: &Path) -> Result<BTreeMap<String, Template>, ConfigError> {
    let dir = folder.join("emails");
    let mut found = BTreeMap::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(ConfigError::io(&dir, e)),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else { continue };
        if !(name.ends_with(".html") || name.ends_with(".txt")) {
            continue;
        }
        let source = std::fs::read_to_string(&path).map_err(|e| ConfigError::io(&path, e))?;
        found.insert(name, Template::new(path, source));
    }
    Ok(found)
}

/// The default theme's `message.html` and `message.txt`, built in: the templates of a
/// themes folder that has none (one made before there were templates).
static BUILT_IN: std::sync::LazyLock<BTreeMap<String, Template>> = std::sync::LazyLock::new(|| {
    [
        ("message.html", include_str!("../../../themes/default/emails/message.html")),
        ("message.txt", include_str!("../../../themes/default/emails/message.txt")),
    ]
    .into_iter()
    .map(|(name, source)| (name.to_owned(), Template::new(PathBuf::from(name), source.to_owned())))
    .collect()
});

/// The template for a part (`html` or `txt`) of an email of `kind` in `locale`.
fn pick<'a>(templates: &'a BTreeMap<String, Template>, kind: &str, locale: &str, ext: &str) -> Option<&'a Template> {
    let stems = [format!("{kind}.{locale}"), kind.to_owned(), format!("message.{locale}"), "message".to_owned()];
    stems
        .iter()
        .find_map(|stem| templates.get(&format!("{stem}.{ext}")))
        .or_else(|| BUILT_IN.get(&format!("message.{ext}")))
}

/// Renders one template.
fn render_one(template: &Template, name: &str, ctx: &EmailContext) -> Result<String, minijinja::Error> {
    if let Some(env) = template.compiled.as_ref().filter(|_| template.part() == name) {
        return env.get_template(name)?.render(ctx);
    }
    // Compiles again, to say why it does not (or under another part's name).
    let mut env = environment();
    env.add_template(name, &template.source)?;
    env.get_template(name)?.render(ctx)
}

/// The HTML and plain-text parts of an email.
pub fn render(templates: &BTreeMap<String, Template>, ctx: &EmailContext) -> Result<(String, String), String> {
    let part = |ext: &str| {
        let t = pick(templates, ctx.kind, &ctx.lang, ext)
            .ok_or_else(|| format!("no {ext} template for a {} email", ctx.kind))?;
        render_one(t, &format!("email.{ext}"), ctx).map_err(|e| format!("{}: {e}", t.path.display()))
    };
    Ok((part("html")?, part("txt")?))
}

/// Every template rendered with a sample of each kind it may serve: the problems,
/// located.
pub fn check(templates: &BTreeMap<String, Template>) -> Vec<ConfigError> {
    let mut problems = vec![];
    for (name, template) in templates {
        let stem = name.split('.').next().unwrap_or_default();
        let kinds: Vec<&'static str> = match KINDS.iter().find(|k| **k == stem) {
            Some(k) => vec![*k],
            None if stem == "message" => KINDS.to_vec(),
            None => {
                problems.push(ConfigError {
                    path: template.path.clone(),
                    position: None,
                    key: String::new(),
                    message: format!(
                        "unknown email template; expected message, {} (then .LOCALE) and .html or .txt",
                        KINDS.join(", ")
                    ),
                });
                continue;
            }
        };
        let ext = if name.ends_with(".html") { "html" } else { "txt" };
        for kind in kinds {
            if let Err(e) = render_one(template, &format!("email.{ext}"), &sample(kind)) {
                let position = e.line().map(|line| {
                    let col = e
                        .range()
                        .map(|r| {
                            template.source[..r.start.min(template.source.len())]
                                .rsplit('\n')
                                .next()
                                .map_or(1, |l| l.chars().count() + 1)
                        })
                        .unwrap_or(1);
                    (line, col)
                });
                let what = e.detail().map_or_else(|| e.kind().to_string(), str::to_owned);
                // The expression it stumbled on, when it is short.
                let at = e
                    .range()
                    .and_then(|r| template.source.get(r))
                    .filter(|s| s.len() <= 60 && !s.contains('\n'))
                    .map(|s| format!(" `{s}`"))
                    .unwrap_or_default();
                problems.push(ConfigError {
                    path: template.path.clone(),
                    position,
                    key: String::new(),
                    message: format!("{what}{at} (an email has: {VARIABLES})"),
                });
                break;
            }
        }
    }
    problems
}

const VARIABLES: &str = "kind, lang, dir, subject, app, logo_url, intro, action.url, action.label, code.before, code.code, code.after, notes, footer, colors.NAME, font_family";

/// An email of `kind` with every part present, for checking templates.
pub fn sample(kind: &'static str) -> EmailContext {
    EmailContext {
        kind,
        lang: "en".into(),
        dir: "ltr",
        subject: "Sign in to Studio".into(),
        app: "Studio".into(),
        logo_url: "https://id.example/themes/default/logo.svg".into(),
        intro: "Use this link to sign in to Studio:".into(),
        action: Some(Action { url: "https://id.example/email/verify?t=x".into(), label: "Continue to Studio".into() }),
        code: Some(CodeLine { before: "Or type this code: ".into(), code: "123456".into(), after: String::new() }),
        notes: vec!["The link and code work for 10 minutes.".into()],
        footer: "Studio · 1 Main Street".into(),
        colors: super::theme::COLOR_TOKENS.iter().map(|c| ((*c).to_owned(), "#000000".to_owned())).collect(),
        font_family: "system-ui".into(),
    }
}
