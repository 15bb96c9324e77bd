//! Checking one credential against its registry, as `status` and `doctor`
//! both do: `whoami` and, for a token, the token list, sent at once (one
//! round trip); the token matched to its listed entry by mask; and what that
//! makes its kind and state.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use url::Url;

use super::connect;
use crate::config::credential::{AuthKind, Credential, CredentialError, Found};
use crate::config::credentials::Credentials;
use crate::config::registries;
use crate::npmrc::{NerfDart, credential_prefixes};
use crate::output::Printer;
use crate::registry::{Problem, Refusal, RegistryError, TokenRecord};
use crate::settings::Settings;
use crate::tokens::health::{self, Kind, Listed, State};
use crate::tokens::ids;
use crate::tokens::judge::{self, Expiry};

/// How many credentials `status` and `doctor` check at once: enough to
/// overlap slow registries, few enough to stay far below any open-files
/// limit (each check may hold two connections).
pub(super) const CONCURRENCY: usize = 16;

/// What the token list said, owned.
#[derive(Debug)]
pub(super) enum ListOutcome {
    Entry(TokenRecord),
    NoMatch,
    Refused,
    /// Not asked (not a token, or `whoami` failed) or no usable answer.
    Unknown,
}

impl ListOutcome {
    fn listed(&self) -> Listed<'_> {
        match self {
            ListOutcome::Entry(entry) => Listed::Entry(entry),
            ListOutcome::NoMatch => Listed::NoMatch,
            ListOutcome::Refused => Listed::Refused,
            ListOutcome::Unknown => Listed::Unknown,
        }
    }
}

/// One credential, checked.
#[derive(Debug)]
pub(super) struct Checked {
    pub kind: Kind,
    pub state: State,
    /// The user name, when the registry accepted the credential.
    pub user: Option<String>,
    /// Why `whoami` failed.
    pub failure: Option<RegistryError>,
    pub list: ListOutcome,
    pub expiry: Expiry,
}

impl Checked {
    /// The token's own listed entry, if the list showed it.
    pub(super) fn entry(&self) -> Option<&TokenRecord> {
        match &self.list {
            ListOutcome::Entry(entry) => Some(entry),
            _ => None,
        }
    }
}

/// Asks `registry` about `found` (the credential a request to it carries):
/// `whoami`, and for a token the token list at the same time. `within` is
/// what counts as expiring.
pub(super) async fn check(
    settings: &Settings,
    printer: &Printer,
    registry: &Url,
    found: &Found,
    now: SystemTime,
    within: Duration,
) -> Checked {
    let client = connect::client_for(settings, printer, registry, "whoami");
    check_with(client, registry, found, now, within).await
}

/// As [`check`], sending `found` alone (nothing of npm's layers): how a
/// credential that pnpm or yarn would send is checked.
pub(super) async fn check_alone(
    settings: &Settings,
    printer: &Printer,
    registry: &Url,
    found: &Found,
    now: SystemTime,
    within: Duration,
) -> Checked {
    let credentials = Credentials::only(found, registry);
    let client = connect::client_with(settings, printer, registry, credentials, "whoami");
    check_with(client, registry, found, now, within).await
}

async fn check_with(
    client: Result<crate::registry::Registry, RegistryError>,
    registry: &Url,
    found: &Found,
    now: SystemTime,
    within: Duration,
) -> Checked {
    let client = match client {
        Ok(client) => client,
        Err(err) => return failed(found, err),
    };
    let token = found.token();
    let list = async {
        match token {
            Some(_) => Some(client.list_tokens().await),
            None => None,
        }
    };
    let (whoami, listed) = futures_util::future::join(client.whoami(), list).await;
    let user = match whoami {
        Ok(user) => user,
        Err(err) => return failed(found, err),
    };
    let list = match (listed, token) {
        (Some(Ok(mut entries)), Some(token)) => {
            // Ids from the whole list, as `token list` shows them.
            ids::assign(&mut entries, ids::MIN_ID_LEN);
            match ids::by_value(token, &entries) {
                Some(entry) => ListOutcome::Entry(entry.clone()),
                None => ListOutcome::NoMatch,
            }
        }
        (Some(Err(err)), _)
            if matches!(
                err.refusal(),
                Some(Refusal::Forbidden | Refusal::IpRestricted)
            ) =>
        {
            ListOutcome::Refused
        }
        _ => ListOutcome::Unknown,
    };
    let npmjs = health::npmjs_shaped(registry, token.map(|t| t.expose()));
    let kind = health::kind(found.kind, list.listed(), npmjs);
    let expiry = match &list {
        ListOutcome::Entry(entry) => judge::expiry(entry, now, within),
        _ => Expiry::Unknown,
    };
    let state = match expiry {
        Expiry::Expired { .. } => State::Expired,
        Expiry::Expiring { .. } => State::Expiring,
        Expiry::Unknown | Expiry::Later { .. } => State::Ok,
    };
    Checked {
        kind,
        state,
        user: Some(user),
        failure: None,
        list,
        expiry,
    }
}

