//! `rtok keyring import|export`: moves literal `_authToken` lines of the
//! user config into the system keyring and back. Each file edit is atomic
//! and lossless (only the moved lines change; `${VAR}` references are never
//! touched), the registry is recorded in (or removed from) rtok's settings,
//! and with no usable keyring nothing is written anywhere.

use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use url::Url;

use crate::cli::{KeyringArgs, KeyringCommand};
use crate::config::credential::AuthKind;
use crate::config::{LayerKind, Origin, registries};
use crate::display::display_url;
use crate::failure::Failure;
use crate::keyring::Keyring;
use crate::npmrc::{self, Document, nerf_dart};
use crate::output::{Printer, Report};
use crate::rtok_config::{self, RegistrySettings};
use crate::secret::Secret;
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

/// One token to move into the keyring.
struct Move {
    /// The nerf dart: the `.npmrc` key's prefix, and the keyring user name.
    nerf: String,
    /// The registry as recorded in rtok's settings.
    url: Url,
    /// `path:line` of the line that held it.
    from: String,
    token: Secret,
}

fn import(settings: &Settings, args: &KeyringArgs, printer: &Printer) -> Result<()> {
    let user_config = user_config(settings)?;
    let rtok = &settings.rtok;
    let moves = if args.all {
        every_literal_token(settings, &user_config)?
    } else {
        match current_token(settings, printer, &user_config)? {
            Some(one) => vec![one],
            None => return report_import(printer, &[]),
        }
    };
    if moves.is_empty() {
        printer.status(&format!(
            "Nothing to import: {} has no literal `_authToken` line.",
            user_config.display()
        ));
        return report_import(printer, &[]);
    }

    // Asked before anything is written: with no keyring, nothing changes.
    let keyring = Keyring::open()?;
    keyring.check()?;
    let mut stored: Vec<(&Move, Option<Secret>)> = Vec::new();
    let outcome = (|| -> Result<()> {
        for one in &moves {
            let previous = keyring.get(&one.nerf).unwrap_or(None);
            keyring.set(&one.nerf, &one.token)?;
            stored.push((one, previous));
            if keyring.get(&one.nerf)?.as_ref() != Some(&one.token) {
                bail!(Failure::new(format!(
                    "the system keyring did not keep the token for {}",
                    one.nerf
                )));
            }
        }
        rtok_config::edit(&rtok.path, |editor| {
            for one in &moves {
                editor.record_keyring(&one.url);
            }
            Ok(())
        })
        .with_context(|| format!("could not record the keyring in {}", rtok.path.display()))?;
        if let Err(err) = remove_lines(settings, &user_config, &moves) {
            // The settings had not recorded these before (or import would
            // not have found the lines): take the records back.
            let _ = rtok_config::edit(&rtok.path, |editor| {
                for one in &moves {
                    if rtok.at(&one.nerf).is_none_or(|r| !r.keyring) {
                        editor.forget_keyring(&one.nerf);
                    }
                }
                Ok(())
            });
            return Err(err);
        }
        Ok(())
    })();
    if let Err(err) = outcome {
        // Put the keyring back as it was; the files were left unchanged.
        for (one, previous) in &stored {
            let _ = match previous {
                Some(token) => keyring.set(&one.nerf, token),
                None => keyring.delete(&one.nerf).map(drop),
            };
        }
        return Err(err.context("nothing was moved"));
    }
    report_import(printer, &moves)
}

fn report_import(printer: &Printer, moves: &[Move]) -> Result<()> {
    let moved = moves
        .iter()
        .map(|m| MovedToken {
            registry: display_url(&m.url),
            from: Some(m.from.clone()),
            to: None,
        })
        .collect();
    printer.emit(&Moved {
        moved,
        into_keyring: true,
    })?;
    Ok(())
}

/// The token npm uses for the configured registry, when it is a literal
/// `_authToken` line of the user config; otherwise why not.
fn current_token(
    settings: &Settings,
    printer: &Printer,
    user_config: &Path,
) -> Result<Option<Move>> {
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
        line,
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
    let key = format!("{}:_authToken", found.reg_key);
    if let Some(variable) = variable {
        return Err(Failure::new(format!(
            "`{key}` ({place}) refers to a variable (`${{{variable}}}`): the token is not in the file, so there is nothing to import"
        ))
        .hint("store the variable's token in the keyring by logging in again, or keep the variable")
        .into());
    }
    let token = found
        .token()
        .cloned()
        .ok_or_else(|| Failure::new(format!("{place} holds no token")))?;
    Ok(Some(Move {
        url: registry_url(settings, &found.reg_key),
        nerf: nerf_dart(&registry_url(settings, &found.reg_key)),
        from: format!("{}:{line}", user_config.display()),
        token,
    }))
}

/// Every literal `_authToken` line of the user config (the last one for
/// each registry, as npm reads it).
fn every_literal_token(settings: &Settings, user_config: &Path) -> Result<Vec<Move>> {
    let document = match std::fs::read(user_config) {
        Ok(bytes) => Document::parse(bytes),
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => {
            return Err(err).with_context(|| format!("could not read {}", user_config.display()));
        }
    };
    let mut moves: Vec<Move> = Vec::new();
    for located in document.entries() {
        let key = settings.config.expand_key(&located.entry.key);
        let Some(prefix) = key.strip_suffix(":_authToken") else {
            continue;
        };
        let value = &located.entry.value;
        if !prefix.starts_with("//") || value.is_empty() || value.contains("${") {
            continue;
        }
        let url = registry_url(settings, prefix);
        let nerf = nerf_dart(&url);
        moves.retain(|m| m.nerf != nerf);
        moves.push(Move {
            nerf,
            url,
            from: format!("{}:{}", user_config.display(), located.line),
            token: Secret::new(value.clone()),
        });
    }
    Ok(moves)
}

