//! `rtok status`: every registry this machine has credentials for, where
//! each credential comes from, and whether the registry still accepts it.

use std::collections::BTreeMap;
use std::io;

use anyhow::Result;
use serde::Serialize;
use url::Url;

use super::connect;
use crate::config::credentials::{Credential, Found};
use crate::failure::Failure;
use crate::npmrc::credential_prefixes;
use crate::output::{Printer, Report, Stream, visible};
use crate::registry::{display_url, is_loopback};
use crate::settings::Settings;

/// One credential and what checking it found.
#[derive(Serialize)]
struct Row {
    registry: String,
    source: String,
    /// Where the secret is kept: `file`, `env`, `keyring`, `command`.
    storage: &'static str,
    /// The environment variable that holds the secret, if one does.
    variable: Option<String>,
    kind: &'static str,
    user: Option<String>,
    error: Option<String>,
    credential: String,
}

#[derive(Serialize)]
#[serde(transparent)]
struct Status {
    rows: Vec<Row>,
}

impl Report for Status {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        let mut table = printer.table(
            Stream::Stdout,
            &["registry", "source", "kind", "user", "credential"],
        );
        for row in &self.rows {
            table.add_row([
                row.registry.clone(),
                row.source.replace('`', ""),
                row.kind.to_string(),
                match (&row.user, &row.error) {
                    (_, Some(err)) => format!("failed: {err}"),
                    (Some(user), None) => user.clone(),
                    (None, None) => String::new(),
                },
                row.credential.clone(),
            ]);
        }
        printer.data(&table.to_string())
    }

    fn parseable(&self, printer: &Printer) -> io::Result<()> {
        printer.data("registry\tsource\tkind\tuser\tcredential\terror")?;
        for row in &self.rows {
            let line = [
                row.registry.as_str(),
                &row.source,
                row.kind,
                row.user.as_deref().unwrap_or(""),
                &row.credential,
                row.error.as_deref().unwrap_or(""),
            ]
            .map(|field| visible(field).into_owned())
            .join("\t");
            printer.data(&line)?;
        }
        Ok(())
    }
}

pub(super) async fn run(settings: &Settings, printer: &Printer) -> Result<()> {
    let credentials = &settings.credentials;
    let prefixes = credentials.prefixes();
    if prefixes.is_empty() {
        return Err(Failure::auth(
            "no registry credentials in the config files or the environment",
        )
        .hint("log in with `rtok login`")
        .into());
    }
    let known = known_registries(settings);
    let checks = prefixes.into_iter().filter_map(|prefix| {
        let (kind, origin) = credentials.describe(prefix)?;
        let registry = registry_for(prefix, &known);
        let found = credentials.at(prefix);
        Some(async move {
            let (user, error, credential, kind) = match found {
                Ok(Some(found)) => {
                    let checked = match connect::client_for(settings, printer, &registry, "whoami")
                    {
                        Ok(client) => client.whoami().await.map_err(|err| err.to_string()),
                        Err(err) => Err(err.to_string()),
                    };
                    let credential = masked(&found);
                    let user = checked.as_ref().ok().cloned();
                    (user, checked.err(), credential, found.kind)
                }
                // A credential that cannot be used (an unset `${VAR}`) is a
                // row that says why, never skipped.
                Err(err) => (None, Some(err.to_string()), "(unusable)".into(), kind),
                Ok(None) => (None, None, String::new(), kind),
            };
            Row {
                registry: display_url(&registry),
                source: origin.to_string(),
                storage: origin.storage(),
                variable: origin.variable().map(str::to_string),
                kind: kind.describe(),
                user,
                error,
                credential,
            }
        })
    });
    // Every registry is asked at once: the slowest one sets the pace.
    let rows: Vec<Row> = futures_util::future::join_all(checks).await;
    let failed = rows.iter().filter(|row| row.error.is_some()).count();
    let total = rows.len();
    printer.emit(&Status { rows })?;
    if failed > 0 {
        return Err(
            Failure::new(format!("{failed} of {total} credentials failed"))
                .hint("`rtok login --registry <url>` replaces a failing credential")
                .into(),
        );
    }
    Ok(())
}

/// Registry URLs the config names (`registry`, every `@scope:registry`), so
/// that a credential's nerf dart can be turned back into a URL with its
/// scheme.
fn known_registries(settings: &Settings) -> Vec<Url> {
    let mut urls = vec![settings.registry.clone()];
    for setting in settings.config.effective() {
        if (setting.key == "registry" || setting.key.ends_with(":registry"))
            && let Ok(url) = Url::parse(&setting.value)
        {
            urls.push(url);
        }
    }
    urls
}

/// The registry a credential prefix belongs to: a configured registry the
/// prefix covers (the deepest), else the prefix with `https:` (`http:` for
/// a loopback host).
fn registry_for(prefix: &str, known: &[Url]) -> Url {
    let mut best: BTreeMap<usize, &Url> = BTreeMap::new();
    for url in known {
        if credential_prefixes(url).iter().any(|p| p == prefix) {
            best.insert(url.path().len(), url);
        }
    }
    if let Some((_, url)) = best.iter().next_back() {
        return (*url).clone();
    }
    let path = if prefix.ends_with('/') {
        prefix.to_string()
    } else {
        format!("{prefix}/")
    };
    // A registry on this machine is almost always plain HTTP (Verdaccio's
    // default); anywhere else, HTTPS.
    let https = Url::parse(&format!("https:{path}")).unwrap_or_else(|_| known[0].clone());
    if is_loopback(&https) {
        Url::parse(&format!("http:{path}")).unwrap_or(https)
    } else {
        https
    }
}

/// The credential as the table shows it: never more than its ends.
fn masked(found: &Found) -> String {
    match &found.credential {
        Some(Credential::Bearer(token)) => token.masked(),
        Some(Credential::Basic { username, .. }) => {
            format!("{}:***", username.as_deref().unwrap_or("?"))
        }
        None => "(client certificate)".to_string(),
    }
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
