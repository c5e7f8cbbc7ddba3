/// A source of unpredictable bytes, handed to whatever needs randomness so that
/// tests can substitute a deterministic one.
pub trait Entropy {
    fn fill(&mut self, buf: &mut [u8]);
}

/// The operating system's CSPRNG (through aws-lc).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemEntropy;

impl Entropy for SystemEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        aws_lc_rs::rand::fill(buf).expect("the system random source failed");
    }
}

/// `bytes` random bytes as base64url: 32 bytes give a 256-bit bearer token.
pub fn random_token(rng: &mut dyn Entropy, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rng.fill(&mut buf);
    super::b64url(&buf)
}

/// A random (version 4) UUID in its usual text form.
pub fn uuid_v4(rng: &mut dyn Entropy) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

#[cfg(test)]
pub mod testing {
    use super::Entropy;

    /// Deterministic bytes for replayable tests (NOT random).
    #[derive(Debug, Clone)]
    pub struct CountingEntropy(pub u64);

    impl Entropy for CountingEntropy {
        fn fill(&mut self, buf: &mut [u8]) {
            for chunk in buf.chunks_mut(32) {
                self.0 += 1;
                let block = super::super::sha256(&self.0.to_le_bytes());
                chunk.copy_from_slice(&block.0[..chunk.len()]);
            }
        }
    }
}