/// A registry URL for a nerf dart, with the scheme of a configured registry
/// on its host.
fn registry_url(settings: &Settings, nerf: &str) -> Url {
    let known = registries::configured(&settings.config, &settings.registry);
    registries::url_for_nerf(nerf, &known).unwrap_or_else(|| settings.registry.clone())
}

/// Removes the moved lines from the user config, checking under the file's
/// lock that they still hold the tokens that went to the keyring.
fn remove_lines(settings: &Settings, user_config: &Path, moves: &[Move]) -> Result<()> {
    let config = &settings.config;
    npmrc::file::edit(user_config, |document| {
        for one in moves {
            let keys: Vec<String> = document
                .entries()
                .map(|l| config.expand_key(&l.entry.key))
                .filter(|key| {
                    key.strip_suffix(":_authToken")
                        .is_some_and(|prefix| same_nerf(settings, prefix, &one.nerf))
                })
                .collect();
            let last = document
                .entries()
                .filter(|l| keys.contains(&config.expand_key(&l.entry.key)))
                .last()
                .map(|l| l.entry.value.clone());
            if last.as_deref() != Some(one.token.expose()) {
                bail!(Failure::new(format!(
                    "{} changed while rtok was working (the token for {} is no longer the one read)",
                    user_config.display(),
                    one.nerf
                ))
                .hint("run the command again"));
            }
            document.remove(&|raw: &str| keys.contains(&config.expand_key(raw)));
        }
        Ok(())
    })
    .with_context(|| format!("could not remove the tokens from {}", user_config.display()))
}

fn same_nerf(settings: &Settings, prefix: &str, nerf: &str) -> bool {
    prefix.starts_with("//") && nerf_dart(&registry_url(settings, prefix)) == nerf
}

/// One registry to move back into the user config.
struct Export<'a> {
    settings: &'a RegistrySettings,
    token: Secret,
}

fn export(settings: &Settings, args: &KeyringArgs, printer: &Printer) -> Result<()> {
    let user_config = user_config(settings)?;
    let rtok = &settings.rtok;
    let targets: Vec<&RegistrySettings> = if args.all {
        rtok.keyring_registries().collect()
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
        vec![found]
    };
    if targets.is_empty() {
        printer.status(&format!(
            "Nothing to export: {} records no token in the keyring.",
            rtok.path.display()
        ));
        return report_export(printer, &[], &user_config);
    }

    // Every token is read before anything is written.
    let keyring = Keyring::open()?;
    let mut exports = Vec::new();
    for target in targets {
        let token = keyring.get(&target.nerf)?.ok_or_else(|| {
            Failure::new(format!(
                "the system keyring has no item for {} (service `rtok`, user `{}`), though {} records one",
                display_url(&target.url),
                target.nerf,
                rtok.path.display()
            ))
            .hint(format!(
                "log in again, or remove `storage = \"keyring\"` from `[registry.\"{}\"]` in {}",
                target.key,
                rtok.path.display()
            ))
        })?;
        exports.push(Export {
            settings: target,
            token,
        });
    }

    write_tokens(settings, &user_config, &exports)?;
    rtok_config::edit(&rtok.path, |editor| {
        for one in &exports {
            editor.forget_keyring(&one.settings.nerf);
        }
        Ok(())
    })
    .with_context(|| {
        format!(
            "the tokens were written to {}, but {} could not be updated",
            user_config.display(),
            rtok.path.display()
        )
    })?;
    for one in &exports {
        keyring.delete(&one.settings.nerf).with_context(|| {
            format!(
                "the token for {} was written to {}, but its keyring item could not be deleted",
                display_url(&one.settings.url),
                user_config.display()
            )
        })?;
    }
    report_export(printer, &exports, &user_config)
}

/// Writes `<nerf>:_authToken=<token>` for each export into the user config;
/// refuses to replace a different literal token already there.
fn write_tokens(settings: &Settings, user_config: &Path, exports: &[Export<'_>]) -> Result<()> {
    let config = &settings.config;
    npmrc::file::edit(user_config, |document| {
        for one in exports {
            let key = format!("{}:_authToken", one.settings.nerf);
            let current = document
                .entries()
                .filter(|l| config.expand_key(&l.entry.key) == key)
                .last()
                .map(|l| l.entry.value.clone());
            if let Some(current) = current
                && current != one.token.expose()
            {
                bail!(
                    Failure::new(format!(
                        "{} already has another `{key}` line; rtok will not replace it",
                        user_config.display()
                    ))
                    .hint("remove that line first, or keep using the keyring")
                );
            }
            document.set(&key, one.token.expose(), &|raw: &str| {
                config.expand_key(raw) == key
            });
        }
        Ok(())
    })
    .with_context(|| format!("could not write the tokens to {}", user_config.display()))
}

fn report_export(printer: &Printer, exports: &[Export<'_>], user_config: &Path) -> Result<()> {
    let to = user_config.display().to_string();
    let moved = exports
        .iter()
        .map(|e| MovedToken {
            registry: display_url(&e.settings.url),
            from: None,
            to: Some(to.clone()),
        })
        .collect();
    printer.emit(&Moved {
        moved,
        into_keyring: false,
    })?;
    Ok(())
}

fn user_config(settings: &Settings) -> Result<PathBuf> {
    settings
        .config
        .user_config_path()
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            Failure::new("there is no home folder for `~/.npmrc`")
                .hint("pass `--userconfig <path>`")
                .into()
        })
}
