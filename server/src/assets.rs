//! Static assets held in memory, each with a strong ETag and a brotli copy made once
//! at load, so serving one is a lookup and a memcpy.

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
        let etag = format!("\"{}\"", &sha256(&bytes).to_hex()[..32]);
        let brotli = compressible(content_type).then(|| brotli_compress(&bytes)).filter(|b| b.len() < bytes.len());
        Asset { content_type, bytes, brotli, etag }
    }
}

fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.contains("javascript")
        || content_type.contains("wasm")
        || content_type.contains("svg")
        || content_type.contains("json")
}

/// Brotli at maximum quality: done once per asset, at load.
pub fn brotli_compress(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        w.write_all(bytes).expect("writing to memory");
    }
    out
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
}
