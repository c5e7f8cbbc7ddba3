//! The short pass: seeds, the local corpus and deterministic mutations of the seeds,
//! through each target's `check`.

use std::path::{Path, PathBuf};

/// Mutations per seed: enough to walk the error paths next to every seed's happy path.
const MUTANTS_PER_SEED: usize = 300;
/// A grown corpus can hold tens of thousands of inputs; the test replays the first ones.
const CORPUS_LIMIT: usize = 2_000;

/// Runs every input for `target` through `check`; a panic names the input that caused it.
fn replay(target: &str, check: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = files(&root.join("seeds").join(target), usize::MAX);
    assert!(!seeds.is_empty(), "no seeds for {target}");
    let corpus = files(&root.join("../../target/fuzz-corpus").join(target), CORPUS_LIMIT);
    let mut rng = SplitMix(target.bytes().fold(0x9E37_79B9, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))));
    let mut inputs: Vec<(String, Vec<u8>)> = vec![];
    for (path, bytes) in seeds.iter().chain(&corpus) {
        inputs.push((path.display().to_string(), bytes.clone()));
    }
    for (path, seed) in &seeds {
        for n in 0..MUTANTS_PER_SEED {
            let other = &seeds[rng.below(seeds.len())].1;
            inputs.push((format!("{} mutant {n}", path.display()), mutate(seed, other, &mut rng)));
        }
    }
    for (name, input) in &inputs {
        let outcome = std::panic::catch_unwind(|| check(input));
        if outcome.is_err() {
            panic!("{target}: {name} panicked; input: {:?}", String::from_utf8_lossy(input));
        }
    }
}

fn files(dir: &Path, limit: usize) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return vec![] };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).filter(|p| p.is_file()).collect();
    paths.sort();
    paths.truncate(limit);
    paths.into_iter().map(|p| std::fs::read(&p).map(|b| (p.clone(), b)).expect("a fuzz input reads")).collect()
}

/// Bytes that change how the targets split and parse their input.
const INTERESTING: [&[u8]; 14] = [
    b"\0",
    b"\t",
    b"\n",
    b"{",
    b"}",
    b"\"",
    b"\\",
    b"[",
    b"=",
    b".",
    b"-1",
    b"99999999999999999999",
    b"\xff",
    "é".as_bytes(),
];

/// One to four edits of `seed`: flip, delete, duplicate, insert, or splice with `other`.
fn mutate(seed: &[u8], other: &[u8], rng: &mut SplitMix) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if at < out.len() => out[at] ^= 1 << rng.below(8),
            1 => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            2 => {
                let end = (at + rng.below(32)).min(out.len());
                let copy = out[at..end].to_vec();
                out.splice(at..at, copy);
            }
            3 | 4 => {
                let bytes = INTERESTING[rng.below(INTERESTING.len())];
                out.splice(at..at, bytes.iter().copied());
            }
            _ => {
                let from = rng.below(other.len() + 1);
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
        }
    }
    out
}

/// A small deterministic generator: the same mutants on every run and machine.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough below `n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn flow_steps() {
    replay("flow_steps", crate::flow_steps::check);
}

#[test]
fn config_file() {
    replay("config_file", crate::config_file::check);
}

#[test]
fn jws() {
    replay("jws", crate::jws::check);
}

#[test]
fn authorize_params() {
    replay("authorize_params", crate::authorize_params::check);
}

#[test]
fn theme_file() {
    replay("theme_file", crate::theme_file::check);
}

/// The replay can fail: a target that panics on some mutant is caught and named.
#[test]
#[should_panic(expected = "mutant")]
fn a_panicking_target_fails_the_replay() {
    replay("jws", |data| assert!(!data.contains(&b'\0'), "found a NUL"));
}
