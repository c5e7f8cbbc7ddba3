//! Static assets held in memory, each with a strong ETag and a brotli copy, so serving
//! one is a lookup and a memcpy.
//!
//! The brotli copy is made once: at build time for the widget bundle (`cargo xtask`
//! writes `name.br` beside each file, and it is used only if it decompresses to the file),
//! otherwise when the file loads. Brotli at maximum quality needs about 26 MB of tables
//! for the widget's wasm; made in the server, that memory stayed with the allocator
//! after start-up (RSS 77 MB at start against 40 MB).

use std::io::Write;

use crate::crypto::sha256;

#[derive(Debug, Clone)]
pub struct Asset {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    /// Present when compression actually saves bytes.
    pub brotli: Option<Vec<u8>>,
    /// Quoted strong validator, e.g. `"3f2a…"`.
    pub etag: String,
}

impl Asset {
    pub fn new(content_type: &'static str, bytes: Vec<u8>) -> Asset {
        Asset::with_precompressed(content_type, bytes, None)
    }

    /// An asset whose brotli copy may have been made beforehand (`precompressed`): used
    /// when it decompresses to exactly `bytes`, else made here, as a stale or corrupt
    /// copy must never be served.
    pub fn with_precompressed(content_type: &'static str, bytes: Vec<u8>, precompressed: Option<Vec<u8>>) -> Asset {
        let etag = format!("\"{}\"", &sha256(&bytes).to_hex()[..32]);
        let brotli = compressible(content_type)
            .then(|| match precompressed {
                Some(br) if decompresses_to(&br, &bytes) => br,
                _ => brotli_compress(&bytes),
            })
            .filter(|b| b.len() < bytes.len());
        Asset { content_type, bytes, brotli, etag }
    }
}

/// Whether `compressed` is a brotli stream of exactly `original` (read no further than
/// one byte past its length, so a bomb costs nothing).
fn decompresses_to(compressed: &[u8], original: &[u8]) -> bool {
    use std::io::Read as _;
    let mut back = Vec::with_capacity(original.len() + 1);
    let limit = original.len() as u64 + 1;
    match brotli::Decompressor::new(compressed, 4096).take(limit).read_to_end(&mut back) {
        Ok(_) => back == original,
        Err(_) => false,
    }
}

fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.contains("javascript")
        || content_type.contains("wasm")
        || content_type.contains("svg")
        || content_type.contains("json")
}

/// Brotli at maximum quality: done once per asset, at load. The window is the smallest
/// that holds the whole file: the compressor's tables grow with the window (a 4 MiB
/// window, for a theme's few kilobytes of CSS, took 57 MB of memory at start-up, kept by
/// the allocator long after), and a file inside its window compresses the same.
pub fn brotli_compress(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, window_bits(bytes.len()));
        w.write_all(bytes).expect("writing to memory");
    }
    out
}

/// log2 of the smallest brotli window that holds `len` bytes, from brotli's least (10
/// bits) to the 4 MiB used before (22).
fn window_bits(len: usize) -> u32 {
    (usize::BITS - len.saturating_sub(1).leading_zeros()).clamp(10, 22)
}

/// Content type by file extension, for files served from folders.
pub fn content_type_for(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).as_deref() {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_and_compression() {
        let text = "body { color: red; }\n".repeat(100).into_bytes();
        let a = Asset::new("text/css; charset=utf-8", text.clone());
        assert!(a.brotli.as_ref().unwrap().len() < text.len() / 10);
        assert_eq!(a.etag, Asset::new("text/css", text).etag);
        assert!(Asset::new("image/png", vec![1, 2, 3]).brotli.is_none());
        assert_eq!(content_type_for("a/b/passway_bg.wasm"), "application/wasm");
    }

    #[test]
    fn the_window_holds_the_file_and_no_more() {
        assert_eq!(window_bits(0), 10);
        assert_eq!(window_bits(1024), 10);
        assert_eq!(window_bits(1025), 11);
        assert_eq!(window_bits(400_000), 19);
        assert_eq!(window_bits(1 << 22), 22);
        assert_eq!(window_bits(50 << 20), 22);
    }

    #[test]
    fn a_precompressed_copy_is_used_only_when_it_is_the_file() {
        let text = "body { color: red; }\n".repeat(100).into_bytes();
        let css = "text/css; charset=utf-8";
        // A copy at a lower quality than the server's: kept, so it was not remade.
        let mut fast = vec![];
        std::io::Write::write_all(&mut brotli::CompressorWriter::new(&mut fast, 4096, 1, 10), &text).unwrap();
        assert_ne!(fast, brotli_compress(&text));
        assert_eq!(Asset::with_precompressed(css, text.clone(), Some(fast.clone())).brotli, Some(fast));
        // A copy of another file (a stale build), a truncated one or noise: remade.
        let stale = brotli_compress(b"body { color: blue; }\n");
        let truncated = brotli_compress(&text)[..10].to_vec();
        for bad in [stale, truncated, b"not brotli".to_vec(), vec![]] {
            assert_eq!(Asset::with_precompressed(css, text.clone(), Some(bad)).brotli, Some(brotli_compress(&text)));
        }
        // A copy of the file followed by more: not the file either.
        let longer = brotli_compress(&[&text[..], b"x"].concat());
        assert!(!decompresses_to(&longer, &text));
    }

    #[test]
    fn what_is_compressed_decompresses_to_the_file() {
        let text: Vec<u8> = (0..300_000u32).flat_map(|i| format!("{} ", i % 977).into_bytes()).collect();
        let compressed = brotli_compress(&text);
        assert!(compressed.len() < text.len() / 4);
        let mut back = vec![];
        std::io::Read::read_to_end(&mut brotli::Decompressor::new(&compressed[..], 4096), &mut back).unwrap();
        assert_eq!(back, text);
    }
}
