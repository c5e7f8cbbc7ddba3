use std::path::{Path, PathBuf};

use super::*;

fn repo_themes() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes")
}

#[test]
fn shipped_themes_pass_their_checks() {
    let brands = Brands::load(&repo_themes(), Catalog::builtin())
        .unwrap_or_else(|e| panic!("{}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")));
    assert_eq!(brands.ids(), ["acme", "default", "globex"]);
    let acme = brands.get("acme").unwrap();
    let css = String::from_utf8(acme.css.bytes.clone()).unwrap();
    assert!(css.contains("--pw-color-primary: #b93c0b;"), "brand token");
    assert!(css.contains("--pw-color-surface: #ffffff;"), "inherited token");
    assert!(css.contains("--pw-radius: 4px;"));
    assert!(css.contains("@media (prefers-color-scheme: dark)"));
    assert!(css.contains(".pw-card {"), "base stylesheet appended");
    assert!(
        String::from_utf8(brands.get("globex").unwrap().css.bytes.clone()).unwrap().contains("border-top: 4px solid")
    );
    assert_eq!(acme.logo_file, "logo.svg");
    assert_eq!(acme.logo.content_type, "image/svg+xml");

    let texts = brands.texts("acme", "fr");
    assert_eq!(texts.get("identify.title").as_deref(), Some("Bienvenue chez {app}"), "brand override in locale");
    assert_eq!(texts.get("action.next").as_deref(), Some("Suivant"), "catalog in locale");
    assert_eq!(
        brands.texts("acme", "fr").get("identify.subtitle").as_deref(),
        Some("Saisissez votre e-mail\u{a0}: nous vous enverrons un lien et un code de connexion.")
    );
    assert_eq!(
        brands.texts("acme", "en").get("identify.subtitle").as_deref(),
        Some("Sign in or create an account with just your email.")
    );
    assert_eq!(brands.texts("globex", "en").get("identify.title").as_deref(), Some("Sign in to {app}"));
}

/// Writes the shipped default theme plus a `broken` brand with `theme_toml`, and
/// returns the load errors as text with the folder replaced by `T`.
fn errors_for(theme_toml: &str, with_logo: bool) -> Vec<String> {
    let logo: &[(&str, &[u8])] = if with_logo { &[("brand.png", &[0x89, b'P', b'N', b'G'])] } else { &[] };
    load_with_broken(theme_toml, logo)
}

/// The load errors of the shipped default theme beside a `broken` brand made of
/// `theme_toml` and `files`, with the folder replaced by `T`.
fn load_with_broken(theme_toml: &str, files: &[(&str, &[u8])]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let default = dir.path().join("default");
    std::fs::create_dir_all(&default).unwrap();
    for f in ["theme.toml", "logo.svg"] {
        std::fs::copy(repo_themes().join("default").join(f), default.join(f)).unwrap();
    }
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("theme.toml"), theme_toml).unwrap();
    for (name, bytes) in files {
        std::fs::write(broken.join(name), bytes).unwrap();
    }
    match Brands::load(dir.path(), Catalog::builtin()) {
        Ok(_) => vec![],
        Err(es) => es.iter().map(|e| e.to_string().replace(&dir.path().display().to_string(), "T")).collect(),
    }
}

#[test]
fn a_brand_may_set_only_what_it_changes() {
    // A dark green primary would not read on the dark surface: a lighter one is derived.
    assert_eq!(errors_for("logo = \"brand.png\"\n[colors]\nprimary = \"#0b6e4f\"\n", true), Vec::<String>::new());
    let light = Located { value: "#0b6e4f".into(), file: "t".into(), line: 1, col: 1 };
    let (primary, on) = derive_dark_primary(&light, "#171c25").unwrap();
    let (p, s) = (Rgb::parse(&primary.value).unwrap(), Rgb::parse("#171c25").unwrap());
    assert!(ratio(p, s) >= 4.5 && ratio(Rgb::parse(&on.value).unwrap(), p) >= 4.5, "{primary:?} {on:?}");
}

