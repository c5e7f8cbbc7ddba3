use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;

/// Encrypts secrets at rest (signing keys) with AES-256-GCM under a key derived from
/// the master key. Output: nonce ‖ ciphertext ‖ tag.
pub struct Sealer {
    key: LessSafeKey,
}

#[derive(Debug, thiserror::Error)]
#[error("sealed data could not be opened: wrong master key or corrupted data")]
pub struct SealError;

impl Sealer {
    pub fn from_master(master: &[u8; 32]) -> Sealer {
        let root = hmac::Key::new(hmac::HMAC_SHA256, master);
        let derived = hmac::sign(&root, b"passway/v1/seal");
        let key = UnboundKey::new(&AES_256_GCM, derived.as_ref()).expect("32-byte key");
        Sealer { key: LessSafeKey::new(key) }
    }

    /// `context` binds the ciphertext to its purpose (e.g. the key id).
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("system random source");
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut buf)
            .expect("AES-GCM seal");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        out
    }

    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError)?;
        let mut buf = body.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(context), &mut buf).map_err(|_| SealError)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_refuse_tampering() {
        let s = Sealer::from_master(&[1; 32]);
        let sealed = s.seal(b"secret", b"kid-1");
        assert_eq!(s.open(&sealed, b"kid-1").unwrap(), b"secret");
        assert!(s.open(&sealed, b"kid-2").is_err(), "context is bound");
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(s.open(&bad, b"kid-1").is_err());
        assert!(Sealer::from_master(&[2; 32]).open(&sealed, b"kid-1").is_err());
    }
}
