//! Theme files: any `theme.toml` is refused with its file and line, or parsed, merged
//! over `default`, checked (contrast, strings, CSS values) and compiled to CSS — never a
//! panic, and never a stylesheet that breaks out of its declarations.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use passway_server::branding::{Brands, ThemeSource};
use passway_server::i18n::Catalog;

static DEFAULT: LazyLock<ThemeSource> = LazyLock::new(|| {
    let folder = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../themes/default"));
    ThemeSource::read(&folder).expect("the default theme reads")
});
static CATALOG: LazyLock<Catalog> = LazyLock::new(Catalog::builtin);

/// One input: returns normally or panics (a finding).
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // A folder with the default's logo, so a `logo` entry can be found.
    let folder = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../themes/default"));
    let Ok(source) = ThemeSource::parse(folder, text) else { return };
    if let Ok(brand) = Brands::build(&DEFAULT, "fuzzed", source, &CATALOG) {
        // Values are checked before they reach CSS: none can open or close a block.
        let css = String::from_utf8_lossy(&brand.css.bytes);
        assert_eq!(css.matches('{').count(), css.matches('}').count(), "a value broke out of its declaration");
    }
}
