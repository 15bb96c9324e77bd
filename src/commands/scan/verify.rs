//! `--verify` and `--revoke`: the only part of `rtok scan` that talks to
//! registries, and only to registries in the user's own configuration. A
//! registry that only the scanned files name (or a config file that is
//! itself being scanned) never receives a secret.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use futures_util::StreamExt;
use url::Url;

use super::super::{connect, otp};
use crate::config::credential::decode_lenient;
use crate::config::{DEFAULT_REGISTRY, LayerKind, Origin, registries};
use crate::display::display_url;
use crate::npmrc::credential_prefixes;
use crate::npmrc::nerf::host_and_port;
use crate::output::Printer;
use crate::registry::{Refusal, Registry, TokenRecord};
use crate::scan::{Finding, Kind, Revocation, Status};
use crate::secret::Secret;
use crate::settings::Settings;
use crate::tokens::ids;

/// Checks in flight at once.
const CONCURRENCY: usize = 8;

/// What verification decided, for revocation to reuse.
pub(super) struct Checked {
    /// The registry each finding was checked against (by index).
    targets: Vec<Option<Url>>,
    clients: HashMap<Url, Registry>,
}

/// Sets `status` on every finding: one `GET /-/whoami` per distinct secret
/// and registry. `scanned` are the paths being scanned: settings written in
/// files under them do not count as the user's configuration.
pub(super) async fn verify(
    settings: &Settings,
    printer: &Printer,
    findings: &mut [Finding],
    scanned: &[PathBuf],
) -> Result<Checked> {
    let scanned: Vec<PathBuf> = scanned
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let known = known_registries(settings, &scanned);
    let configured = known
        .iter()
        .any(|url| same_server(url, &settings.registry))
        .then(|| settings.registry.clone());

    let mut targets = Vec::with_capacity(findings.len());
    for finding in findings.iter_mut() {
        match target(finding, &known, configured.as_ref()) {
            Ok(url) => targets.push(Some(url)),
            Err(reason) => {
                finding.status = Some(Status::Unknown { reason });
                targets.push(None);
            }
        }
    }

    let mut clients: HashMap<Url, Registry> = HashMap::new();
    for url in targets.iter().flatten() {
        if !clients.contains_key(url) {
            let client = connect::client_for(settings, printer, url, "scan")?;
            clients.insert(url.clone(), client);
        }
    }

    // One check per distinct (secret, registry); every finding of that
    // pair gets its answer.
    let mut groups: HashMap<(String, Url), Vec<usize>> = HashMap::new();
    for (index, target) in targets.iter().enumerate() {
        if let Some(url) = target {
            groups
                .entry((findings[index].fingerprint(), url.clone()))
                .or_default()
                .push(index);
        }
    }
    let checks = groups.into_values().map(|indexes| {
        let finding = &findings[indexes[0]];
        let client = targets[indexes[0]]
            .as_ref()
            .and_then(|url| clients.get(url));
        async move {
            let status = match client {
                Some(client) => check(client, finding).await,
                None => Status::Unknown {
                    reason: "no client for its registry".into(),
                },
            };
            (indexes, status)
        }
    });
    let answers: Vec<(Vec<usize>, Status)> = futures_util::stream::iter(checks)
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for (indexes, status) in answers {
        for index in indexes {
            findings[index].status = Some(status.clone());
        }
    }
    Ok(Checked { targets, clients })
}

