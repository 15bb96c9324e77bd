//! `rtok logout`: revokes the session token on the registry and removes the
//! registry's credentials from the file that held them.

use std::io;

use anyhow::{Context, Result};
use serde::Serialize;

use super::connect;
use crate::config::Origin;
use crate::config::store::Place;
use crate::failure::Failure;
use crate::output::{Printer, Report, visible};
use crate::registry::Refusal;
use crate::settings::Settings;

/// What `logout` did: `--json` prints it as an object.
#[derive(Serialize)]
struct LoggedOut {
    registry: String,
    username: Option<String>,
    revoked: bool,
    removed_from: Option<String>,
    /// Why nothing was revoked, when the registry said the token was
    /// already invalid or gone (human output only).
    #[serde(skip)]
    server_note: Option<&'static str>,
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
                .remove(&Place::Keyring, &found.nerf, None)
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

    printer.emit(&LoggedOut {
        registry: registry_shown,
        username,
        revoked,
        removed_from,
        server_note,
    })?;
    Ok(())
}
