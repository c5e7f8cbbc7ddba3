use std::path::{Path, PathBuf};

use super::*;

fn repo_themes() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes")
}

#[test]
fn shipped_themes_pass_their_checks() {
    let brands = Brands::load(&repo_themes(), Catalog::builtin())
        .unwrap_or_else(|e| panic!("{}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")));
    assert_eq!(brands.ids().collect::<Vec<_>>(), ["acme", "default", "globex"]);
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
        Some("Saisissez votre e-mail : nous vous enverrons un lien et un code de connexion.")
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
    let dir = tempfile::tempdir().unwrap();
    let default = dir.path().join("default");
    std::fs::create_dir_all(&default).unwrap();
    for f in ["theme.toml", "logo.svg"] {
        std::fs::copy(repo_themes().join("default").join(f), default.join(f)).unwrap();
    }
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("theme.toml"), theme_toml).unwrap();
    if with_logo {
        std::fs::write(broken.join("brand.png"), [0x89, b'P', b'N', b'G']).unwrap();
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