fn failed(found: &Found, err: RegistryError) -> Checked {
    Checked {
        kind: health::kind(found.kind, Listed::Unknown, false),
        state: state_of(&err),
        user: None,
        failure: Some(err),
        list: ListOutcome::Unknown,
        expiry: Expiry::Unknown,
    }
}

/// The state a failed `whoami` puts a credential in.
pub(super) fn state_of(err: &RegistryError) -> State {
    match err {
        RegistryError::Credential(err) => unusable_state(err),
        RegistryError::Setup(_) => State::Error,
        RegistryError::Failed(_) => match (err.refusal(), err.problem()) {
            (
                Some(
                    Refusal::Rejected
                    | Refusal::NeedsOtp
                    | Refusal::IpRestricted
                    | Refusal::Forbidden,
                ),
                _,
            ) => State::Rejected,
            (
                _,
                Some(
                    Problem::Connect { .. }
                    | Problem::Timeout { .. }
                    | Problem::TlsHandshake { .. },
                ),
            ) => State::Unreachable,
            _ => State::Error,
        },
    }
}

/// The state of a credential that cannot be used at all (an unset
/// variable; a malformed reference, bad base64 and the like are errors).
pub(super) fn unusable_state(err: &CredentialError) -> State {
    match err {
        CredentialError::UnsetVariable { .. } => State::UnsetVariable,
        _ => State::Error,
    }
}

/// The kind a credential has before anyone asks the registry (an unset
/// variable, say).
pub(super) fn kind_of(auth: AuthKind) -> Kind {
    health::kind(auth, Listed::Unknown, false)
}

/// The credential as a table may show it: never more than its ends.
pub(super) fn masked(found: &Found) -> String {
    match &found.credential {
        Some(Credential::Bearer(token)) => token.masked(),
        Some(Credential::Basic { username, .. }) => {
            format!("{}:***", username.as_deref().unwrap_or("?"))
        }
        None => "(client certificate)".to_string(),
    }
}

/// Registry URLs the config names (`registry`, every `@scope:registry`), so
/// that a credential's nerf dart can be turned back into a URL with its
/// scheme.
pub(super) fn known_registries(settings: &Settings) -> Vec<Url> {
    registries::configured(&settings.config, &settings.registry)
}

/// The registry a credential prefix belongs to: a configured registry the
/// prefix covers (the deepest), else the nerf dart turned back into a URL
/// by `NerfDart`'s one rule (the same as `keyring` and `scan --verify`).
pub(super) fn registry_for(prefix: &str, known: &[Url]) -> Url {
    let mut best: BTreeMap<usize, &Url> = BTreeMap::new();
    for url in known {
        if credential_prefixes(url).iter().any(|p| p == prefix) {
            best.insert(url.path().len(), url);
        }
    }
    if let Some((_, url)) = best.iter().next_back() {
        return (*url).clone();
    }
    NerfDart::parse(prefix)
        .and_then(|dart| dart.registry_url(known))
        .unwrap_or_else(|| known[0].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_map_back_to_configured_registries() {
        let known = vec![
            Url::parse("http://127.0.0.1:4873/").expect("url"),
            Url::parse("https://npm.example/private/repo/").expect("url"),
        ];
        assert_eq!(
            registry_for("//127.0.0.1:4873/", &known).as_str(),
            "http://127.0.0.1:4873/"
        );
        assert_eq!(
            registry_for("//npm.example/", &known).as_str(),
            "https://npm.example/private/repo/"
        );
        assert_eq!(
            registry_for("//other.example/", &known).as_str(),
            "https://other.example/"
        );
        assert_eq!(
            registry_for("//localhost:4873/", &known).as_str(),
            "http://localhost:4873/"
        );
    }
}
