//! `rtok logout`: revokes the session token on the registry and removes the
//! registry's credentials from the file that held them.

use anyhow::{Context, Result};
use serde_json::json;

use super::Session;
use crate::config::Origin;
use crate::failure::Failure;
use crate::npmrc;
use crate::output::Format;

/// What logout removes under the nerf dart that held the credential (npm's
/// `clearCredentialsByURI`).
const CLEARED_FIELDS: [&str; 7] = [
    "_authToken",
    "_auth",
    "_password",
    "username",
    "email",
    "certfile",
    "keyfile",
];

pub async fn run(session: &Session<'_>) -> Result<()> {
    let registry_shown = session.registry_display();
    let found = session
        .credentials()
        .for_url(&session.registry)?
        .ok_or_else(|| {
            Failure::auth(format!(
                "not logged in to {registry_shown}, so there is nothing to log out of"
            ))
            .hint(format!(
                "check `--registry`/`--scope`; `rtok login --registry {registry_shown}` logs in"
            ))
        })?;
    let registry = session.client("logout")?;
    let username = registry.whoami().await.ok();

    // Revoke first: if the registry cannot be reached the credential stays,
    // so the user can try again rather than leave a live token behind.
    let mut server_note = None;
    let mut revoked = false;
    if let Some(token) = found.token() {
        match registry.revoke_session(token).await {
            Ok(()) => revoked = true,
            Err(err) => match err.status().map(|s| s.as_u16()) {
                Some(401) => server_note = Some("the registry says the token was already invalid"),
                Some(404 | 410) => {
                    server_note = Some("the registry says the token was already gone")
                }
                _ => {
                    let place = found.origin.to_string();
                    return Err(anyhow::Error::new(err).context(format!(
                        "could not revoke the token on {registry_shown}, so it was kept in {place}"
                    )));
                }
            },
        }
    }

    let removed_from = match &found.origin {
        Origin::File { path, .. } => {
            remove_credentials(session, path, &found.reg_key).with_context(|| {
                format!("could not remove the credentials from {}", path.display())
            })?;
            Some(path.display().to_string())
        }
        Origin::Env { var } => {
            session.printer.warn(&format!(
                "the credential comes from the environment variable `{var}`: unset it to finish logging out"
            ));
            None
        }
        Origin::Cli { flag } => {
            session.printer.warn(&format!(
                "the credential was given with `{flag}`; there is nothing to remove"
            ));
            None
        }
    };

    match session.printer.format {
        Format::Json => session.printer.json(&json!({
            "registry": registry_shown,
            "username": username,
            "revoked": revoked,
            "removed_from": removed_from,
        }))?,
        Format::Human | Format::Parseable => {
            let mut message = format!("Logged out of {registry_shown}");
            if let Some(name) = &username {
                message.push_str(&format!(" (user {name})"));
            }
            if let Some(note) = server_note {
                message.push_str(&format!("; {note}"));
            }
            if let Some(path) = &removed_from {
                message.push_str(&format!("; removed the credentials from {path}"));
            }
            session.printer.status(&format!("{message}."));
        }
    }
    Ok(())
}

fn remove_credentials(session: &Session<'_>, path: &std::path::Path, reg_key: &str) -> Result<()> {
    let config = &session.config;
    npmrc::file::edit(path, |doc| {
        for field in CLEARED_FIELDS {
            let wanted = format!("{reg_key}:{field}");
            doc.remove(&|raw: &str| config.expand_key(raw) == wanted);
        }
        if let Some(scope) = &session.scope {
            let wanted = format!("{scope}:registry");
            doc.remove(&|raw: &str| config.expand_key(raw) == wanted);
        }
        Ok(())
    })
}
