use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// An instant as milliseconds since the Unix epoch. The engine never reads a clock:
/// the instant of each step is handed to it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_unix_seconds(s: i64) -> Timestamp {
        Timestamp(s * 1000)
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(d.as_millis() as i64))
    }

    /// Time from `self` until `later`, zero if `later` is not after.
    pub fn until(self, later: Timestamp) -> Duration {
        Duration::from_millis(later.0.saturating_sub(self.0).max(0) as u64)
    }

    /// RFC 3339 in UTC with second precision, e.g. `2026-11-24T10:00:00Z`.
    pub fn rfc3339(self) -> String {
        let t =
            time::OffsetDateTime::from_unix_timestamp(self.unix_seconds()).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
    }

    /// RFC 3339 in UTC with milliseconds, as the system log's `published`.
    pub fn rfc3339_millis(self) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let format =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        t.format(&format).unwrap_or_default()
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_measures() {
        let t = Timestamp::from_unix_seconds(1_700_000_000);
        assert_eq!(t.rfc3339(), "2023-11-14T22:13:20Z");
        let later = t.plus(Duration::from_secs(90));
        assert_eq!(t.until(later), Duration::from_secs(90));
        assert_eq!(later.until(t), Duration::ZERO);
    }
}
