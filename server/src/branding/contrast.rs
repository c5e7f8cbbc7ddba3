//! WCAG 2.x contrast ratio.

/// An sRGB colour from `#rgb` or `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub fn parse(text: &str) -> Option<Rgb> {
        let hex = text.strip_prefix('#')?;
        if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let channel = |s: &str| u8::from_str_radix(s, 16).ok();
        match hex.len() {
            3 => {
                let d: Vec<u8> = hex.chars().map(|c| channel(&c.to_string()).unwrap() * 17).collect();
                Some(Rgb(d[0], d[1], d[2]))
            }
            6 => Some(Rgb(channel(&hex[0..2])?, channel(&hex[2..4])?, channel(&hex[4..6])?)),
            _ => None,
        }
    }

    /// Relative luminance (WCAG 2.x definition).
    pub fn luminance(self) -> f64 {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * lin(self.0) + 0.7152 * lin(self.1) + 0.0722 * lin(self.2)
    }
}

/// Contrast ratio between two colours, 1.0 to 21.0.
pub fn ratio(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (a.luminance(), b.luminance());
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// WCAG AA for normal-size text.
pub const AA_TEXT: f64 = 4.5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ratios() {
        let black = Rgb::parse("#000").unwrap();
        let white = Rgb::parse("#ffffff").unwrap();
        assert!((ratio(black, white) - 21.0).abs() < 1e-9);
        assert!((ratio(white, white) - 1.0).abs() < 1e-9);
        // #767676 on white is the classic "just passes AA" grey (4.54:1).
        let grey = Rgb::parse("#767676").unwrap();
        assert!(ratio(grey, white) >= AA_TEXT && ratio(grey, white) < 4.6);
        assert_eq!(Rgb::parse("#abc"), Some(Rgb(0xaa, 0xbb, 0xcc)));
        assert_eq!(Rgb::parse("abc"), None);
        assert_eq!(Rgb::parse("#abcd"), None);
        assert_eq!(Rgb::parse("#ggg"), None);
    }
}
