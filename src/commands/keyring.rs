//! `rtok keyring import|export`: moves literal `_authToken` lines of the
//! user config into the system keyring and back. Each file edit is atomic
//! and lossless (only the moved lines change; `${VAR}` references are never
//! touched), the registry is recorded in (or removed from) rtok's settings,
//! and with no usable keyring nothing is written anywhere.

use std::io;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use url::Url;

use crate::cli::{KeyringArgs, KeyringCommand};
use crate::config::credential::AuthKind;
use crate::config::store;
use crate::config::{LayerKind, Origin, registries};
use crate::display::display_url;
use crate::failure::Failure;
use crate::npmrc::nerf_dart;
use crate::output::{Printer, Report};
use crate::rtok_config::Storage;
use crate::settings::Settings;

pub(super) fn run(settings: &Settings, command: &KeyringCommand, printer: &Printer) -> Result<()> {
    match command {
        KeyringCommand::Import(args) => import(settings, args, printer),
        KeyringCommand::Export(args) => export(settings, args, printer),
    }
}

/// What moved: `--json` prints `{"moved": [{"registry", "from"|"to"}]}`.
#[derive(Serialize)]
struct Moved {
    moved: Vec<MovedToken>,
    #[serde(skip)]
    into_keyring: bool,
}

#[derive(Serialize)]
struct MovedToken {
    registry: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<String>,
}

impl Report for Moved {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        for one in &self.moved {
            match (&one.from, &one.to) {
                (Some(from), _) => printer.status(&format!(
                    "Moved the token for {} from {from} to the system keyring.",
                    one.registry
                )),
                (None, Some(to)) => printer.status(&format!(
                    "Moved the token for {} from the system keyring to {to}.",
                    one.registry
                )),
                (None, None) => {}
            }
        }
        if self.into_keyring && !self.moved.is_empty() {
            printer.status(
                "hint: npm cannot read the keyring: run it through rtok from now on, e.g. `rtok exec -- npm publish` (and `--ignore-scripts` for installs)",
            );
        }
        Ok(())
    }
}

fn import(settings: &Settings, args: &KeyringArgs, printer: &Printer) -> Result<()> {
    let store = settings.store();
    let user_config = store.user_config()?;
    let only = if args.all {
        None
    } else {
        match current_token(settings, printer, &user_config)? {
            Some(nerf) => Some(nerf),
            None => return report_import(printer, &[]),
        }
    };
    let registry_of = |prefix: &str| registry_url(settings, prefix);
    let wanted = |nerf: &str| only.as_deref().is_none_or(|only| only == nerf);
    // pnpm's auth.ini gets a token helper line naming this rtok.
    let program = super::copies::rtok_program();
    let moves = store.move_to_keyring(&registry_of, &wanted, &program)?;
    if moves.is_empty() {
        match &only {
            // Another import may have moved it meanwhile.
            Some(nerf) if store.records_keyring(nerf) => printer.status(&format!(
                "The token for {} is already in the system keyring.",
                settings.registry_display()
            )),
            _ => printer.status(&format!(
                "Nothing to import: {} has no literal `_authToken` line.",
                user_config.display()
            )),
        }
    }
    report_import(printer, &moves)
}

fn report_import(printer: &Printer, moves: &[store::Moved]) -> Result<()> {
    let moved = moves
        .iter()
        .map(|m| MovedToken {
            registry: display_url(&m.registry),
            from: Some(m.places.join(", "))
                .filter(|p| !p.is_empty())
                .or(m.from.clone()),
            to: None,
        })
        .collect();
    printer.emit(&Moved {
        moved,
        into_keyring: true,
    })?;
    Ok(())
}

