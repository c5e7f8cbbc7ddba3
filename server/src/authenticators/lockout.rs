//! Lockout of guessable answers (passwords, TOTP codes) after repeated failures.
//!
//! Failures are counted per *email address* and authenticator, not per account: an
//! address with no account locks exactly like one with an account, so the lockout
//! says nothing about who has signed up. The count lives in the store (one row per
//! address and authenticator, keyed by a MAC of the address), so it holds across
//! instances and restarts.
//!
//! No answer's verdict is told before its attempt is counted, so no more than
//! `attempts` answers in a row are ever checked, however many requests race, on
//! however many instances — checking first and counting after, apart, would let a
//! burst of concurrent guesses all be checked. Two ways, by what a check costs:
//! - *Reserved first* (passwords: tens of milliseconds of argon2id, maybe a hook): the
//!   store counts the attempt as a failure in one statement of its own, unless the
//!   address is locked, and the `attempts`-th in a row locks it; a right answer then
//!   clears the count (and the lock its reservation set).
//! - *Counted in the step's commit* (codes: an HMAC, microseconds): the shell reads the
//!   count ([`Lockout::reservation`]), the engine checks the answer, and the step's one
//!   commit counts it only if the count is still the one read
//!   ([`crate::store::CountedAttempt`]); if another attempt was counted meanwhile,
//!   nothing is written, nothing told, and the step runs again on the new count (its
//!   last try reserved first, so a race ends). One write per step instead of two.

use std::time::Duration;

use crate::crypto::{Digest, Keyring};
use crate::engine::Timestamp;

/// How many wrong answers in a row lock an authenticator, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub attempts: u32,
    pub duration: Duration,
}

impl Default for LockoutPolicy {
    /// OWASP: a handful of attempts, then minutes of lockout (not forever, which would
    /// let anyone lock anyone out for good).
    fn default() -> Self {
        LockoutPolicy { attempts: 10, duration: Duration::from_secs(15 * 60) }
    }
}

/// An address's record for one authenticator, as the store holds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lockout {
    /// Wrong answers since the last right one (or the last lockout).
    pub failures: u32,
    /// No answer is checked before this instant.
    pub locked_until: Option<Timestamp>,
}

impl Lockout {
    /// The instant the lockout ends, while it holds.
    pub fn until(&self, now: Timestamp) -> Option<Timestamp> {
        self.locked_until.filter(|t| now < *t)
    }

    /// What an attempt made now may do, given this count: be checked (and lock the
    /// address if it is the `limit`-th in a row, wrong), or not while locked.
    pub fn reservation(&self, limit: u32, now: Timestamp) -> Reservation {
        match self.until(now) {
            Some(until) => Reservation::Locked { until },
            None => Reservation::Granted { locks: self.failures + 1 >= limit },
        }
    }

    /// Minutes left, rounded up, for the person's message.
    pub fn minutes_left(&self, now: Timestamp) -> Option<u64> {
        self.until(now).map(|t| now.until(t).as_secs().div_ceil(60).max(1))
    }
}

/// What the store said to an attempt (see [`crate::store::Store::reserve_attempt`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reservation {
    /// No guessable answer in this step: nothing was reserved.
    #[default]
    None,
    /// Counted: the answer may be checked (a right one clears the count). `locks`: it
    /// was the last in a row; wrong, it locked the address.
    Granted { locks: bool },
    /// The address is locked: the answer is not checked.
    Locked { until: Timestamp },
}

impl Reservation {
    pub fn granted(&self) -> bool {
        matches!(self, Reservation::Granted { .. })
    }

    /// Minutes left of the lock, rounded up, for the person's message.
    pub fn minutes_locked(&self, now: Timestamp) -> Option<u64> {
        match self {
            Reservation::Locked { until } => Some(now.until(*until).as_secs().div_ceil(60).max(1)),
            _ => None,
        }
    }
}

/// The store's key for an address's lockouts: a MAC, so the table lists no addresses.
pub fn subject_key(keys: &Keyring, email: &str) -> Digest {
    keys.mac(&[b"lockout", email.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lockout_holds_until_its_end_and_counts_minutes_up() {
        let now = Timestamp::from_unix_seconds(1_000);
        let locked = Lockout { failures: 0, locked_until: Some(now.plus(Duration::from_secs(61))) };
        assert_eq!(locked.minutes_left(now), Some(2));
        assert_eq!(locked.minutes_left(now.plus(Duration::from_secs(60))), Some(1));
        assert_eq!(locked.minutes_left(now.plus(Duration::from_secs(61))), None);
        assert_eq!(Lockout::default().until(now), None);
    }

    #[test]
    fn a_count_read_says_what_the_next_attempt_may_do() {
        let now = Timestamp::from_unix_seconds(1_000);
        let check = |failures, locked_until: Option<Timestamp>, limit, expect| {
            assert_eq!(Lockout { failures, locked_until }.reservation(limit, now), expect, "{failures} {limit}");
        };
        check(0, None, 3, Reservation::Granted { locks: false });
        check(1, None, 3, Reservation::Granted { locks: false });
        check(2, None, 3, Reservation::Granted { locks: true });
        check(0, None, 1, Reservation::Granted { locks: true });
        let later = now.plus(Duration::from_secs(60));
        check(0, Some(later), 3, Reservation::Locked { until: later });
        check(0, Some(now), 3, Reservation::Granted { locks: false });
    }

    #[test]
    fn keys_differ_per_address_and_master_key() {
        let k = Keyring::from_master(&[1; 32]);
        assert_ne!(subject_key(&k, "a@example.com"), subject_key(&k, "b@example.com"));
        assert_ne!(subject_key(&k, "a@example.com"), subject_key(&Keyring::from_master(&[2; 32]), "a@example.com"));
    }
}
