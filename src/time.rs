//! Timestamps: the ISO 8601 strings registries send, and durations users type.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `secs` since the epoch as JavaScript's `toISOString` writes it.
pub fn format_iso8601(secs: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// Now as `YYYY-MM-DDTHH:MM:SS.000Z`, as JavaScript's `toISOString`.
pub fn now_iso8601() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format_iso8601(secs)
}

/// The current time, for judging expiry and age. Builds with the test
/// hooks read `RTOK_TEST_NOW` (an ISO 8601 time) first, so that snapshots
/// of "expires in 3 days" are the same on every run; release builds never
/// look at it.
pub fn now() -> SystemTime {
    #[cfg(feature = "test-hooks")]
    if let Some(fixed) = std::env::var("RTOK_TEST_NOW").ok().and_then(|t| parse(&t)) {
        return fixed;
    }
    SystemTime::now()
}

/// `time` as JavaScript's `toISOString` writes it.
pub fn to_iso8601(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

/// Reads an RFC 3339 / ISO 8601 timestamp (`2024-01-02T03:04:05.678Z`, or a
/// bare date `2024-01-02`, taken as midnight UTC).
pub fn parse(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    if text.len() == 10 {
        return humantime::parse_rfc3339_weak(&format!("{text}T00:00:00")).ok();
    }
    humantime::parse_rfc3339_weak(text.trim_end_matches('Z'))
        .ok()
        .or_else(|| humantime::parse_rfc3339(text).ok())
}

/// The `YYYY-MM-DD` part of a timestamp, for tables.
pub fn date(text: &str) -> String {
    match parse(text) {
        Some(time) => humantime::format_rfc3339(time).to_string()[..10].to_string(),
        None => text.chars().take(10).collect(),
    }
}

/// A duration such as `90d`, `12h`, `2w` or `1y 6months`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|err| format!("`{text}` is not a duration like `30d` or `12h` ({err})"))
}

/// An ISO 8601 time that may end in a UTC offset (`+00:00`, `-07:00`), as
/// the AWS CLI writes them; else as [`parse`].
pub fn parse_with_offset(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let time_part = text.find('T').map_or(0, |t| t + 1);
    let sign_at = text[time_part..]
        .rfind(['+', '-'])
        .map(|i| i + time_part)
        .filter(|_| time_part > 0);
    let Some(at) = sign_at else {
        return parse(text);
    };
    let (base, offset) = text.split_at(at);
    let sign = if offset.starts_with('-') { -1i64 } else { 1 };
    let digits: String = offset[1..].chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 4 {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = digits[2..].parse().ok()?;
    let local = humantime::parse_rfc3339_weak(base).ok()?;
    let shift = Duration::from_secs(u64::try_from(hours * 3600 + minutes * 60).ok()?);
    // `12:00-07:00` is 19:00 UTC.
    if sign < 0 {
        local.checked_add(shift)
    } else {
        local.checked_sub(shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_javascript() {
        assert_eq!(format_iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_iso8601(1_700_000_000), "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn parses_registry_timestamps() {
        let t = parse("2023-11-14T22:13:20.000Z").expect("parse");
        assert_eq!(t, UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        assert!(parse("2023-11-14T22:13:20Z").is_some());
        assert!(parse("2023-11-14").is_some());
        assert!(parse("yesterday").is_none());
        assert_eq!(date("2023-11-14T22:13:20.000Z"), "2023-11-14");
        assert_eq!(date("garbage-value"), "garbage-va");
    }

    #[test]
    fn offsets_are_applied() {
        let utc = parse("2023-11-14T22:13:20Z").expect("utc");
        assert_eq!(parse_with_offset("2023-11-14T22:13:20+00:00"), Some(utc));
        assert_eq!(parse_with_offset("2023-11-14T15:13:20-07:00"), Some(utc));
        assert_eq!(
            parse_with_offset("2023-11-15T00:13:20.000+02:00"),
            Some(utc)
        );
        assert_eq!(parse_with_offset("2023-11-14T22:13:20.000Z"), Some(utc));
        assert_eq!(parse_with_offset("2023-11-14"), parse("2023-11-14"));
        assert!(parse_with_offset("2023-11-14T22:13:20+7").is_none());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert!(parse_duration("soon").is_err());
    }
}
