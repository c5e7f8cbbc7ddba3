//! Reading the system log a page at a time, for `GET /api/v1/logs` and `passway logs`.
//!
//! Pages follow the log's sequence (commit order), so a cursor (`after`, the last
//! sequence number seen) never skips or repeats an event. Filters and keywords are
//! applied to the events read, in memory: a page reads at most [`SCAN`] events, and
//! when that is not enough to fill it, it ends early with a cursor to go on from.
//! Without `until`, ascending pages always have a next cursor: polling it returns the
//! events that arrived since (Okta's polling requests). Polling reads only events
//! published more than [`POLL_LAG`] ago: an event's sequence number is taken before
//! its commit, so one that commits a moment after a later one would otherwise be
//! passed by the cursor and never seen.

use serde_json::Value;

use super::filter::Filter;
use crate::engine::Timestamp;
use crate::store::{EventRange, Store, StoreError};

/// At most this many events are read for one page.
pub const SCAN: usize = 10_000;
const BATCH: u32 = 500;
pub const MAX_LIMIT: u32 = 1000;
pub const DEFAULT_LIMIT: u32 = 100;
/// How far behind now polling reads (see the module doc).
pub const POLL_LAG: std::time::Duration = std::time::Duration::from_secs(2);
/// Without `since` or a cursor, a query starts this long before `until` (or now).
pub const DEFAULT_WINDOW: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// The cursor: the sequence number of the last event of the previous page.
    pub after: Option<i64>,
    pub limit: u32,
    pub descending: bool,
    pub filter: Option<Filter>,
    /// Keywords: an event matches when its values contain every one (ignoring case).
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Page {
    /// (sequence number, LogEvent JSON), in the query's order.
    pub events: Vec<(i64, String)>,
    /// Where the next page starts, when there may be one (always, when polling).
    pub next: Option<i64>,
    /// Where the query started when it named no `since` (the default window).
    pub since: Option<Timestamp>,
}

impl LogQuery {
    pub fn polling(&self) -> bool {
        !self.descending && self.until.is_none()
    }

    fn matches(&self, body: &str) -> bool {
        if self.keywords.is_empty() && self.filter.is_none() {
            return true;
        }
        let Ok(event) = serde_json::from_str::<Value>(body) else { return false };
        if !self.keywords.is_empty() {
            let mut text = String::new();
            values(&event, &mut text);
            if !self.keywords.iter().all(|k| text.contains(&k.to_lowercase())) {
                return false;
            }
        }
        self.filter.as_ref().is_none_or(|filter| filter.matches(&event))
    }
}

/// The event's values (not its field names), lowercased, one per line: what keywords
/// are looked for in.
fn values(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(&s.to_lowercase());
            out.push('\n');
        }
        Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|i| values(i, out)),
        Value::Object(fields) => fields.values().for_each(|f| values(f, out)),
        Value::Bool(_) | Value::Null => {}
    }
}

pub async fn page(store: &dyn Store, q: &LogQuery, now: Timestamp) -> Result<Page, StoreError> {
    let limit = q.limit.clamp(1, MAX_LIMIT) as usize;
    let since = q.since.or_else(|| {
        q.after.is_none().then(|| {
            let end = q.until.unwrap_or(now);
            Timestamp(end.0 - DEFAULT_WINDOW.as_millis() as i64)
        })
    });
    let until = if q.polling() { Some(Timestamp(now.0 - POLL_LAG.as_millis() as i64)) } else { q.until };
    let mut cursor = q.after;
    let mut events = vec![];
    let mut scanned = 0;
    let mut exhausted = false;
    while events.len() < limit && scanned < SCAN {
        let range = EventRange { after: cursor, since, until, descending: q.descending, limit: BATCH };
        let batch = store.event_range(&range).await?;
        let full = batch.len() == BATCH as usize;
        for (seq, event) in batch {
            scanned += 1;
            cursor = Some(seq);
            if q.matches(&event.body) {
                events.push((seq, event.body));
                if events.len() == limit {
                    break;
                }
            }
        }
        if !full && events.len() < limit {
            exhausted = true;
            break;
        }
    }
    let next = if q.polling() || !exhausted { cursor.or(q.after) } else { None };
    Ok(Page { events, next, since })
}

/// `1h`, `30m`, `15s`, `2d` before `now`, or an RFC 3339 instant.
pub fn parse_instant(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    if let Ok(t) = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Ok(Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64));
    }
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: i64 =
        number.parse().map_err(|_| format!("{text:?} is neither an RFC 3339 instant nor a duration like 1h"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: a duration ends in s, m, h or d")),
    };
    Ok(Timestamp(now.0 - n.saturating_mul(seconds * 1000)))
}
