//! `rtok status`: every registry this machine has credentials for, where
//! each credential comes from, and whether the registry still accepts it.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::json;
use url::Url;

use super::Session;
use crate::config::credentials::{Credential, Found};
use crate::config::network::Network;
use crate::failure::Failure;
use crate::npmrc::credential_prefixes;
use crate::output::Format;
use crate::registry::{ClientConfig, Registry, display_url};

/// One checked credential.
struct Row {
    registry: Url,
    found: Found,
    user: Result<String, String>,
}

pub async fn run(session: &Session<'_>) -> Result<()> {
    let credentials = session.credentials();
    let prefixes = credentials.prefixes();
    if prefixes.is_empty() {
        return Err(Failure::auth(
            "no registry credentials in the config files or the environment",
        )
        .hint("log in with `rtok login`")
        .into());
    }
    let network = Network::from_config(&session.config)?;
    let known = known_registries(session);

    let checks = prefixes.into_iter().filter_map(|prefix| {
        let found = credentials.at(prefix).ok().flatten()?;
        let registry = registry_for(prefix, &known);
        let client = Registry::new(ClientConfig {
            registry: registry.clone(),
            credentials: credentials.clone(),
            network: network.clone(),
            command: "whoami",
            observer: None,
        });
        Some(async move {
            let user = match client {
                Ok(client) => client.whoami().await.map_err(|err| err.to_string()),
                Err(err) => Err(err.to_string()),
            };
            Row {
                registry,
                found,
                user,
            }
        })
    });
    // Every registry is asked at once: the slowest one sets the pace.
    let rows: Vec<Row> = futures_util::future::join_all(checks).await;

    let printer = session.printer;
    match printer.format {
        Format::Json => printer.json(&json!(
            rows.iter()
                .map(|row| json!({
                    "registry": display_url(&row.registry),
                    "source": row.found.origin.to_string(),
                    "kind": row.found.kind.describe(),
                    "user": row.user.as_ref().ok(),
                    "error": row.user.as_ref().err(),
                    "credential": masked(&row.found),
                }))
                .collect::<Vec<_>>()
        ))?,
        Format::Parseable => {
            printer.data("registry\tsource\tkind\tuser\tcredential\terror")?;
            for row in &rows {
                printer.data(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    display_url(&row.registry),
                    row.found.origin,
                    row.found.kind.describe(),
                    row.user.as_ref().map(String::as_str).unwrap_or(""),
                    masked(&row.found),
                    row.user.as_ref().err().map(String::as_str).unwrap_or("")
                ))?;
            }
        }
        Format::Human => {
            let mut table = printer.table(&["registry", "source", "kind", "user", "credential"]);
            for row in &rows {
                table.add_row(vec![
                    display_url(&row.registry),
                    row.found.origin.to_string().replace('`', ""),
                    row.found.kind.describe().to_string(),
                    match &row.user {
                        Ok(user) => user.clone(),
                        Err(err) => format!("failed: {err}"),
                    },
                    masked(&row.found),
                ]);
            }
            printer.data(&table.to_string())?;
        }
    }
    let failed = rows.iter().filter(|row| row.user.is_err()).count();
    if failed > 0 {
        return Err(
            Failure::new(format!("{failed} of {} credentials failed", rows.len()))
                .hint("`rtok login --registry <url>` replaces a failing credential")
                .into(),
        );
    }
    Ok(())
}

/// Registry URLs the config names (`registry`, every `@scope:registry`), so
/// that a credential's nerf dart can be turned back into a URL with its
/// scheme.
fn known_registries(session: &Session<'_>) -> Vec<Url> {
    let mut urls = vec![session.registry.clone()];
    for setting in session.config.effective() {
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
    if crate::registry::client::is_loopback(&https) {
        Url::parse(&format!("http:{path}")).unwrap_or(https)
    } else {
        https
    }
}

/// The credential as the table shows it: never more than its ends.
fn masked(found: &Found) -> String {
    match &found.credential {
        Some(Credential::Bearer(token)) => mask(token.expose()),
        Some(Credential::Basic { username, .. }) => {
            format!("{}:***", username.as_deref().unwrap_or("?"))
        }
        None => "(client certificate)".to_string(),
    }
}

/// `npm_aBcD...7890` for npm tokens, `abcd...wxyz` for others, `***` when
/// too short to show any of it safely.
pub fn mask(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    let head = if token.starts_with("npm_") { 8 } else { 4 };
    if chars.len() < head + 4 + 8 {
        return "***".to_string();
    }
    let start: String = chars[..head].iter().collect();
    let end: String = chars[chars.len() - 4..].iter().collect();
    format!("{start}...{end}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_show_only_the_ends() {
        assert_eq!(
            mask("npm_aBcDefghijklmnopqrstuvwxyz7890"),
            "npm_aBcD...7890"
        );
        assert_eq!(mask("abcdefghijklmnopqrstuvwxyz"), "abcd...wxyz");
        assert_eq!(mask("short-token"), "***");
    }

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