#[test]
fn low_contrast_is_reported_at_the_colour_line() {
    assert_eq!(
        errors_for("[colors]\nprimary = \"#0b6e4f\"\nmuted = \"#aaaaaa\"\n", false),
        [
            "T/broken/theme.toml:3:9: colors.muted: contrast of #aaaaaa on surface #ffffff is 2.32:1; WCAG AA needs 4.5:1"
        ]
    );
    assert_eq!(
        errors_for("[dark]\ntext = \"#333333\"\n", false),
        [
            "T/broken/theme.toml:2:8: dark.text: contrast of #333333 on surface #171c25 is 1.35:1; WCAG AA needs 4.5:1",
            "T/broken/theme.toml:2:8: dark.text: contrast of #333333 on background #0e1218 is 1.49:1; WCAG AA needs 4.5:1",
        ]
    );
}

#[test]
fn unknown_strings_placeholders_tokens_and_bad_values() {
    assert_eq!(
        errors_for("[text.en]\n\"identify.titel\" = \"Hi\"\n\"identify.title\" = \"Hi {user}\"\n", false),
        [
            "T/broken/theme.toml:2:20: text.en.\"identify.titel\": unknown string key (see server/src/i18n/en.toml for the keys)",
            "T/broken/theme.toml:3:20: text.en.\"identify.title\": placeholder {user} is not available here; this text may use [\"app\"]",
        ]
    );
    assert_eq!(
        errors_for("[colors]\nprimry = \"#000\"\n", false)[0].split(';').next().unwrap(),
        "T/broken/theme.toml:2:10: colors.primry: unknown token"
    );
    assert_eq!(
        errors_for("[shape]\nradius = \"4px; } body { display: none\"\n", false),
        [
            "T/broken/theme.toml:2:10: shape.radius: ';' is not allowed in a token value (found \"4px; } body { display: none\")"
        ]
    );
    assert_eq!(
        errors_for("[colors]\nprimary = \"blue\"\n", false),
        ["T/broken/theme.toml:2:11: colors.primary: expected a colour like \"#1a73e8\", found \"blue\""]
    );
}

#[test]
fn missing_logo_is_reported() {
    let errors = errors_for("logo = \"brand.png\"\n", false);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("T/broken/theme.toml:1:8: logo: cannot read T/broken/brand.png"), "{}", errors[0]);
    assert_eq!(
        errors_for("logo = \"../default/logo.svg\"\n", false),
        ["T/broken/theme.toml:1:8: logo: expected a file name in the theme folder, like \"logo.svg\""]
    );
}

/// The load errors of a `broken` brand whose logo is the SVG `svg`.
fn errors_for_svg(svg: &str) -> Vec<String> {
    load_with_broken("logo = \"logo.svg\"\n", &[("logo.svg", svg.as_bytes())])
}

