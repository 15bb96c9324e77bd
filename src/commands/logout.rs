//! `rtok logout`: revokes the session token on the registry and removes the
//! registry's credentials from the file that held them.

use std::io;

use anyhow::{Context, Result};
use serde::Serialize;

use super::connect;
use crate::client::Client;
use crate::config::Origin;
use crate::config::store::{Holding, Place};
use crate::failure::Failure;
use crate::npmrc::NerfDart;
use crate::output::{Printer, Report, visible};
use crate::registry::Refusal;
use crate::secret::Secret;
use crate::settings::Settings;

/// What `logout` did: `--json` prints it as an object.
#[derive(Serialize)]
struct LoggedOut {
    registry: String,
    username: Option<String>,
    revoked: bool,
    removed_from: Option<String>,
    /// Every client file (or the keyring) the registry's credential left.
    removed: Vec<Removed>,
    /// Why nothing was revoked, when the registry said the token was
    /// already invalid or gone (human output only).
    #[serde(skip)]
    server_note: Option<&'static str>,
}

/// One client's copy removed.
#[derive(Serialize)]
struct Removed {
    client: Option<Client>,
    place: String,
}

impl Report for LoggedOut {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        let mut message = format!("Logged out of {}", self.registry);
        if let Some(name) = &self.username {
            message.push_str(&format!(" (user {})", visible(name)));
        }
        if let Some(note) = self.server_note {
            message.push_str(&format!("; {note}"));
        }
        match self.removed_from.as_deref() {
            Some("keyring") => message.push_str("; removed the token from the system keyring"),
            Some(path) => message.push_str(&format!("; removed the credentials from {path}")),
            None => {}
        }
        let others: Vec<String> = self
            .removed
            .iter()
            .filter(|r| r.client.is_some())
            .map(|r| r.place.clone())
            .collect();
        if !others.is_empty() {
            let joined = others.join(", ");
            if self.removed_from.is_some() {
                message.push_str(&format!(" and from {joined}"));
            } else {
                message.push_str(&format!("; removed the credentials from {joined}"));
            }
        }
        printer.status(&format!("{message}."));
        Ok(())
    }
}

pub(super) async fn run(settings: &Settings, printer: &Printer) -> Result<()> {
    let registry_shown = settings.registry_display();
    let found = settings
        .credentials
        .for_url(&settings.registry)?
        .ok_or_else(|| {
            Failure::auth(format!(
                "not logged in to {registry_shown}, so there is nothing to log out of"
            ))
            .hint(format!(
                "check `--registry`/`--scope`; `rtok login --registry {registry_shown}` logs in"
            ))
        })?;
    // A provider's token belongs to its tool's session: rtok neither
    // revokes nor removes it.
    if let Origin::Provider { name, .. } = &found.origin {
        printer.status(&format!(
            "The token for {registry_shown} comes from the `{name}` provider; sign out with that tool. Nothing was revoked or removed."
        ));
        return Ok(());
    }
    let registry = connect::client(settings, printer, "logout")?;
    let username = registry.whoami().await.ok();

    // Revoke first: if the registry cannot be reached the credential stays,
    // so the user can try again rather than leave a live token behind.
    let mut server_note = None;
    let mut revoked = false;
    if let Some(token) = found.token() {
        match registry.revoke_session(token).await {
            Ok(()) => revoked = true,
            Err(err) => match err.refusal() {
                Some(Refusal::Rejected) => {
                    server_note = Some("the registry says the token was already invalid")
                }
                Some(Refusal::NotFound) => {
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

    let store = settings.store();
    let removed_from = match &found.origin {
        Origin::File { path, .. } => {
            let _done = store
                .remove(
                    &Place::File(path.clone()),
                    &found.nerf,
                    &settings.registry,
                    settings.scope.as_deref(),
                )
                .with_context(|| {
                    format!("could not remove the credentials from {}", path.display())
                })?;
            Some(path.display().to_string())
        }
        Origin::Env { var } => {
            printer.warn(&format!(
                "the credential comes from the environment variable `{var}`: unset it to finish logging out"
            ));
            None
        }
        Origin::Cli { flag } => {
            printer.warn(&format!(
                "the credential was given with `{flag}`; there is nothing to remove"
            ));
            None
        }
        Origin::Keyring => {
            let _done = store
                .remove(&Place::Keyring, &found.nerf, &settings.registry, None)
                .context("the token was revoked, but its keyring item could not be deleted")?;
            Some("keyring".to_string())
        }
        Origin::Command { .. } => {
            printer.status(&format!(
                "The token came from `{}`; the command itself was left alone.",
                found.origin
            ));
            None
        }
        // Returned above.
        Origin::Provider { .. } => None,
        Origin::Oidc { .. } => None,
    };

    // Every other client's file that holds a credential for the registry
    // loses it too; a different literal token there is revoked first (each
    // token once), and kept when that fails.
    let mut removed = Vec::new();
    if let Some(first) = &removed_from {
        removed.push(Removed {
            client: None,
            place: first.clone(),
        });
    }
    let own_nerf = NerfDart::from_url(&settings.registry);
    let mut revoked_tokens: Vec<Secret> = found.token().into_iter().cloned().collect();
    // npm's own copy is the one found above (npm logs out of the file that
    // held the credential, and leaves the others).
    for client in [Client::Pnpm, Client::Yarn] {
        let place = store.file_of(client)?;
        let origin_file = matches!(
            (&found.origin, &place),
            (Origin::File { path, .. }, Place::File(file)) if path == file
        );
        if origin_file {
            continue;
        }
        match store.holding(&place, &settings.registry)? {
            Holding::Nothing => continue,
            Holding::Token { token, .. } if !revoked_tokens.contains(&token) => {
                match registry.revoke_session(&token).await {
                    Ok(()) => revoked = true,
                    Err(err)
                        if matches!(err.refusal(), Some(Refusal::Rejected | Refusal::NotFound)) => {
                    }
                    Err(err) => {
                        printer.warn(&format!(
                            "{} holds another token for {registry_shown}, which could not be revoked ({err}); it was kept there",
                            place.shown()
                        ));
                        continue;
                    }
                }
                revoked_tokens.push(token);
            }
            _ => {}
        }
        let _done = store
            .remove(
                &place,
                &own_nerf,
                &settings.registry,
                settings.scope.as_deref(),
            )
            .with_context(|| format!("could not remove the credentials from {}", place.shown()))?;
        removed.push(Removed {
            client: Some(client),
            place: place.shown(),
        });
    }

    printer.emit(&LoggedOut {
        registry: registry_shown,
        username,
        revoked,
        removed_from,
        removed,
        server_note,
    })?;
    Ok(())
}