/// Revokes every live secret once: by the user's own token list entry when
/// it matches one (the user's credential authenticates), else by
/// `DELETE /-/user/token/<secret>` authenticated by the secret itself.
/// Sets `revocation` on each live finding; failures are recorded, not fatal.
pub(super) async fn revoke(
    settings: &Settings,
    printer: &Printer,
    findings: &mut [Finding],
    checked: &Checked,
) {
    let mut groups: Vec<((String, Url), Vec<usize>)> = Vec::new();
    for (index, finding) in findings.iter().enumerate() {
        let (Some(Status::Live { .. }), Some(url)) = (&finding.status, &checked.targets[index])
        else {
            continue;
        };
        let key = (finding.fingerprint(), url.clone());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, indexes)) => indexes.push(index),
            None => groups.push((key, vec![index])),
        }
    }
    let mut lists: HashMap<Url, Option<Vec<TokenRecord>>> = HashMap::new();
    // One at a time: a two-factor prompt must not interleave with another.
    for ((_, url), indexes) in groups {
        let Some(client) = checked.clients.get(&url) else {
            continue;
        };
        let finding = &findings[indexes[0]];
        let revocation = if !finding.kind.is_token() {
            Revocation {
                method: "none",
                key: None,
                result: Err(
                    "a password cannot be revoked through the registry; change it on the registry"
                        .into(),
                ),
            }
        } else {
            if !lists.contains_key(&url) {
                let list = own_token_list(settings, printer, client, &url).await;
                lists.insert(url.clone(), list);
            }
            let entry = lists
                .get(&url)
                .and_then(Option::as_ref)
                .and_then(|tokens| ids::by_value(&finding.secret, tokens))
                .map(|token| token.key().to_string());
            match entry {
                Some(key) => {
                    let result = otp::with_otp(settings.otp.as_ref(), printer, client, |code| {
                        let key = key.clone();
                        async move { client.delete_token(&key, code.as_ref()).await }
                    })
                    .await
                    .map(|_| ())
                    .map_err(|err| crate::failure::message(&err));
                    Revocation {
                        method: "token-list",
                        key: Some(key),
                        result,
                    }
                }
                None => Revocation {
                    method: "self",
                    key: None,
                    result: client
                        .revoke_session(&finding.secret)
                        .await
                        .map_err(|err| err.to_string()),
                },
            }
        };
        for index in indexes {
            findings[index].revocation = Some(revocation.clone());
        }
    }
}

/// The user's own token list on `url`, when the user has a credential
/// there and the registry lets it list; else `None`.
async fn own_token_list(
    settings: &Settings,
    printer: &Printer,
    client: &Registry,
    url: &Url,
) -> Option<Vec<TokenRecord>> {
    if !matches!(settings.credentials.for_url(url), Ok(Some(_))) {
        return None;
    }
    match client.list_tokens().await {
        Ok(tokens) => Some(tokens),
        Err(err) => {
            printer.verbose(&format!(
                "could not list your tokens on {}: {err}; a live secret there revokes itself",
                display_url(url)
            ));
            None
        }
    }
}

/// `GET /-/whoami` as the secret: a bearer token, or basic auth for
/// `_auth` and `_password` (with the user name written beside it).
async fn check(client: &Registry, finding: &Finding) -> Status {
    let answer = if finding.kind.is_token() {
        client.whoami_as(&finding.secret).await
    } else {
        match basic_credentials(finding) {
            Ok((username, password)) => client.whoami_as_basic(username, password).await,
            Err(reason) => return Status::Unknown { reason },
        }
    };
    match answer {
        Ok(user) => Status::Live { user },
        Err(err) => match err.refusal() {
            Some(Refusal::Rejected) => Status::Dead,
            Some(Refusal::IpRestricted) => Status::Unknown {
                reason: "the registry does not accept it from this IP address".into(),
            },
            Some(Refusal::Forbidden) => Status::Unknown {
                reason: "403 Forbidden: it may be limited to other IP addresses".into(),
            },
            _ => Status::Unknown {
                reason: err.to_string(),
            },
        },
    }
}

