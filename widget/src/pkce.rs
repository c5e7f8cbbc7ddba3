//! PKCE (S256), `state` and `nonce`, with the browser's crypto.

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

fn crypto() -> Result<web_sys::Crypto, JsValue> {
    web_sys::window().ok_or("no window")?.crypto()
}

/// `bytes` random bytes, base64url-encoded.
pub fn random(bytes: usize) -> Result<String, JsValue> {
    let mut buf = vec![0u8; bytes];
    crypto()?.get_random_values_with_u8_array(&mut buf)?;
    Ok(b64url(&buf))
}

/// base64url(SHA-256(verifier)).
pub async fn challenge(verifier: &str) -> Result<String, JsValue> {
    let digest = crypto()?.subtle().digest_with_str_and_u8_array("SHA-256", verifier.as_bytes())?;
    let buffer = JsFuture::from(digest).await?;
    Ok(b64url(&js_sys::Uint8Array::new(&buffer).to_vec()))
}

/// Base64url without padding (RFC 4648 §5).
pub fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64url() {
        for (input, expected) in [
            (&b""[..], ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (&[0xfb, 0xff][..], "-_8"),
        ] {
            assert_eq!(super::b64url(input), expected);
        }
    }
}
