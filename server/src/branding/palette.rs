//! `passway theme new NAME --primary '#RRGGBB'`: a complete theme, light and dark, from
//! one colour. Every colour is derived from the primary (neutrals tinted with its hue)
//! and then moved toward black or white only as far as it must to read at WCAG AA
//! (4.5:1) on what it sits on — so the theme passes its own checks by construction
//! (a test loads themes generated from colours all around the wheel).

use super::contrast::{AA_TEXT, Rgb, ratio};

const BLACK: Rgb = Rgb(0, 0, 0);
const WHITE: Rgb = Rgb(255, 255, 255);
/// Near-black for text on light colours (softer than #000, still AAA on white).
const INK: Rgb = Rgb(0x11, 0x11, 0x11);

/// `a` moved a fraction `t` (0 to 1) of the way to `b`.
fn mix(a: Rgb, b: Rgb, t: f64) -> Rgb {
    let m = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    Rgb(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

/// `from`, moved toward `toward` in small steps until it reads at AA on every colour of
/// `on` (`toward` itself, black or white, always does on the surfaces made here).
fn readable(from: Rgb, toward: Rgb, on: &[Rgb]) -> Rgb {
    (0..=50)
        .map(|step| mix(from, toward, f64::from(step) / 50.0))
        .find(|c| on.iter().all(|bg| ratio(*c, *bg) >= AA_TEXT))
        .unwrap_or(toward)
}

/// Black-ish or white text, whichever reads better on `bg`.
fn text_on(bg: Rgb) -> Rgb {
    if ratio(INK, bg) >= ratio(WHITE, bg) { INK } else { WHITE }
}

fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// One scheme's colours, in `theme.toml` order.
fn scheme(primary: Rgb, dark: bool) -> Vec<(&'static str, Rgb)> {
    let (far, near) = if dark { (WHITE, BLACK) } else { (BLACK, WHITE) };
    let background = if dark { mix(primary, BLACK, 0.92) } else { mix(primary, WHITE, 0.94) };
    let surface = if dark { mix(primary, BLACK, 0.86) } else { WHITE };
    let on = [surface, background];
    // The brand colour reads on the surface, and text reads on it.
    let brand = (0..=50)
        .map(|step| mix(primary, far, f64::from(step) / 50.0))
        .find(|c| ratio(*c, surface) >= AA_TEXT && ratio(text_on(*c), *c) >= AA_TEXT)
        .unwrap_or(far);
    let on_primary = text_on(brand);
    let text = readable(mix(primary, far, 0.88), far, &on);
    let muted = readable(mix(primary, near, 0.5), far, &on);
    let danger = readable(if dark { Rgb(0xff, 0x8f, 0x85) } else { Rgb(0xb3, 0x26, 0x1e) }, far, &on);
    let success = readable(if dark { Rgb(0x7f, 0xd9, 0x9b) } else { Rgb(0x1c, 0x73, 0x39) }, far, &on);
    let border = if dark { mix(primary, BLACK, 0.7) } else { mix(primary, WHITE, 0.75) };
    vec![
        ("primary", brand),
        ("on_primary", on_primary),
        ("background", background),
        ("surface", surface),
        ("text", text),
        ("muted", muted),
        ("danger", danger),
        ("success", success),
        ("border", border),
        ("focus", brand),
    ]
}

/// The `theme.toml` of a new brand called `name` from `primary`.
pub fn theme_toml(name: &str, primary: Rgb) -> String {
    let table = |title: &str, colours: Vec<(&str, Rgb)>| {
        let mut s = format!("[{title}]\n");
        for (key, c) in colours {
            s.push_str(&format!("{key} = \"{}\"\n", hex(c)));
        }
        s
    };
    format!(
        "# Made by `passway theme new` from {primary}: every colour reads at WCAG AA (4.5:1) on\n\
         # what it sits on, in light and dark. Change any; the server checks them again.\n\
         name = {name:?}\nlogo = \"logo.svg\"\n\n{light}\n{dark}\n[shape]\nradius = \"8px\"\nspacing = \"8px\"\n",
        primary = hex(primary),
        light = table("colors", scheme(primary, false)),
        dark = table("dark", scheme(primary, true)),
    )
}

/// A placeholder logo: the name's first letter on the primary colour.
pub fn logo_svg(name: &str, primary: Rgb) -> String {
    let letter = name.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_uppercase().to_string()).unwrap_or_default();
    let brand = readable(primary, BLACK, &[WHITE]);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 40 40\" role=\"img\">\
         <rect width=\"40\" height=\"40\" rx=\"8\" fill=\"{}\"/>\
         <text x=\"20\" y=\"27\" text-anchor=\"middle\" font-family=\"system-ui, sans-serif\" font-size=\"20\" font-weight=\"700\" fill=\"{}\">{}</text></svg>\n",
        hex(brand),
        hex(text_on(brand)),
        crate::html::escape(&letter),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::branding::Brands;
    use crate::i18n::Catalog;

    /// Themes made from colours all around the wheel, light to dark, pass the server's
    /// own checks (contrast in light and dark, logo, tokens).
    #[test]
    fn generated_themes_pass_their_checks_by_construction() {
        let dir = tempfile::tempdir().unwrap();
        let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes/default");
        let default = dir.path().join("default");
        std::fs::create_dir_all(&default).unwrap();
        for f in ["theme.toml", "logo.svg"] {
            std::fs::copy(shipped.join(f), default.join(f)).unwrap();
        }
        let mut colours = vec![BLACK, WHITE, Rgb(0xff, 0xff, 0x00), Rgb(0x00, 0xff, 0x00), Rgb(0x80, 0x80, 0x80)];
        for r in (0..=255).step_by(51) {
            for g in (0..=255).step_by(85) {
                for b in (0..=255).step_by(85) {
                    colours.push(Rgb(r as u8, g as u8, b as u8));
                }
            }
        }
        for (i, c) in colours.iter().enumerate() {
            let folder = dir.path().join(format!("b{i}"));
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("theme.toml"), theme_toml(&format!("Brand {i}"), *c)).unwrap();
            std::fs::write(folder.join("logo.svg"), logo_svg("Brand", *c)).unwrap();
        }
        match Brands::load(dir.path(), Catalog::builtin()) {
            Ok(brands) => assert_eq!(brands.ids().len(), colours.len() + 1),
            Err(errors) => panic!("{} problems, the first: {}", errors.len(), errors[0]),
        }
    }

    #[test]
    fn the_brand_colour_moves_only_as_far_as_it_must() {
        // Already dark enough on white: kept as it is.
        let toml = theme_toml("Globex", Rgb(0x0f, 0x76, 0x6e));
        assert!(toml.contains("[colors]\nprimary = \"#0f766e\""), "{toml}");
        // Yellow cannot carry text on white: darkened until it reads.
        let toml = theme_toml("Sunny", Rgb(0xff, 0xd7, 0x00));
        let primary = toml.lines().find(|l| l.starts_with("primary = ")).unwrap();
        let c = Rgb::parse(primary.split('"').nth(1).unwrap()).unwrap();
        assert!(ratio(c, WHITE) >= AA_TEXT && ratio(c, WHITE) < AA_TEXT + 0.5, "{primary}");
    }
}
