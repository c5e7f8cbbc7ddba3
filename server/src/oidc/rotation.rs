//! Signing-key rotation: the pure [`plan`] decides, [`ensure`] and [`rotate`] write.
//!
//! A successor is created `publish_ahead` before it signs, so relying parties that
//! cache the JWKS see it first; its predecessor retires at that instant and stays
//! published while the tokens it signed live (see [`super::keys`]).

use std::time::Duration;

use crate::config::SigningAlg;
use crate::crypto::Sealer;
use crate::engine::Timestamp;
use crate::store::{Store, StoredKey};

use super::keys::{self, KeyError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Create { alg: SigningAlg, activates_at: Timestamp },
    Retire { kid: String, at: Timestamp },
}

/// When keys rotate.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub every: Duration,
    pub publish_ahead: Duration,
}

/// What to change so that each algorithm in `algs` has a signing key now and, once the
/// current one is due within `publish_ahead`, a published successor.
pub fn plan(keys: &[StoredKey], algs: &[SigningAlg], now: Timestamp, schedule: Schedule) -> Vec<Change> {
    let mut changes = vec![];
    for &alg in algs {
        let of_alg: Vec<&StoredKey> = keys.iter().filter(|k| k.alg == alg.name()).collect();
        let Some(current) = of_alg.iter().filter(|k| k.activates_at <= now).max_by_key(|k| k.activates_at) else {
            if of_alg.is_empty() {
                // The first key signs at once: no relying party can have cached a JWKS.
                changes.push(Change::Create { alg, activates_at: now });
            }
            continue;
        };
        if of_alg.iter().any(|k| k.activates_at > now) {
            continue; // a successor is already published
        }
        let due = current.activates_at.plus(schedule.every);
        let earliest = now.plus(schedule.publish_ahead);
        if due <= earliest {
            let at = due.max(earliest);
            changes.push(Change::Create { alg, activates_at: at });
            changes.push(Change::Retire { kid: current.kid.clone(), at });
        }
    }
    changes
}

/// A rotation asked for now (`passway keys rotate`): each algorithm gets a successor
/// signing after `publish_ahead`, unless one is already waiting.
pub fn plan_now(keys: &[StoredKey], algs: &[SigningAlg], now: Timestamp, publish_ahead: Duration) -> Vec<Change> {
    plan(keys, algs, now, Schedule { every: Duration::ZERO, publish_ahead })
}

/// Applies `changes`; returns the kids created.
pub async fn apply(
    store: &dyn Store,
    sealer: &Sealer,
    changes: &[Change],
    now: Timestamp,
) -> Result<Vec<String>, KeyError> {
    let mut created = vec![];
    for change in changes {
        match change {
            Change::Create { alg, activates_at } => {
                let key = keys::generate(*alg, sealer, now, *activates_at);
                store.insert_signing_key(&key).await?;
                created.push(key.kid);
            }
            Change::Retire { kid, at } => store.retire_signing_key(kid, *at).await?,
        }
    }
    Ok(created)
}

/// Brings the stored keys up to the schedule; returns the kids created.
pub async fn ensure(
    store: &dyn Store,
    sealer: &Sealer,
    algs: &[SigningAlg],
    now: Timestamp,
    schedule: Schedule,
) -> Result<Vec<String>, KeyError> {
    let stored = store.signing_keys().await?;
    let mut created = vec![];
    for change in plan(&stored, algs, now, schedule) {
        match change {
            Change::Create { alg, activates_at } => {
                let key = keys::generate(alg, sealer, now, activates_at);
                let known = stored.iter().filter(|k| k.alg == alg.name()).count() as u64;
                // Another instance made this key first (they start at once): keep theirs.
                if store.insert_planned_signing_key(&key, known).await? {
                    created.push(key.kid);
                }
            }
            Change::Retire { kid, at } => store.retire_signing_key(&kid, at).await?,
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86400);
    const SCHEDULE: Schedule = Schedule { every: Duration::from_secs(90 * 86400), publish_ahead: DAY };

    fn key(kid: &str, alg: SigningAlg, activates_day: u64) -> StoredKey {
        StoredKey {
            kid: kid.into(),
            alg: alg.name().into(),
            created_at: Timestamp(0),
            sealed_private: vec![],
            public_jwk: String::new(),
            activates_at: day(activates_day),
            retires_at: None,
        }
    }

    fn day(n: u64) -> Timestamp {
        Timestamp(0).plus(DAY * n as u32)
    }

    fn check(keys: &[StoredKey], algs: &[SigningAlg], today: u64, expected: &[Change]) {
        assert_eq!(plan(keys, algs, day(today), SCHEDULE), expected);
    }

    #[test]
    fn schedule() {
        use SigningAlg::*;
        let retire = |kid: &str, d| Change::Retire { kid: kid.into(), at: day(d) };
        let create = |alg, d| Change::Create { alg, activates_at: day(d) };
        // No key: one signing at once, per algorithm in use.
        check(&[], &[Es256, Rs256], 3, &[create(Es256, 3), create(Rs256, 3)]);
        // Not due yet.
        check(&[key("a", Es256, 0)], &[Es256], 88, &[]);
        // Due in one day: the successor is published now, signs on day 90.
        check(&[key("a", Es256, 0)], &[Es256], 89, &[create(Es256, 90), retire("a", 90)]);
        // Overdue (the server was down): it still gets a full day of publication.
        check(&[key("a", Es256, 0)], &[Es256], 200, &[create(Es256, 201), retire("a", 201)]);
        // A successor already waits.
        check(&[key("a", Es256, 0), key("b", Es256, 90)], &[Es256], 89, &[]);
        // Algorithms rotate independently; an unused one is left alone.
        check(&[key("a", Es256, 0), key("r", Rs256, 50)], &[Es256], 89, &[create(Es256, 90), retire("a", 90)]);
        // Asked for now.
        assert_eq!(plan_now(&[key("a", Es256, 0)], &[Es256], day(5), DAY), [create(Es256, 6), retire("a", 6)]);
        assert_eq!(plan_now(&[key("a", Es256, 0), key("b", Es256, 6)], &[Es256], day(5), DAY), []);
    }
}
