use std::fmt;

use aws_lc_rs::{digest, hmac};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// A 256-bit digest (SHA-256 or HMAC-SHA-256), serialised as hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// Constant-time equality: digests of secrets are compared with this only.
    pub fn ct_eq(&self, other: &Digest) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// Whether it equals any of `known` (secrets being rotated), comparing with each in
    /// constant time, and with all of them whatever matched.
    pub fn matches_any(&self, known: &[Digest]) -> bool {
        known.iter().fold(false, |ok, k| k.ct_eq(self) | ok)
    }

    pub fn to_hex(self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    pub fn from_hex(hex: &str) -> Option<Digest> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Digest(out))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({}…)", &self.to_hex()[..12])
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

/// SHA-256: enough for high-entropy secrets (tokens of 128 bits and more).
pub fn sha256(data: &[u8]) -> Digest {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    Digest(out)
}

/// The server's keyed hash, derived from the master key. Low-entropy secrets (six
/// digit codes) are stored as a MAC under it, so a stolen database alone cannot be
/// brute-forced offline.
#[derive(Clone)]
pub struct Keyring {
    mac: hmac::Key,
}

impl Keyring {
    /// Derives purpose-specific keys from the 32-byte master key.
    pub fn from_master(master: &[u8; 32]) -> Keyring {
        let root = hmac::Key::new(hmac::HMAC_SHA256, master);
        let derived = hmac::sign(&root, b"passway/v1/mac");
        Keyring { mac: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()) }
    }

    /// HMAC-SHA-256 over the parts, each length-prefixed so that part boundaries
    /// cannot be shifted.
    pub fn mac(&self, parts: &[&[u8]]) -> Digest {
        let mut ctx = hmac::Context::with_key(&self.mac);
        for part in parts {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part);
        }
        let tag = ctx.sign();
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        Digest(out)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keyring(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_ct_eq() {
        let d = sha256(b"abc");
        assert_eq!(d.to_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(Digest::from_hex(&d.to_hex()), Some(d));
        assert!(d.ct_eq(&d));
        assert!(!d.ct_eq(&sha256(b"abd")));
        assert_eq!(Digest::from_hex("zz"), None);
    }

    #[test]
    fn mac_separates_parts() {
        let k = Keyring::from_master(&[7; 32]);
        assert_ne!(k.mac(&[b"ab", b"c"]), k.mac(&[b"a", b"bc"]));
        assert_eq!(k.mac(&[b"x"]), k.mac(&[b"x"]));
        assert_ne!(k.mac(&[b"x"]), Keyring::from_master(&[8; 32]).mac(&[b"x"]));
    }
}
