//! `token audit`'s rules: each listed token judged against a [`Policy`].
//! Codes and severities are the contract's; read-only tokens get at most
//! warnings, and a token the registry lists as revoked gets nothing.

use std::time::SystemTime;

use super::filter;
use super::judge::{self, Expiry};
use crate::registry::TokenRecord;
use crate::rtok_config::audit_policy::Policy;
use crate::severity::Severity;
use crate::time;

/// One thing wrong with one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    /// Which token (its index in the list judged).
    pub token: usize,
    pub message: String,
}

/// Every finding for `tokens`, worst first, then in list order.
pub(crate) fn audit(tokens: &[TokenRecord], policy: &Policy, now: SystemTime) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        judge_one(token, policy, now, &mut |code, severity, message| {
            findings.push(Finding {
                code,
                severity,
                token: index,
                message,
            });
        });
    }
    // Stable: the list's order within a severity.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

fn judge_one(
    token: &TokenRecord,
    policy: &Policy,
    now: SystemTime,
    add: &mut dyn FnMut(&'static str, Severity, String),
) {
    if token.revoked() {
        return;
    }
    let write = judge::is_write(token);
    let expiry = judge::expiry(token, now, std::time::Duration::ZERO);
    if let Expiry::Expired { at } = expiry {
        add(
            "expired-not-revoked",
            Severity::Warning,
            format!(
                "expired on {} and is still listed; `rtok token prune --expired` revokes it",
                date(at)
            ),
        );
    }
    if write {
        match expiry.at() {
            None => add(
                "no-expiry",
                Severity::Error,
                "a write token that never expires".to_string(),
            ),
            Some(at) => {
                let created = token.created().and_then(time::parse);
                if let Some(lifetime) = created.and_then(|created| at.duration_since(created).ok())
                    && lifetime > policy.max_lifetime
                {
                    add(
                        "long-lived",
                        Severity::Warning,
                        format!(
                            "a write token that lives {} (more than {})",
                            judge::plural_days(lifetime),
                            judge::plural_days(policy.max_lifetime)
                        ),
                    );
                }
            }
        }
    }
    // An expired token is reported as such; "unused" would say it twice.
    if !matches!(expiry, Expiry::Expired { .. })
        && let Some(idle) = filter::idle_since(token)
        && let Ok(span) = now.duration_since(idle)
        && span > policy.unused_for
    {
        let message = if token.never_used() {
            format!(
                "never used since it was created on {} (more than {} ago)",
                date(idle),
                judge::plural_days(policy.unused_for)
            )
        } else {
            format!(
                "last used on {} (more than {} ago)",
                date(idle),
                judge::plural_days(policy.unused_for)
            )
        };
        add("unused", Severity::Warning, message);
    }
    if !write {
        return;
    }
    if token.cidr().is_empty() {
        add(
            "write-without-cidr",
            Severity::Warning,
            "a write token that works from any IP address (no CIDR range)".to_string(),
        );
    }
    if token.bypass_2fa() {
        add(
            "bypass-2fa",
            Severity::Warning,
            "a write token that skips two-factor authentication; npm ends direct publishing with these in January 2027 (trusted publishing, `rtok oidc`, replaces them)".to_string(),
        );
    }
    if judge::publishes_directly(token) {
        if token.bypass_2fa() {
            add(
                "direct-publish",
                Severity::Error,
                "a write token that publishes directly and skips two-factor authentication: npmjs stops accepting these in January 2027; create a stage-only one (`rtok token create --stage-only`) or use trusted publishing".to_string(),
            );
        } else {
            add(
                "direct-publish",
                Severity::Warning,
                "a write token that can publish directly; a stage-only token (`rtok token create --stage-only`) publishes only what a human approves".to_string(),
            );
        }
    }
    if judge::all_packages(token) {
        add(
            "all-packages-write",
            Severity::Warning,
            "a write token for all packages; limit it to the packages it publishes (`--packages`, `--scopes`)".to_string(),
        );
    }
}

fn date(at: SystemTime) -> String {
    time::date(&time::to_iso8601(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> SystemTime {
        time::parse("2026-06-01T00:00:00Z").expect("now")
    }

    /// A token no rule complains about: read-only would be too easy, so a
    /// write token with a short life, a CIDR range, recent use, 2FA and
    /// one package.
    fn clean() -> serde_json::Value {
        json!({
            "key": "clean", "token": "npm_Clean...0001", "readonly": false,
            "created": "2026-05-01T00:00:00.000Z", "expiry": "2026-06-20T00:00:00.000Z",
            "accessed": "2026-05-30T00:00:00.000Z", "cidr": ["10.0.0.0/8"], "bypass_2fa": false,
            "revoked": null, "permissions": [{"name": "package", "action": "write"}],
            "scopes": [{"type": "package", "name": "left-pad"}], "publish_policy": "stage_only"
        })
    }

    fn codes(value: serde_json::Value) -> Vec<(&'static str, Severity)> {
        let token = TokenRecord::from_value(value).expect("record");
        audit(&[token], &Policy::default(), now())
            .into_iter()
            .map(|f| (f.code, f.severity))
            .collect()
    }

    fn with(change: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
        let mut value = clean();
        change(&mut value);
        value
    }

    #[test]
    fn a_clean_token_has_no_findings() {
        assert_eq!(codes(clean()), vec![]);
    }

    #[test]
    fn each_rule_finds_its_condition() {
        use Severity::{Error, Warning};
        let cases: Vec<(serde_json::Value, Vec<(&str, Severity)>)> = vec![
            (
                with(|v| v["expiry"] = json!("2026-05-15T00:00:00.000Z")),
                vec![("expired-not-revoked", Warning)],
            ),
            (
                with(|v| v["expiry"] = json!(null)),
                vec![("no-expiry", Error)],
            ),
            (
                with(|v| {
                    v["created"] = json!("2025-01-01T00:00:00.000Z");
                }),
                vec![("long-lived", Warning)],
            ),
            (
                with(|v| v["accessed"] = json!("2026-01-01T00:00:00.000Z")),
                vec![("unused", Warning)],
            ),
            (
                with(|v| {
                    v["accessed"] = json!(null);
                    v["created"] = json!("2026-02-01T00:00:00.000Z");
                    v["expiry"] = json!("2026-06-20T00:00:00.000Z");
                }),
                vec![("long-lived", Warning), ("unused", Warning)],
            ),
            (
                with(|v| v["cidr"] = json!([])),
                vec![("write-without-cidr", Warning)],
            ),
            (
                with(|v| v["bypass_2fa"] = json!(true)),
                vec![("bypass-2fa", Warning)],
            ),
            (
                with(|v| v["publish_policy"] = json!(null)),
                vec![("direct-publish", Warning)],
            ),
            (
                with(|v| {
                    v["publish_policy"] = json!(null);
                    v["bypass_2fa"] = json!(true);
                }),
                vec![("direct-publish", Error), ("bypass-2fa", Warning)],
            ),
            (
                with(|v| v["scopes"] = json!([{"type": "package", "name": "*"}])),
                vec![("all-packages-write", Warning)],
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(codes(value.clone()), expected, "{value}");
        }
    }

    #[test]
    fn read_only_tokens_get_at_most_warnings() {
        let read_only = json!({
            "key": "ro", "readonly": true, "created": "2024-01-01T00:00:00.000Z",
            "accessed": null, "cidr": null, "bypass_2fa": true,
            "permissions": [{"name": "package", "action": "read"}],
            "scopes": [{"type": "package", "name": "*"}]
        });
        assert_eq!(codes(read_only), vec![("unused", Severity::Warning)]);
        let expired_read_only = json!({"key": "ro", "readonly": true,
            "expiry": "2020-01-01T00:00:00.000Z", "created": "2019-01-01T00:00:00.000Z",
            "accessed": null});
        assert_eq!(
            codes(expired_read_only),
            vec![("expired-not-revoked", Severity::Warning)]
        );
    }

    #[test]
    fn revoked_and_silent_tokens() {
        assert_eq!(codes(with(|v| v["revoked"] = json!("2026-05-02"))), vec![]);
        // Verdaccio: no expiry, no last use, `cidr` empty: a write token that
        // never expires, usable from anywhere; unused cannot be judged.
        let verdaccio = json!({"key": "v", "token": "abcde...vwxyz", "user": "u",
            "readonly": false, "cidr": [], "created": "2020-01-01T00:00:00.000Z"});
        assert_eq!(
            codes(verdaccio),
            vec![
                ("no-expiry", Severity::Error),
                ("write-without-cidr", Severity::Warning)
            ]
        );
    }

    #[test]
    fn errors_come_first_and_policy_limits_apply() {
        let tokens: Vec<TokenRecord> = [
            with(|v| v["cidr"] = json!([])),
            with(|v| v["expiry"] = json!(null)),
        ]
        .into_iter()
        .map(|v| TokenRecord::from_value(v).expect("record"))
        .collect();
        let findings = audit(&tokens, &Policy::default(), now());
        assert_eq!(findings[0].code, "no-expiry");
        assert_eq!(findings[0].token, 1);
        assert_eq!(findings[1].token, 0);
        let strict = Policy {
            unused_for: std::time::Duration::from_secs(3600),
            max_lifetime: std::time::Duration::from_secs(86_400),
            ..Policy::default()
        };
        let codes: Vec<&str> = audit(&tokens[..1], &strict, now())
            .iter()
            .map(|f| f.code)
            .collect();
        assert_eq!(codes, ["long-lived", "unused", "write-without-cidr"]);
    }
}
