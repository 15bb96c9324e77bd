//! Choosing tokens: expiry, age, last use, read-only or publish, name globs,
//! and the orders `token list` sorts by.

use std::cmp::Ordering;
use std::time::{Duration, SystemTime};

use crate::registry::TokenRecord;
use crate::time;

/// Whether the token has expired by `now`.
pub(crate) fn is_expired(token: &TokenRecord, now: SystemTime) -> bool {
    expires_at(token).is_some_and(|expiry| expiry <= now)
}

/// When the token expires, if the registry says.
pub(crate) fn expires_at(token: &TokenRecord) -> Option<SystemTime> {
    token.expiry().and_then(time::parse)
}

/// How long until the token expires, if it has not yet and the registry says.
pub(crate) fn time_left(token: &TokenRecord, now: SystemTime) -> Option<Duration> {
    expires_at(token)?.duration_since(now).ok()
}

/// When the token was last used, or created if the registry reports it as
/// never used; `None` when the registry does not say.
pub(crate) fn idle_since(token: &TokenRecord) -> Option<SystemTime> {
    if token.never_used() {
        token.created().and_then(time::parse)
    } else {
        token.last_used().and_then(time::parse)
    }
}

/// The filters of `token prune`: a token is selected when it matches every
/// one given.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    pub expired: bool,
    pub older_than: Option<Duration>,
    pub unused_for: Option<Duration>,
    pub read_only: bool,
    pub publish: bool,
    pub name: Option<String>,
}

impl Selection {
    pub(crate) fn selects(&self, token: &TokenRecord, now: SystemTime) -> bool {
        if self.expired && !is_expired(token, now) {
            return false;
        }
        if let Some(age) = self.older_than {
            let created = token.created().and_then(time::parse);
            if !older(created, now, age) {
                return false;
            }
        }
        // No field at all means the registry does not say: not selected.
        if let Some(idle) = self.unused_for
            && !older(idle_since(token), now, idle)
        {
            return false;
        }
        if self.read_only && !token.readonly() {
            return false;
        }
        if self.publish && token.readonly() {
            return false;
        }
        if let Some(pattern) = &self.name
            && !token.name().is_some_and(|name| glob_matches(pattern, name))
        {
            return false;
        }
        true
    }
}

/// Whether `time` is known and more than `span` before `now`.
fn older(time: Option<SystemTime>, now: SystemTime, span: Duration) -> bool {
    match (time, now.checked_sub(span)) {
        (Some(time), Some(cutoff)) => time < cutoff,
        _ => false,
    }
}

/// `*` (any run of characters) and `?` (one character) glob matching.
pub(crate) fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// What `token list --sort` orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortKey {
    Created,
    Expiry,
    Name,
}

/// Sorts by the field, tokens without it last; stable, so the registry's
/// order breaks ties.
pub(crate) fn sort(tokens: &mut [TokenRecord], key: SortKey) {
    fn missing_last<T: Ord>(a: Option<T>, b: Option<T>) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    tokens.sort_by(|a, b| match key {
        SortKey::Created => missing_last(
            a.created().and_then(time::parse),
            b.created().and_then(time::parse),
        ),
        SortKey::Expiry => missing_last(expires_at(a), expires_at(b)),
        SortKey::Name => missing_last(a.name(), b.name()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(value: serde_json::Value) -> TokenRecord {
        TokenRecord::from_value(value).expect("record")
    }

    #[test]
    fn globs() {
        assert!(glob_matches("ci-*", "ci-publish"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("c?-*h", "ci-publish"));
        assert!(!glob_matches("ci-*", "deploy-ci"));
        assert!(glob_matches("*ci*", "deploy-ci-2"));
        assert!(!glob_matches("a?c", "ac"));
    }

    #[test]
    fn selections_need_every_filter() {
        let now = time::parse("2026-06-01T00:00:00Z").expect("now");
        let old_unused = token(json!({"key": "a", "name": "ci-old", "readonly": true,
            "created": "2025-01-01T00:00:00Z", "accessed": null, "expiry": "2026-01-01T00:00:00Z"}));
        let fresh = token(
            json!({"key": "b", "name": "deploy", "created": "2026-05-30T00:00:00Z",
            "accessed": "2026-05-31T00:00:00Z"}),
        );
        let days = |n: u64| Duration::from_secs(n * 86_400);
        let expired = Selection {
            expired: true,
            ..Selection::default()
        };
        assert!(expired.selects(&old_unused, now) && !expired.selects(&fresh, now));
        let unused = Selection {
            unused_for: Some(days(30)),
            ..Selection::default()
        };
        assert!(unused.selects(&old_unused, now) && !unused.selects(&fresh, now));
        let named = Selection {
            name: Some("ci-*".into()),
            read_only: true,
            ..Selection::default()
        };
        assert!(named.selects(&old_unused, now) && !named.selects(&fresh, now));
        let publish = Selection {
            publish: true,
            older_than: Some(days(1)),
            ..Selection::default()
        };
        assert!(!publish.selects(&old_unused, now) && publish.selects(&fresh, now));
        // A registry that does not report last use selects nothing by it.
        let silent = token(json!({"key": "c", "created": "2020-01-01T00:00:00Z"}));
        assert!(!unused.selects(&silent, now));
    }

    #[test]
    fn sorting_puts_missing_fields_last() {
        let mut tokens = vec![
            token(json!({"key": "a"})),
            token(json!({"key": "b", "name": "zed"})),
            token(json!({"key": "c", "name": "amy"})),
        ];
        sort(&mut tokens, SortKey::Name);
        let keys: Vec<&str> = tokens.iter().map(TokenRecord::key).collect();
        assert_eq!(keys, ["c", "b", "a"]);
    }
}
