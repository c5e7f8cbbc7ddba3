//! Cryptographic building blocks, all computation and no IO (randomness comes in
//! through [`Entropy`], so the engine can be replayed with a seeded source).
//!
//! Every secret Passway hands out (flow handle, magic-link token, one-time code,
//! authorization code, refresh token) is stored only as a digest from here, and
//! compared in constant time.

pub(crate) mod entropy;
mod keyring;
mod seal;

pub use entropy::{Entropy, SystemEntropy, ordered_id, random_token, uuid_v4, uuid_v7};
pub use keyring::{Digest, Keyring, sha256};
pub use seal::{SealError, Sealer};

/// Base64url without padding, the encoding of every token on the wire.
pub fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()
}