/// The user name and password a basic-auth finding stands for.
fn basic_credentials(finding: &Finding) -> Result<(String, Secret), String> {
    // Read as npm reads it (Node's base64: padding optional), so what is
    // checked is what npm would send.
    let decoded = decode_lenient(finding.secret.expose())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(Secret::new)
        .ok_or_else(|| "not valid base64, so not a credential npm could send".to_string())?;
    match finding.kind {
        // `_password`: the base64 of the password alone.
        Kind::NpmrcPassword => match &finding.username {
            Some(user) => Ok((user.clone(), decoded)),
            None => Err("no `username` beside it in the same file, so it cannot be checked".into()),
        },
        // `_auth`: the base64 of `user:password`.
        _ => match decoded.expose().split_once(':') {
            Some((user, password)) => Ok((user.to_string(), Secret::new(password))),
            None => Err("`_auth` does not hold `user:password`".into()),
        },
    }
}

/// Where a finding's secret may be checked: the user's registry on the
/// server its line names, or the configured registry when it names none.
fn target(finding: &Finding, known: &[Url], configured: Option<&Url>) -> Result<Url, String> {
    let Some(nerf) = &finding.registry else {
        return configured.cloned().ok_or_else(|| {
            "the configured registry is named only by the scanned files; not asked".to_string()
        });
    };
    let named = Url::parse(&format!("https:{nerf}"))
        .map_err(|_| format!("`{nerf}` is not a registry address; not asked"))?;
    let not_yours = || format!("{nerf} is not a registry in your configuration; not asked");
    let server: Vec<&Url> = known.iter().filter(|u| same_host(u, &named)).collect();
    // The registry the key belongs to exactly, else the line's path on a
    // server the user's configuration names (with that server's scheme).
    if let Some(exact) = server
        .iter()
        .filter(|u| credential_prefixes(u).iter().any(|p| p == nerf))
        .max_by_key(|u| u.path().len())
    {
        return Ok((*exact).clone());
    }
    let first = server.first().ok_or_else(not_yours)?;
    let path = if nerf.ends_with('/') {
        nerf.clone()
    } else {
        format!("{nerf}/")
    };
    Url::parse(&format!("{}:{path}", first.scheme())).map_err(|_| not_yours())
}

fn same_host(a: &Url, b: &Url) -> bool {
    host_and_port(a) == host_and_port(b)
}

fn same_server(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && same_host(a, b)
}

/// The registries the user's own configuration names: npm's default, the
/// `--registry` flag, every `registry` and `@scope:registry` setting, and
/// every server it holds a credential for; settings from files under the
/// scanned paths excepted.
fn known_registries(settings: &Settings, scanned: &[PathBuf]) -> Vec<Url> {
    // `--registry` is in the command-line layer below.
    let mut urls: Vec<Url> = Url::parse(DEFAULT_REGISTRY).into_iter().collect();
    let kinds = [
        LayerKind::Cli,
        LayerKind::Env,
        LayerKind::Project,
        LayerKind::User,
        LayerKind::Global,
    ];
    for layer in kinds.iter().filter_map(|k| settings.config.layer(*k)) {
        for setting in &layer.settings {
            if (setting.key == "registry" || setting.key.ends_with(":registry"))
                && !from_scanned(&setting.origin, scanned)
                && let Ok(url) = Url::parse(setting.value.trim())
                && matches!(url.scheme(), "http" | "https")
            {
                urls.push(url);
            }
        }
    }
    let credentials = &settings.credentials;
    for prefix in credentials.prefixes() {
        if let Ok(Some(found)) = credentials.at(prefix)
            && !from_scanned(&found.origin, scanned)
            && let Some(url) = registries::url_for_nerf(prefix, &urls)
        {
            urls.push(url);
        }
    }
    urls
}

/// Whether a setting was written in a file under one of the scanned paths.
fn from_scanned(origin: &Origin, scanned: &[PathBuf]) -> bool {
    let Origin::File { path, .. } = origin else {
        return false;
    };
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
    scanned.iter().any(|root| is_under(&path, root))
}

fn is_under(path: &Path, root: &Path) -> bool {
    path.starts_with(root)
}
