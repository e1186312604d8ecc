//! Timestamps and ids.

use std::sync::Mutex;
use std::time::SystemTime;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-24T13:48:56.123Z`.
pub fn iso(at: SystemTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from(at)
        .format(&format)
        .expect("a UTC time formats")
}

/// `YYYY-MM` of a time: the month bucket of the global article list.
pub fn month(at: SystemTime) -> String {
    let at = OffsetDateTime::from(at);
    format!("{:04}-{:02}", at.year(), u8::from(at.month()))
}

/// Parses a timestamp written by [`iso`].
pub fn parse_iso(value: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(value, &Rfc3339).ok().map(Into::into)
}

/// A new ULID: unique, and ordered by creation time even within one millisecond
/// of one process, which is what the article lists sort by.
pub fn new_id(at: SystemTime) -> ulid::Ulid {
    static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);
    let mut generator = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    generator
        .get_or_insert_with(ulid::Generator::new)
        .generate_from_datetime(at)
        .unwrap_or_else(|_| ulid::Ulid::from_datetime(at))
}

/// Seconds since 1970 (token claims, TTL attributes, counter windows).
pub fn epoch_secs(at: SystemTime) -> u64 {
    at.duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Now, as a time and as stored.
pub fn now() -> (SystemTime, String) {
    let at = SystemTime::now();
    (at, iso(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn formats_with_milliseconds() {
        let at = UNIX_EPOCH + Duration::from_millis(1_764_000_000_123);
        assert_eq!(iso(at), "2025-11-24T16:00:00.123Z");
        assert_eq!(month(at), "2025-11");
        assert_eq!(parse_iso(&iso(at)), Some(at));
    }

    #[test]
    fn ids_increase_within_one_millisecond() {
        let at = SystemTime::now();
        let a = new_id(at);
        let b = new_id(at);
        assert!(b > a);
        assert!(b.to_string() > a.to_string());
    }
}
