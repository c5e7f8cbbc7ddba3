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

/// An identifier that sorts by when it was made: `unix_ms` (milliseconds since the Unix
/// epoch) in 12 hex digits, then 10 random bytes in base64url. For rows found by id and
/// made on every sign-in (flows, sessions, token families): a new id lands on the last
/// page of its index, which one group commit writes once for all its new rows, where a
/// random id lands on a page of its own. It tells when the row was made, which none of
/// these rows hides. Not a secret: secrets are [`random_token`]s.
pub fn ordered_id(unix_ms: i64, rng: &mut dyn Entropy) -> String {
    let mut random = [0u8; 10];
    rng.fill(&mut random);
    format!("{:012x}{}", unix_ms.max(0), super::b64url(&random))
}

/// A random (version 4) UUID in its usual text form.
pub fn uuid_v4(rng: &mut dyn Entropy) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    uuid_text(b, 4)
}

/// A time-ordered (version 7, RFC 9562) UUID: 48 bits of `unix_ms`, then 74 random
/// bits. System log events get these, so that each new event's entry in the index of
/// event IDs goes at its end (see [`ordered_id`]).
pub fn uuid_v7(unix_ms: i64, rng: &mut dyn Entropy) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b[6..]);
    b[..6].copy_from_slice(&(unix_ms.max(0) as u64).to_be_bytes()[2..]);
    uuid_text(b, 7)
}

/// `b` with its version and variant bits set, in the usual 8-4-4-4-12 hex form.
fn uuid_text(mut b: [u8; 16], version: u8) -> String {
    b[6] = (b[6] & 0x0f) | (version << 4);
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

#[cfg(test)]
mod tests {
    use super::testing::CountingEntropy;
    use super::*;

    #[test]
    fn ordered_ids_sort_by_time_and_differ_within_a_millisecond() {
        let mut rng = CountingEntropy(0);
        let ids = [
            ordered_id(1_700_000_000_000, &mut rng),
            ordered_id(1_700_000_000_000, &mut rng),
            ordered_id(1_700_000_000_001, &mut rng),
            ordered_id(1_800_000_000_000, &mut rng),
        ];
        assert_ne!(ids[0], ids[1]);
        assert!(ids[0] < ids[2] && ids[1] < ids[2], "{ids:?}");
        assert!(ids[2] < ids[3], "{ids:?}");
        assert!(ids.iter().all(|id| id.len() == 26), "{ids:?}");
    }

    #[test]
    fn uuid_v7_carries_its_time_version_and_variant() {
        let mut rng = CountingEntropy(0);
        let early = uuid_v7(0x0123_4567_89ab, &mut rng);
        let late = uuid_v7(0x0123_4567_89ac, &mut rng);
        assert!(early.starts_with("01234567-89ab-7"), "{early}");
        assert!(matches!(early.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{early}");
        assert!(early < late);
        let v4 = uuid_v4(&mut rng);
        assert_eq!(v4.as_bytes()[14], b'4', "{v4}");
    }
}
