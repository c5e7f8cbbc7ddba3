//! The widget bundle: Trunk builds it into `dist/widget/`, then every file a browser
//! gets compressed has its brotli copy written beside it (`name.br`, maximum quality).
//!
//! Why here and not in the server: brotli's maximum quality needs about 26 MB of tables
//! for the widget's wasm, and a server that made the copy at start-up kept that memory
//! (RSS 77 MB just started, 40 MB without). The server uses a copy only when it
//! decompresses to the file beside it, and makes its own otherwise (`server/src/assets.rs`).

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};

use crate::sh::{self, Run};
use crate::tools;

/// What the server compresses (`assets::compressible`), by extension.
const COMPRESSED: [&str; 6] = ["js", "mjs", "wasm", "css", "svg", "json"];

/// `trunk build --release`, then the brotli copies.
pub fn build(env: &tools::Env, root: &Path) -> Result<()> {
    env.cmd("trunk").args(["build", "--release"]).current_dir(root).run()?;
    let written = precompress(&root.join("dist/widget"))?;
    sh::step(&format!("brotli copies of {written} widget files written beside them"));
    Ok(())
}

/// Writes `name.br` beside every compressible file under `dir`; how many.
fn precompress(dir: &Path) -> Result<usize> {
    let mut written = 0;
    for entry in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let path = entry?.path();
        if path.is_dir() {
            written += precompress(&path)?;
            continue;
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
        if COMPRESSED.contains(&ext) {
            let bytes = std::fs::read(&path)?;
            let mut copy = path.clone().into_os_string();
            copy.push(".br");
            std::fs::write(&copy, brotli(&bytes)).with_context(|| format!("{}", path.display()))?;
            written += 1;
        }
    }
    Ok(written)
}

/// Brotli at maximum quality, with the smallest window that holds the file (as the
/// server does: a larger one only costs memory).
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let window = (usize::BITS - bytes.len().saturating_sub(1).leading_zeros()).clamp(10, 22);
    let mut out = vec![];
    brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, window).write_all(bytes).expect("writing to memory");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_compressible_file_gets_its_copy_and_nothing_else_does() {
        let dir = std::env::temp_dir().join(format!("xtask-precompress-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("snippets")).unwrap();
        let script = "export const a = 1;\n".repeat(40);
        std::fs::write(dir.join("snippets/a.js"), &script).unwrap();
        std::fs::write(dir.join("logo.png"), [0u8; 64]).unwrap();
        assert_eq!(super::precompress(&dir).unwrap(), 1);
        let copy = std::fs::read(dir.join("snippets/a.js.br")).unwrap();
        let mut back = vec![];
        std::io::Read::read_to_end(&mut brotli::Decompressor::new(&copy[..], 4096), &mut back).unwrap();
        assert_eq!(back, script.as_bytes());
        assert!(!dir.join("logo.png.br").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
