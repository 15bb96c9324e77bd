//! Reading a listed token as the contract defines it (`status`, `doctor`,
//! `token audit`): write or read-only, which packages it covers, and where
//! its expiry stands. No registry needed: each judgement reads one entry.

use std::time::{Duration, SystemTime};

use super::filter;
use crate::registry::TokenRecord;

/// What `status` calls expiring when no `--expiring-within` is given.
pub(crate) const EXPIRING_WITHIN: Duration = Duration::from_secs(7 * 24 * 3600);

/// A write token: `readonly` is not true, or a `permissions` entry grants
/// `write`. Anything else is read-only.
pub(crate) fn is_write(token: &TokenRecord) -> bool {
    !token.readonly()
        || token
            .permissions()
            .iter()
            .any(|(_, action)| *action == "write")
}

/// A write token that can publish directly, where the registry says so: it
/// speaks npmjs's shape (which lists `publish_policy`) and is not
/// stage-only. Other registries have no staged publishing to compare with.
pub(crate) fn publishes_directly(token: &TokenRecord) -> bool {
    is_write(token) && token.npmjs_shaped() && !token.stage_only()
}

/// `direct` or `stage-only` for a write token of npmjs's shape; `None`
/// where the registry has no publish policy to show.
pub(crate) fn publish_policy_label(token: &TokenRecord) -> Option<&'static str> {
    if !is_write(token) || !(token.npmjs_shaped() || token.publish_policy().is_some()) {
        return None;
    }
    Some(if token.stage_only() {
        "stage-only"
    } else {
        "direct"
    })
}

/// `scopes` holds `{"type": "package", "name": "*"}`.
pub(crate) fn all_packages(token: &TokenRecord) -> bool {
    token
        .scopes()
        .iter()
        .any(|(kind, name)| *kind == "package" && *name == "*")
}

/// `@scope` of `@scope/name`, if the name is scoped.
pub(crate) fn package_scope(package: &str) -> Option<&str> {
    let (scope, rest) = package.split_once('/')?;
    (scope.len() > 1 && scope.starts_with('@') && !rest.is_empty()).then_some(scope)
}

/// Whether the token may act on `package`: a classic token (no `scopes`)
/// covers everything; a granular one covers the packages it names, `*`,
/// and the packages of the scopes it names.
pub(crate) fn covers_package(token: &TokenRecord, package: &str) -> bool {
    if !token.has_scopes() {
        return true;
    }
    let scope = package_scope(package);
    token.scopes().iter().any(|(kind, name)| match *kind {
        "package" => *name == "*" || *name == package,
        // Listed as `@acme`; tolerate `acme`.
        "scope" => scope.is_some_and(|s| s.trim_start_matches('@') == name.trim_start_matches('@')),
        _ => false,
    })
}

/// Where a token's expiry stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// The registry lists no expiry (or one that cannot be read).
    Unknown,
    Expired {
        at: SystemTime,
    },
    /// Within the warning window: `left` to go.
    Expiring {
        at: SystemTime,
        left: Duration,
    },
    Later {
        at: SystemTime,
    },
}

impl Expiry {
    pub(crate) fn at(self) -> Option<SystemTime> {
        match self {
            Expiry::Unknown => None,
            Expiry::Expired { at } | Expiry::Expiring { at, .. } | Expiry::Later { at } => Some(at),
        }
    }
}

/// The token's expiry against `now`, `within` being the warning window.
pub(crate) fn expiry(token: &TokenRecord, now: SystemTime, within: Duration) -> Expiry {
    let Some(at) = filter::expires_at(token) else {
        return Expiry::Unknown;
    };
    match at.duration_since(now) {
        Err(_) => Expiry::Expired { at },
        Ok(left) if left.is_zero() => Expiry::Expired { at },
        Ok(left) if left <= within => Expiry::Expiring { at, left },
        Ok(_) => Expiry::Later { at },
    }
}

/// Whole days, rounded up (`in 3 days`), for messages.
pub(crate) fn days(span: Duration) -> u64 {
    span.as_secs().div_ceil(24 * 3600)
}