/// The nerf dart of the token npm uses for the configured registry, when it
/// is a literal `_authToken` line of the user config; otherwise why not.
fn current_token(
    settings: &Settings,
    printer: &Printer,
    user_config: &Path,
) -> Result<Option<String>> {
    let shown = settings.registry_display();
    let found = settings.credentials.for_url(&settings.registry)?;
    let Some(found) = found.filter(|f| {
        matches!(
            f.origin,
            Origin::File { .. } | Origin::Env { .. } | Origin::Cli { .. }
        )
    }) else {
        if settings
            .rtok
            .for_url(&settings.registry)
            .is_some_and(|r| r.keyring)
        {
            printer.status(&format!(
                "The token for {shown} is already in the system keyring."
            ));
            return Ok(None);
        }
        return Err(Failure::new(format!(
            "there is no token for {shown} in {}",
            user_config.display()
        ))
        .hint(format!(
            "log in with `rtok login --registry {shown}`, or import every registry's token with `rtok keyring import --all`"
        ))
        .into());
    };
    let place = found.origin.to_string();
    let Origin::File {
        layer: LayerKind::User,
        variable,
        ..
    } = &found.origin
    else {
        return Err(Failure::new(format!(
            "the credential for {shown} comes from {place}, not from the user config {}",
            user_config.display()
        ))
        .hint("`rtok keyring import` moves tokens of the user config only")
        .into());
    };
    if found.kind != AuthKind::Token {
        return Err(Failure::new(format!(
            "the credential for {shown} ({place}) is {}, not a token",
            match found.kind {
                AuthKind::ClientCertificate => "a client certificate",
                _ => "a user name and password",
            }
        ))
        .hint(format!(
            "log in again with `rtok login --registry {shown}` to get a token"
        ))
        .into());
    }
    let key = format!("{}:_authToken", found.nerf);
    if let Some(variable) = variable {
        return Err(Failure::new(format!(
            "`{key}` ({place}) refers to a variable (`${{{variable}}}`): the token is not in the file, so there is nothing to import"
        ))
        .hint("store the variable's token in the keyring by logging in again, or keep the variable")
        .into());
    }
    if found.token().is_none() {
        return Err(Failure::new(format!("{place} holds no token")).into());
    }
    Ok(Some(nerf_dart(&registry_url(
        settings,
        found.nerf.as_str(),
    ))))
}

/// A registry URL for a nerf dart, with the scheme of a configured registry
/// on its host.
fn registry_url(settings: &Settings, nerf: &str) -> Url {
    let known = registries::configured(&settings.config, &settings.registry);
    registries::url_for_nerf(nerf, &known).unwrap_or_else(|| settings.registry.clone())
}

fn export(settings: &Settings, args: &KeyringArgs, printer: &Printer) -> Result<()> {
    let store = settings.store();
    let rtok = &settings.rtok;
    let only = if args.all {
        None
    } else {
        let shown = settings.registry_display();
        let found = crate::npmrc::credential_prefixes(&settings.registry)
            .into_iter()
            .filter_map(|prefix| rtok.at(&prefix))
            .find(|r| r.keyring)
            .ok_or_else(|| {
                Failure::new(format!(
                    "{} records no keyring token for {shown}",
                    rtok.path.display()
                ))
                .hint("`rtok keyring export --all` exports every token kept in the keyring")
            })?;
        Some(found.nerf.clone())
    };
    let wanted = |nerf: &str| only.as_deref().is_none_or(|only| only == nerf);
    let places: Vec<store::Place> = super::copies::targets(settings, &args.clients, Storage::File)?
        .into_iter()
        .filter_map(|(_, place)| place)
        .collect();
    for place in &places {
        store.check(place, &settings.registry)?;
    }
    let moved = store.move_to_file(&wanted, &places)?;
    if moved.is_empty() {
        printer.status(&format!(
            "Nothing to export: {} records no token in the keyring.",
            rtok.path.display()
        ));
    }
    report_export(printer, &moved)
}

fn report_export(printer: &Printer, exports: &[store::Moved]) -> Result<()> {
    let moved = exports
        .iter()
        .map(|e| MovedToken {
            registry: display_url(&e.registry),
            from: None,
            to: Some(e.places.join(", ")),
        })
        .collect();
    printer.emit(&Moved {
        moved,
        into_keyring: false,
    })?;
    Ok(())
}
