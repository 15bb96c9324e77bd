//! `rtok refresh [--all] [--for CLIENTS] [--min-remaining D]`: for tools
//! that only read files (a CI step running `npm ci`, a cron job), writes
//! each provider's fresh token into the client files through the credential
//! store (only the registry's own lines), and records the token's expiry in
//! rtok's settings (never the token). A token written before that still has
//! more than `--min-remaining` left is left alone, so running it often
//! changes nothing. Every token is fetched before anything is written: a
//! provider that fails leaves every file as it was.

use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::cli::RefreshArgs;
use crate::config::store::{Change, Entry, Place, Store};
use crate::config::stored;
use crate::display::display_url;
use crate::failure::Failure;
use crate::output::{Printer, Report};
use crate::rtok_config::{Refreshed, RegistrySettings, Storage};
use crate::settings::Settings;
use crate::time;

/// `--json`: `{"refreshed": [{"registry", "provider", "action", "expires", "files"}]}`.
#[derive(Serialize)]
struct Refresh {
    refreshed: Vec<Row>,
}

#[derive(Serialize)]
struct Row {
    registry: String,
    /// The preset's name, or `credential-command`.
    provider: String,
    /// `written`, or `fresh` (the token in the files lasts long enough).
    action: &'static str,
    /// ISO 8601, when known.
    expires: Option<String>,
    files: Vec<String>,
}

impl Report for Refresh {
    fn human(&self, printer: &Printer) -> io::Result<()> {
        for row in &self.refreshed {
            let until = row
                .expires
                .as_deref()
                .map(|at| format!("until {}", shown_time(at)))
                .unwrap_or_else(|| "for an unknown time".into());
            let files = row.files.join(", ");
            match row.action {
                "written" => printer.status(&format!(
                    "Wrote a fresh token for {} ({}) into {files}; it lasts {until}.",
                    row.registry, row.provider
                )),
                _ => printer.status(&format!(
                    "The token for {} in {files} lasts {until}; left alone.",
                    row.registry
                )),
            }
        }
        Ok(())
    }
}

/// `2026-12-08 13:00 UTC`.
fn shown_time(iso: &str) -> String {
    match time::parse(iso) {
        Some(at) => {
            let text = time::to_iso8601(at);
            format!("{} {} UTC", &text[..10], &text[11..16])
        }
        None => iso.to_string(),
    }
}

pub(super) fn run(settings: &Settings, args: &RefreshArgs, printer: &Printer) -> Result<()> {
    let targets = targets(settings, args)?;
    let store = settings.store();
    let places = places(settings, &store, args)?;
    let files: Vec<PathBuf> = places
        .iter()
        .filter_map(|place| match place {
            Place::File(path) | Place::Yarnrc(path) => Some(path.clone()),
            Place::Keyring | Place::TokenHelper { .. } => None,
        })
        .collect();
    let now = time::now();

    // Every token first: a provider that fails leaves every file alone.
    let mut planned = Vec::new();
    let mut rows = Vec::new();
    for target in targets {
        let provider = provider_name(target);
        if let Some(until) = still_fresh(target, &files, args, now) {
            rows.push(Row {
                registry: display_url(&target.url),
                provider,
                action: "fresh",
                expires: Some(until),
                files: shown(&files),
            });
            continue;
        }
        let Some((token, expires)) = settings
            .credentials
            .provider_token(&target.nerf, args.min_remaining)?
        else {
            continue;
        };
        planned.push((target, token, expires));
        rows.push(Row {
            registry: display_url(&target.url),
            provider,
            action: "written",
            expires: expires.map(time::to_iso8601),
            files: shown(&files),
        });
    }

    let mut changes: Vec<Change> = Vec::new();
    let written = (|| -> Result<()> {
        for (target, token, expires) in &planned {
            for place in &places {
                let entry = Entry {
                    registry: &target.url,
                    token,
                    scope: None,
                };
                let saved = store
                    .save(place, &entry)
                    .with_context(|| format!("could not write the token to {}", place.shown()))?;
                changes.push(saved.change);
            }
            if let Some(expires) = expires {
                let record = Refreshed {
                    expires: time::to_iso8601(*expires),
                    files: files.clone(),
                    fingerprint: stored::fingerprint(token),
                };
                changes.push(store.record_refresh(&target.nerf, &record)?);
            }
        }
        Ok(())
    })();
    if let Err(err) = written {
        let undone: Vec<String> = changes
            .into_iter()
            .rev()
            .map(|change| change.undo(&store).sentence())
            .collect();
        return Err(err.context(format!("nothing was refreshed ({})", undone.join("; "))));
    }
    printer.emit(&Refresh { refreshed: rows })?;
    Ok(())
}

/// The registries to refresh: every one with a provider (`--all`), else
/// the configured registry, which must have one.
fn targets<'a>(settings: &'a Settings, args: &RefreshArgs) -> Result<Vec<&'a RegistrySettings>> {
    let has_provider =
        |r: &&RegistrySettings| stored::source(r).is_some_and(|source| source.provider().is_some());
    let config = settings.rtok.path.display();
    if args.all {
        let all: Vec<_> = settings
            .rtok
            .registries()
            .iter()
            .filter(has_provider)
            .collect();
        if all.is_empty() {
            return Err(Failure::new(format!("no registry in {config} has a provider"))
                .hint(format!(
                    "add `provider = \"codeartifact\"` (or \"gcloud\", \"azure\", \"gh\") under `[registry.\"<url>\"]` in {config}"
                ))
                .into());
        }
        return Ok(all);
    }
    match settings.rtok.for_url(&settings.registry).filter(has_provider) {
        Some(one) => Ok(vec![one]),
        None => Err(Failure::new(format!(
            "{} has no provider in {config}",
            settings.registry_display()
        ))
        .hint(format!(
            "add `provider = \"...\"` under `[registry.\"{}\"]` in {config}, pass `--registry <url>` of one that has, or `--all`",
            settings.registry_display()
        ))
        .into()),
    }
}

/// The client files the tokens go to: those of the clients `--for` names,
/// else of the `clients` setting, else npm's and every client's whose file
/// exists (as `login` chooses them). Each is checked before anything is
/// fetched or written.
fn places(settings: &Settings, store: &Store<'_>, args: &RefreshArgs) -> Result<Vec<Place>> {
    let places: Vec<Place> = super::copies::targets(settings, &args.clients, Storage::File)?
        .into_iter()
        .filter_map(|(_, place)| place)
        .collect();
    for place in &places {
        store.check(place, &settings.registry)?;
    }
    Ok(places)
}

/// The recorded expiry, when the token `refresh` wrote is still in every
/// file and has more than `--min-remaining` left.
fn still_fresh(
    target: &RegistrySettings,
    files: &[PathBuf],
    args: &RefreshArgs,
    now: SystemTime,
) -> Option<String> {
    let recorded = target.refreshed.as_ref()?;
    let expires = time::parse(&recorded.expires)?;
    let left = expires.duration_since(now).ok()?;
    let everywhere = files.iter().all(|file| {
        recorded.files.contains(file)
            && stored::file_holds(file, &target.url, &recorded.fingerprint)
    });
    (left > args.min_remaining && everywhere).then(|| recorded.expires.clone())
}

fn provider_name(target: &RegistrySettings) -> String {
    match &target.provider {
        Some(preset) => preset.name().to_string(),
        None => "credential-command".to_string(),
    }
}

fn shown(files: &[PathBuf]) -> Vec<String> {
    files.iter().map(|f| f.display().to_string()).collect()
}