/// `3 days`, `1 day`.
pub(crate) fn plural_days(span: Duration) -> String {
    match days(span) {
        1 => "1 day".to_string(),
        n => format!("{n} days"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time;
    use serde_json::json;

    fn token(value: serde_json::Value) -> TokenRecord {
        TokenRecord::from_value(value).expect("record")
    }

    #[test]
    fn write_means_not_readonly_or_a_write_permission() {
        assert!(is_write(&token(json!({"key": "a", "readonly": false}))));
        assert!(is_write(&token(json!({"key": "a"}))));
        assert!(!is_write(&token(json!({"key": "a", "readonly": true}))));
        assert!(is_write(&token(json!({"key": "a", "readonly": true,
            "permissions": [{"name": "package", "action": "write"}]}))));
        assert!(!is_write(&token(json!({"key": "a", "readonly": true,
            "permissions": [{"name": "package", "action": "read"}]}))));
    }

    #[test]
    fn direct_publishing_is_judged_on_npmjs_shaped_write_tokens() {
        let direct = token(json!({"key": "d", "readonly": false, "expiry": null,
            "permissions": [{"name": "package", "action": "write"}]}));
        assert!(publishes_directly(&direct));
        assert_eq!(publish_policy_label(&direct), Some("direct"));
        let staged = token(json!({"key": "s", "readonly": false, "expiry": null,
            "publish_policy": "stage_only", "permissions": [{"name": "package", "action": "write"}]}));
        assert!(!publishes_directly(&staged));
        assert_eq!(publish_policy_label(&staged), Some("stage-only"));
        let verdaccio = token(json!({"key": "v", "readonly": false}));
        assert!(!publishes_directly(&verdaccio));
        assert_eq!(publish_policy_label(&verdaccio), None);
        let read = token(json!({"key": "r", "readonly": true, "expiry": null}));
        assert!(!publishes_directly(&read));
    }

    #[test]
    fn package_coverage_follows_the_contract() {
        let classic = token(json!({"key": "c"}));
        assert!(covers_package(&classic, "anything"));
        let all = token(json!({"key": "a", "scopes": [{"type": "package", "name": "*"}]}));
        assert!(all_packages(&all) && covers_package(&all, "@x/y"));
        let named = token(json!({"key": "n", "scopes": [
            {"type": "package", "name": "left-pad"}, {"type": "scope", "name": "@acme"}]}));
        assert!(!all_packages(&named));
        assert!(covers_package(&named, "left-pad"));
        assert!(covers_package(&named, "@acme/tool"));
        assert!(!covers_package(&named, "@other/tool"));
        assert!(!covers_package(&named, "right-pad"));
        assert!(!covers_package(&named, "acme"));
        let none = token(json!({"key": "e", "scopes": []}));
        assert!(!covers_package(&none, "left-pad"));
        let orgs = token(json!({"key": "o", "scopes": [{"type": "org", "name": "acme"}]}));
        assert!(!covers_package(&orgs, "@acme/tool"));
    }

    #[test]
    fn scopes_of_package_names() {
        assert_eq!(package_scope("@acme/tool"), Some("@acme"));
        assert_eq!(package_scope("tool"), None);
        assert_eq!(package_scope("@/tool"), None);
        assert_eq!(package_scope("@acme/"), None);
    }

    #[test]
    fn expiry_states() {
        let now = time::parse("2026-06-01T00:00:00Z").expect("now");
        let at = |text: &str| token(json!({"key": "k", "expiry": text}));
        assert!(matches!(
            expiry(&at("2026-05-31T00:00:00Z"), now, EXPIRING_WITHIN),
            Expiry::Expired { .. }
        ));
        assert!(matches!(
            expiry(&at("2026-06-01T00:00:00Z"), now, EXPIRING_WITHIN),
            Expiry::Expired { .. }
        ));
        let Expiry::Expiring { left, .. } =
            expiry(&at("2026-06-04T00:00:00Z"), now, EXPIRING_WITHIN)
        else {
            panic!("expiring")
        };
        assert_eq!(plural_days(left), "3 days");
        assert!(matches!(
            expiry(&at("2026-06-20T00:00:00Z"), now, EXPIRING_WITHIN),
            Expiry::Later { .. }
        ));
        assert!(matches!(
            expiry(
                &at("2026-06-20T00:00:00Z"),
                now,
                Duration::from_secs(30 * 86_400)
            ),
            Expiry::Expiring { .. }
        ));
        assert_eq!(
            expiry(
                &token(json!({"key": "k", "expiry": null})),
                now,
                EXPIRING_WITHIN
            ),
            Expiry::Unknown
        );
        assert_eq!(
            expiry(&at("whenever"), now, EXPIRING_WITHIN),
            Expiry::Unknown
        );
        assert_eq!(plural_days(Duration::from_secs(3600)), "1 day");
    }
}
