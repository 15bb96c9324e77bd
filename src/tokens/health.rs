//! A credential's health as `status` and `doctor` report it: its kind
//! (session, granular, token, basic, client certificate), its state, and
//! how serious a finding is. Pure decisions from what the registry said.

use serde::Serialize;
use url::Url;

use crate::config::credential::AuthKind;
use crate::registry::TokenRecord;

/// What kind of credential a registry holds for this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Kind {
    /// A login token that the token list does not show (npmjs: 2 hours).
    Session,
    /// An npmjs granular access token.
    Granular,
    /// Any other token (Verdaccio's, a classic one, a registry without a
    /// token list).
    Token,
    /// A user name and password (`_auth`, `username` + `_password`).
    Basic,
    /// A client certificate alone.
    ClientCertificate,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Session => "session",
            Kind::Granular => "granular",
            Kind::Token => "token",
            Kind::Basic => "basic",
            Kind::ClientCertificate => "client-certificate",
        }
    }
}

/// Whether a credential works, as `status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum State {
    Ok,
    Expiring,
    Expired,
    /// The registry refused it (401, or 403 from `whoami`).
    Rejected,
    /// It names a `${VAR}` that is not set.
    UnsetVariable,
    /// No answer: connection refused, timeout, TLS failure.
    Unreachable,
    /// Anything else: a broken answer, a 5xx, an unusable setting.
    Error,
    /// Listed but deliberately not checked: sending it would take the
    /// credential to a host the user's own config does not name (a project
    /// `.npmrc`'s), or over plain HTTP.
    Unchecked,
}

impl State {
    pub(crate) fn name(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Expiring => "expiring",
            State::Expired => "expired",
            State::Rejected => "rejected",
            State::UnsetVariable => "unset-variable",
            State::Unreachable => "unreachable",
            State::Error => "error",
            State::Unchecked => "unchecked",
        }
    }
}

pub(crate) use crate::severity::Severity;

/// What the token list said about the token in use.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Listed<'a> {
    /// Its own entry (matched by mask).
    Entry(&'a TokenRecord),
    /// The list answered and does not show it.
    NoMatch,
    /// The list was refused (403) while `whoami` worked.
    Refused,
    /// Not asked, or no usable answer (no token API, an error).
    Unknown,
}

/// The kind, by the contract's rules: an npmjs-shaped entry is granular,
/// any other entry a token; a token missing from a list that answered is a
/// session token; a refused list (npmjs refuses it to granular tokens) means
/// granular where the registry is npmjs-shaped, else token.
pub(crate) fn kind(auth: AuthKind, listed: Listed<'_>, npmjs_shaped: bool) -> Kind {
    match auth {
        AuthKind::Auth | AuthKind::UsernamePassword => return Kind::Basic,
        AuthKind::ClientCertificate => return Kind::ClientCertificate,
        AuthKind::Token => {}
    }
    match listed {
        Listed::Entry(entry) if entry.npmjs_shaped() => Kind::Granular,
        Listed::Entry(_) => Kind::Token,
        Listed::NoMatch => Kind::Session,
        Listed::Refused if npmjs_shaped => Kind::Granular,
        Listed::Refused | Listed::Unknown => Kind::Token,
    }
}

/// Whether a registry speaks npmjs's token dialect: registry.npmjs.org
/// itself, or a token of npmjs's format (`npm_` and 36 letters and digits).
pub(crate) fn npmjs_shaped(registry: &Url, token: Option<&str>) -> bool {
    registry.host_str() == Some("registry.npmjs.org") || token.is_some_and(is_npmjs_token)
}

/// `npm_` followed by exactly 36 ASCII letters and digits.
pub(crate) fn is_npmjs_token(token: &str) -> bool {
    token
        .strip_prefix("npm_")
        .is_some_and(|rest| rest.len() == 36 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// setup-node's stand-in when no token was given
/// (`NODE_AUTH_TOKEN=XXXXX-XXXXX-XXXXX-XXXXX`).
pub(crate) const PLACEHOLDER_TOKEN: &str = "XXXXX-XXXXX-XXXXX-XXXXX";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(value: serde_json::Value) -> TokenRecord {
        TokenRecord::from_value(value).expect("record")
    }

    #[test]
    fn kinds_follow_the_contract() {
        let granular = record(json!({"key": "g", "expiry": null}));
        let verdaccio = record(json!({"key": "v", "token": "abcde...vwxyz", "readonly": false}));
        let token = AuthKind::Token;
        assert_eq!(kind(token, Listed::Entry(&granular), false), Kind::Granular);
        assert_eq!(kind(token, Listed::Entry(&verdaccio), true), Kind::Token);
        assert_eq!(kind(token, Listed::NoMatch, true), Kind::Session);
        assert_eq!(kind(token, Listed::Refused, true), Kind::Granular);
        assert_eq!(kind(token, Listed::Refused, false), Kind::Token);
        assert_eq!(kind(token, Listed::Unknown, true), Kind::Token);
        assert_eq!(kind(AuthKind::Auth, Listed::NoMatch, true), Kind::Basic);
        assert_eq!(
            kind(AuthKind::UsernamePassword, Listed::Unknown, false),
            Kind::Basic
        );
        assert_eq!(
            kind(AuthKind::ClientCertificate, Listed::Unknown, false),
            Kind::ClientCertificate
        );
    }

    #[test]
    fn npmjs_tokens_and_registries() {
        assert!(is_npmjs_token("npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"));
        assert!(!is_npmjs_token("npm_short"));
        assert!(!is_npmjs_token("npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345678-"));
        assert!(!is_npmjs_token(PLACEHOLDER_TOKEN));
        let npmjs = Url::parse("https://registry.npmjs.org/").expect("url");
        let local = Url::parse("http://127.0.0.1:4873/").expect("url");
        assert!(npmjs_shaped(&npmjs, None));
        assert!(!npmjs_shaped(&local, Some("eyJhbGciOi")));
        assert!(npmjs_shaped(
            &local,
            Some("npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789")
        ));
    }

    #[test]
    fn names_are_the_json_names() {
        for state in [
            State::Ok,
            State::Expiring,
            State::Expired,
            State::Rejected,
            State::UnsetVariable,
            State::Unreachable,
            State::Error,
            State::Unchecked,
        ] {
            assert_eq!(
                serde_json::to_value(state).expect("json"),
                json!(state.name())
            );
        }
        for kind in [
            Kind::Session,
            Kind::Granular,
            Kind::Token,
            Kind::Basic,
            Kind::ClientCertificate,
        ] {
            assert_eq!(
                serde_json::to_value(kind).expect("json"),
                json!(kind.name())
            );
        }
        assert!(Severity::Error > Severity::Warning && Severity::Warning > Severity::Info);
        assert_eq!(
            serde_json::to_value(Severity::Warning).expect("json"),
            json!("warning")
        );
    }
}