/// An SVG logo is served from Passway's own origin: one that could run a script there,
/// or call out when shown, is refused with the theme's file and line.
#[test]
fn a_logo_that_could_run_a_script_or_call_out_is_refused() {
    let svg = |inner: &str| format!("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\">{inner}</svg>");
    for (inner, why) in [
        ("<script>alert(document.cookie)</script>", "a <script> element"),
        ("<SCRIPT xlink:href=\"data:,alert(1)\"/>", "a <script> element"),
        ("<rect width=\"10\" height=\"10\" onload=\"alert(1)\"/>", "an event handler attribute"),
        ("<rect width=\"10\" height=\"10\"\n ONCLICK = 'x()'/>", "an event handler attribute"),
        ("<a href=\"javascript:alert(1)\"><rect/></a>", "a javascript: URL"),
        ("<image href=\"https://tracker.example/p.png\"/>", "an external reference"),
        ("<use xlink:href=\"http://evil.example/s.svg#x\"/>", "an external reference"),
        ("<rect style=\"fill: url(https://evil.example/x)\"/>", "an external reference"),
        ("<style>@import 'https://evil.example/x.css';</style>", "an @import"),
        ("<foreignObject><iframe src=\"/\"></iframe></foreignObject>", "a <foreignObject>"),
    ] {
        let errors = errors_for_svg(&svg(inner));
        assert_eq!(errors.len(), 1, "{inner}: {errors:?}");
        assert!(
            errors[0].starts_with("T/broken/theme.toml:1:8: logo: logo.svg holds ") && errors[0].contains(why),
            "{inner}: {}",
            errors[0]
        );
    }
    let doctype = "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><svg>&x;</svg>";
    assert!(errors_for_svg(doctype)[0].contains("a DOCTYPE"), "{:?}", errors_for_svg(doctype));
    // What logos are made of stays allowed: gradients, internal references, data images.
    let fine =
        svg("<defs><linearGradient id=\"g\"><stop offset=\"0\" stop-color=\"#0b6e4f\"/></linearGradient></defs>\
         <rect width=\"10\" height=\"10\" fill=\"url(#g)\"/><use href=\"#g\"/>\
         <image href=\"data:image/png;base64,iVBORw0KGgo=\"/><text font-family=\"Georgia\">Acme</text>");
    assert_eq!(errors_for_svg(&fine), Vec::<String>::new());
}

/// An email template that uses a variable emails do not have, or does not parse, is
/// refused where it says so; a brand's template replaces the default's.
#[test]
fn email_templates_are_checked_and_inherited() {
    let dir = tempfile::tempdir().unwrap();
    let default = repo_themes().join("default");
    std::fs::create_dir_all(dir.path().join("default/emails")).unwrap();
    for f in ["theme.toml", "logo.svg", "emails/message.html", "emails/message.txt"] {
        std::fs::copy(default.join(f), dir.path().join("default").join(f)).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("shop/emails")).unwrap();
    std::fs::write(dir.path().join("shop/theme.toml"), "name = \"Shop\"\n").unwrap();
    std::fs::write(
        dir.path().join("shop/emails/welcome.txt"),
        "Hello from {{ app }}!\n\n{{ intro }}\n{{ unsubscribe_link }}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("shop/emails/notice.html"), "<p>{{ intro }\n").unwrap();
    std::fs::write(dir.path().join("shop/emails/receipt.html"), "<p>{{ intro }}</p>\n").unwrap();
    let problems = match Brands::load(dir.path(), Catalog::builtin()) {
        Ok(_) => panic!("refused templates were accepted"),
        Err(p) => p.iter().map(ToString::to_string).collect::<Vec<_>>(),
    };
    let shown = problems.join("\n");
    assert!(shown.contains("shop/emails/welcome.txt:4:4: undefined value `unsubscribe_link`"), "{shown}");
    assert!(shown.contains("undefined"), "{shown}");
    assert!(shown.contains("shop/emails/notice.html:1:"), "{shown}");
    assert!(shown.contains("shop/emails/receipt.html: unknown email template"), "{shown}");

    std::fs::write(dir.path().join("shop/emails/welcome.txt"), "Hello from {{ app }}!\n\n{{ intro }}\n").unwrap();
    std::fs::remove_file(dir.path().join("shop/emails/notice.html")).unwrap();
    std::fs::remove_file(dir.path().join("shop/emails/receipt.html")).unwrap();
    let brands = Brands::load(dir.path(), Catalog::builtin()).unwrap();
    let shop = brands.get("shop").unwrap();
    let ctx = crate::branding::emails::sample("welcome");
    let (html, text) = crate::branding::emails::render(&shop.emails, &ctx).unwrap();
    assert!(text.starts_with("Hello from Studio!"), "the brand's own welcome text: {text}");
    assert!(html.contains("<html lang=\"en\""), "the default's HTML: {html}");
}
