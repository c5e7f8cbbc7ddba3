//! JWT/JWS parsing and verification against the published keys (ES256 and RS256):
//! any token is refused or verified, never a panic, and only this server's signatures
//! verify.

use std::sync::LazyLock;
use std::time::Duration;

use passway_server::config::SigningAlg;
use passway_server::crypto::Sealer;
use passway_server::engine::Timestamp;
use passway_server::oidc::keys::{KeySet, generate};

const NOW: Timestamp = Timestamp(1_800_000_000_000);

static KEYS: LazyLock<KeySet> = LazyLock::new(|| {
    let sealer = Sealer::from_master(&[5; 32]);
    let stored = [
        generate(SigningAlg::Es256, &sealer, Timestamp(0), Timestamp(0)),
        generate(SigningAlg::Rs256, &sealer, Timestamp(0), Timestamp(0)),
    ];
    KeySet::open(&stored, &sealer, Duration::from_secs(3600)).expect("fresh keys open")
});

/// One input: returns normally or panics (a finding).
pub fn check(data: &[u8]) {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let _ = passway_server::oidc::jwt::split(token);
    if KEYS.verify(token, NOW).is_some() {
        // Only a token this key set signed can verify: the fuzzer cannot forge one.
        panic!("a forged token verified: {token}");
    }
}
