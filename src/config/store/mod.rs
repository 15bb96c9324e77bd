//! The credential store: the one place that writes a registry's credential
//! wherever it lives (lines of an `.npmrc` file, or a keyring item and its
//! record in rtok's settings), removes it, replaces it, and moves it between
//! places. `login`, `logout`, `token rotate` and `keyring import|export`
//! decide what to do; this module alone builds the lines, items and records.
//!
//! Every change returns a [`Change`] whose undo reverts only what that change
//! did: when nothing else touched a place since, its exact earlier bytes (or
//! item) come back; when something did, only the keys this change set are
//! put back, and only where they still hold what this change wrote, so
//! another process's write is never erased.
//!
//! Locks, always taken in this order: the keyring lock (a file beside rtok's
//! settings that guards keyring items and their records, since the keyring
//! has no lock of its own), then a file's folder lock (the safe writer takes
//! it for each edit). What a move decides is re-read under its locks.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use url::Url;

use super::{Config, clients};
use crate::client::Client;
use crate::failure::Failure;
use crate::keyring::Keyring;
use crate::npmrc::keys::AUTH_FIELDS;
use crate::npmrc::{self, Document, NerfDart, Reference, nerf_dart};
use crate::private_file::Holds;
use crate::rtok_config;
use crate::secret::Secret;
use crate::yarnrc;

mod copies;
mod yarn;

pub(crate) use copies::Holding;

/// The fields of a registry's credential that a new token replaces (npm's
/// `setCredentialsByURI` for a token).
const REPLACED_FIELDS: [&str; 3] = ["_auth", "username", "_password"];

/// What a logout removes under the nerf dart that held the credential
/// (npm's `clearCredentialsByURI`).
const CLEARED_FIELDS: [&str; 8] = [
    "_authToken",
    "tokenHelper",
    "_auth",
    "_password",
    "username",
    "email",
    "certfile",
    "keyfile",
];

/// Where a credential is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// Lines of a file in npm's ini dialect: an `.npmrc`, or pnpm's
    /// `auth.ini`.
    File(PathBuf),
    /// yarn berry's `.yarnrc.yml`: `npmRegistries["<url>"].npmAuthToken`,
    /// or `npmScopes.<scope>` with a scope.
    Yarnrc(PathBuf),
    /// The system keyring, recorded in rtok's settings.
    Keyring,
    /// pnpm's `auth.ini` naming rtok as the registry's `tokenHelper`
    /// (`<program> token-helper <registry>`), with the token in the keyring:
    /// pnpm 11+ asks rtok, and no file holds the token.
    TokenHelper { path: PathBuf, program: PathBuf },
}

impl Place {
    /// The place as messages name it: the file, or the system keyring.
    pub(crate) fn shown(&self) -> String {
        match self {
            Place::File(path) | Place::Yarnrc(path) => path.display().to_string(),
            Place::Keyring => "the system keyring".to_string(),
            Place::TokenHelper { path, .. } => {
                format!(
                    "{} (a token helper; the token is in the system keyring)",
                    path.display()
                )
            }
        }
    }
}

/// A registry's credential as the store writes it.
#[derive(Debug, Clone)]
pub(crate) struct Entry<'a> {
    pub registry: &'a Url,
    pub token: &'a Secret,
    /// `--scope`: also map `@scope:registry` to the registry in the user
    /// config.
    pub scope: Option<&'a str>,
}

impl Entry<'_> {
    fn nerf(&self) -> String {
        nerf_dart(self.registry)
    }
}

/// The store, for one run: npm's config (to match `${VAR}` in keys as npm
/// expands them), the user config, and rtok's settings file.
pub(crate) struct Store<'a> {
    config: &'a Config,
    settings_path: &'a Path,
}

/// What a save left in place: keys holding `${VAR}` references (never
/// replaced by a literal) that will keep hiding a keyring token.
#[derive(Debug, Default)]
pub(crate) struct Saved {
    pub change: Change,
    pub references: Vec<String>,
}

/// One token moved between the user config and the keyring.
#[derive(Debug, Clone)]
pub(crate) struct Moved {
    pub registry: Url,
    pub nerf: String,
    /// `path:line` it came from (import), the first of `sources`.
    pub from: Option<String>,
    /// Every client file line it came from (import), or went to (export).
    pub places: Vec<String>,
}

/// Where an imported token is written, to be removed from there.
#[derive(Debug, Clone)]
enum Source {
    /// An `_authToken` line of the user config or of pnpm's `auth.ini`
    /// (`helper`: replaced by a token helper line, for pnpm).
    Ini { path: PathBuf, helper: bool },
    /// An `npmRegistries` entry of yarn's `.yarnrc.yml`.
    Yarn { path: PathBuf },
}

impl<'a> Store<'a> {
    pub(crate) fn new(config: &'a Config, settings_path: &'a Path) -> Store<'a> {
        Store {
            config,
            settings_path,
        }
    }

    /// The user config, where credentials are written by default.
    pub(crate) fn user_config(&self) -> Result<PathBuf> {
        self.config
            .user_config_path()
            .map(Path::to_path_buf)
            .ok_or_else(|| {
                Failure::new("there is no home folder for `~/.npmrc`")
                    .hint("pass `--userconfig <path>`")
                    .into()
            })
    }

    /// Saves `entry` as the registry's credential in `place` (`login`).
    ///
    /// - A file: `<nerf>:_authToken` set, the registry's other credential
    ///   fields removed, `@scope:registry` set with a scope.
    /// - The keyring: the item set and recorded in rtok's settings; then the
    ///   literal credential lines of the registry leave the user config
    ///   (`${VAR}` references stay and are returned) and `@scope:registry` is
    ///   set there. A failure undoes what was done.
    pub(crate) fn save(&self, place: &Place, entry: &Entry<'_>) -> Result<Saved> {
        match place {
            Place::File(path) => {
                let nerf = entry.nerf();
                let token_key = format!("{nerf}:_authToken");
                let mut references = Vec::new();
                let change = self.edit_npmrc(path, |doc, edit| {
                    // A `${VAR}` line is the user's way of keeping the token
                    // out of the file: it is never replaced by a literal.
                    if edit.holds_reference(doc, &token_key) {
                        references.push(format!("`{token_key}`"));
                        return Ok(());
                    }
                    for field in REPLACED_FIELDS {
                        edit.remove(doc, &format!("{nerf}:{field}"));
                    }
                    edit.remove(doc, &format!("{nerf}:tokenHelper"));
                    edit.set(doc, &token_key, entry.token.expose());
                    if let Some(scope) = entry.scope {
                        edit.set(doc, &format!("{scope}:registry"), entry.registry.as_str());
                    }
                    Ok(())
                })?;
                Ok(Saved { change, references })
            }
            Place::Yarnrc(path) => {
                let token = yarnrc::NewValue::Literal(entry.token);
                let registry = entry.registry.as_str();
                let change = match entry.scope {
                    Some(scope) => yarnrc::Change::SetScopeToken {
                        scope,
                        registry,
                        token,
                    },
                    None => yarnrc::Change::SetRegistryToken { registry, token },
                };
                match self.edit_yarnrc(path, &change) {
                    Ok(change) => Ok(Saved {
                        change,
                        references: Vec::new(),
                    }),
                    Err(err) => match err.downcast_ref::<yarnrc::FileError>() {
                        Some(yarnrc::FileError {
                            source: yarnrc::Error::KeepsReference { line },
                            ..
                        }) => Ok(Saved {
                            change: Change::default(),
                            references: vec![format!("the `${{…}}` on line {line}")],
                        }),
                        _ => Err(err),
                    },
                }
            }
            Place::Keyring => self.save_in_keyring(entry),
            Place::TokenHelper { path, program } => self.save_token_helper(path, program, entry),
        }
    }

    fn save_in_keyring(&self, entry: &Entry<'_>) -> Result<Saved> {
        // The keyring is asked first: with none usable, nothing (not even
        // the lock file) is written.
        let keyring = Keyring::open()?;
        let _lock = self.lock_keyring()?;
        let mut change = Change::default();
        match self.try_save_in_keyring(entry, &keyring, &mut change) {
            Ok(references) => Ok(Saved { change, references }),
            Err(err) => {
                let undone = change.undo_locked(self, Some(&keyring));
                Err(err.context(format!("nothing was saved ({undone})")))
            }
        }
    }

    /// The steps of a keyring save, each added to `change` as it is done.
    fn try_save_in_keyring(
        &self,
        entry: &Entry<'_>,
        keyring: &Keyring,
        change: &mut Change,
    ) -> Result<Vec<String>> {
        let nerf = entry.nerf();
        let user_config = self.user_config()?;
        change.push(set_item(keyring, &nerf, Some(entry.token))?);
        let recorded = self
            .edit_settings(|editor| {
                editor.record_keyring(entry.registry);
                Ok(())
            })
            .with_context(|| {
                format!(
                    "could not record the keyring in {}",
                    self.settings_path.display()
                )
            })?;
        change.push(recorded);
        let mut references = Vec::new();
        let cleaned = self
            .edit_npmrc(&user_config, |doc, edit| {
                for field in AUTH_FIELDS {
                    let key = format!("{nerf}:{field}");
                    if edit.holds_reference(doc, &key) {
                        references.push(key);
                    } else {
                        edit.remove(doc, &key);
                    }
                }
                if let Some(scope) = entry.scope {
                    edit.set(doc, &format!("{scope}:registry"), entry.registry.as_str());
                }
                Ok(())
            })
            .with_context(|| {
                format!(
                    "could not remove the literal credential from {}",
                    user_config.display()
                )
            })?;
        change.push(cleaned);
        Ok(references)
    }

    /// Replaces the token `old` with `new` where it lives (`token rotate`),
    /// only if that place still holds `old`: a token someone wrote meanwhile
    /// is never overwritten.
    pub(crate) fn replace(
        &self,
        place: &Place,
        nerf: &NerfDart,
        registry: &Url,
        old: &Secret,
        new: &Secret,
    ) -> Result<Change> {
        if let Place::TokenHelper { .. } = place {
            // The helper line names rtok, not the token: the keyring item
            // is what changes.
            return self.replace(&Place::Keyring, nerf, registry, old, new);
        }
        let nerf = nerf.as_str();
        match place {
            Place::File(path) => {
                let key = format!("{nerf}:_authToken");
                self.edit_npmrc(path, |doc, edit| {
                    if edit.value(doc, &key).as_deref() != Some(old.expose()) {
                        bail!(changed_meanwhile(path, &key));
                    }
                    edit.set(doc, &key, new.expose());
                    Ok(())
                })
            }
            Place::Yarnrc(path) => {
                let registry = registry.as_str();
                let held =
                    yarn::read(path)?.and_then(|file| yarn::literal_token(&file, registry, None));
                if held.as_ref().map(|(token, _)| token) != Some(old) {
                    bail!(changed_meanwhile(
                        path,
                        &format!("npmRegistries[\"{registry}\"]")
                    ));
                }
                self.edit_yarnrc(
                    path,
                    &yarnrc::Change::SetRegistryToken {
                        registry,
                        token: yarnrc::NewValue::Literal(new),
                    },
                )
            }
            Place::TokenHelper { .. } => unreachable!("handled above"),
            Place::Keyring => {
                let keyring = Keyring::open()?;
                let _lock = self.lock_keyring()?;
                if keyring.get(nerf)?.as_ref() != Some(old) {
                    bail!(
                        Failure::new(format!(
                            "the system keyring's token for {nerf} changed while rtok was working"
                        ))
                        .hint("run the command again")
                    );
                }
                let mut change = Change::default();
                change.push(set_item(&keyring, nerf, Some(new))?);
                Ok(change)
            }
        }
    }

    /// Removes the registry's credential from `place` (`logout`): every
    /// credential field of its nerf dart from a file (and `@scope:registry`
    /// with a scope), or the keyring item and its record.
    pub(crate) fn remove(
        &self,
        place: &Place,
        nerf: &NerfDart,
        registry: &Url,
        scope: Option<&str>,
    ) -> Result<Change> {
        let nerf = nerf.as_str();
        match place {
            Place::File(path) | Place::TokenHelper { path, .. } => {
                self.edit_npmrc(path, |doc, edit| {
                    for field in CLEARED_FIELDS {
                        edit.remove(doc, &format!("{nerf}:{field}"));
                    }
                    if let Some(scope) = scope {
                        edit.remove(doc, &format!("{scope}:registry"));
                    }
                    Ok(())
                })
            }
            Place::Yarnrc(path) => {
                let mut change = self.edit_yarnrc(
                    path,
                    &yarnrc::Change::RemoveRegistryToken {
                        registry: registry.as_str(),
                    },
                )?;
                if let Some(scope) = scope {
                    change
                        .push(self.edit_yarnrc(path, &yarnrc::Change::RemoveScopeToken { scope })?);
                }
                Ok(change)
            }
            Place::Keyring => {
                let keyring = Keyring::open()?;
                let _lock = self.lock_keyring()?;
                let mut change = Change::default();
                change.push(set_item(&keyring, nerf, None)?);
                match self.edit_settings(|editor| {
                    editor.forget_keyring(nerf);
                    Ok(())
                }) {
                    Ok(forgotten) => change.push(forgotten),
                    Err(err) => {
                        return Err(err.context(format!(
                            "the keyring item is gone, but {} still records it",
                            self.settings_path.display()
                        )));
                    }
                }
                Ok(change)
            }
        }
    }

    /// Moves literal `_authToken` lines of the user config into the keyring
    /// (`keyring import`): the registries whose nerf darts `wanted` accepts
    /// (every one with a literal token when it accepts all). Under the
    /// keyring lock the file is read again, so two imports at once move each
    /// token once; a token already in the keyring and recorded, whose line is
    /// gone, is reported as already there. All or nothing.
    pub(crate) fn move_to_keyring(
        &self,
        registry_of: &dyn Fn(&str) -> Url,
        wanted: &dyn Fn(&str) -> bool,
        program: &Path,
    ) -> Result<Vec<Moved>> {
        let user_config = self.user_config()?;
        let keyring = Keyring::open()?;
        keyring.check()?;
        let _lock = self.lock_keyring()?;
        let literal = self.literal_tokens_everywhere(&user_config, registry_of)?;
        let moves: Vec<(Moved, Secret, Vec<Source>)> = literal
            .into_iter()
            .filter(|(moved, _, _)| wanted(&moved.nerf))
            .collect();
        if moves.is_empty() {
            return Ok(Vec::new());
        }
        let mut change = Change::default();
        match self.try_move_to_keyring(&keyring, &moves, program, &mut change) {
            Ok(()) => Ok(moves.into_iter().map(|(moved, _, _)| moved).collect()),
            Err(err) => {
                let undone = change.undo_locked(self, Some(&keyring));
                Err(err.context(format!("nothing was moved ({undone})")))
            }
        }
    }

    fn try_move_to_keyring(
        &self,
        keyring: &Keyring,
        moves: &[(Moved, Secret, Vec<Source>)],
        program: &Path,
        change: &mut Change,
    ) -> Result<()> {
        for (moved, token, _) in moves {
            change.push(set_item(keyring, &moved.nerf, Some(token))?);
            if keyring.get(&moved.nerf)?.as_ref() != Some(token) {
                bail!(Failure::new(format!(
                    "the system keyring did not keep the token for {}",
                    moved.nerf
                )));
            }
        }
        let recorded = self
            .edit_settings(|editor| {
                for (moved, _, _) in moves {
                    editor.record_keyring(&moved.registry);
                }
                Ok(())
            })
            .with_context(|| {
                format!(
                    "could not record the keyring in {}",
                    self.settings_path.display()
                )
            })?;
        change.push(recorded);
        // Each file once, with every line it loses.
        let mut files: Vec<&Source> = Vec::new();
        for source in moves.iter().flat_map(|(_, _, sources)| sources) {
            if !files
                .iter()
                .any(|known| source_path(known) == source_path(source))
            {
                files.push(source);
            }
        }
        for file in files {
            let here = |s: &Source| source_path(s) == source_path(file);
            let removed = match file {
                Source::Ini { path, helper } => self
                    .edit_npmrc(path, |doc, edit| {
                        for (moved, token, sources) in moves {
                            if !sources.iter().any(here) {
                                continue;
                            }
                            let key = format!("{}:_authToken", moved.nerf);
                            if edit.value(doc, &key).as_deref() != Some(token.expose()) {
                                bail!(changed_meanwhile(path, &key));
                            }
                            edit.remove(doc, &key);
                            if *helper {
                                let command = token_helper_command(program, &moved.registry)?;
                                edit.set(doc, &format!("{}:tokenHelper", moved.nerf), &command);
                            }
                        }
                        Ok(())
                    })
                    .with_context(|| {
                        format!("could not remove the tokens from {}", path.display())
                    })?,
                Source::Yarn { path } => {
                    let mut removed = Change::default();
                    for (moved, token, sources) in moves {
                        if !sources.iter().any(here) {
                            continue;
                        }
                        let registry = moved.registry.as_str();
                        let held = yarn::read(path)?
                            .and_then(|file| yarn::literal_token(&file, registry, None));
                        if held.as_ref().map(|(t, _)| t) != Some(token) {
                            bail!(changed_meanwhile(
                                path,
                                &format!("npmRegistries[\"{registry}\"]")
                            ));
                        }
                        removed.push(self.edit_yarnrc(
                            path,
                            &yarnrc::Change::RemoveRegistryToken { registry },
                        )?);
                    }
                    removed
                }
            };
            change.push(removed);
        }
        Ok(())
    }

    /// Every literal token of the user config, pnpm's `auth.ini` and yarn's
    /// home `.yarnrc.yml`, by registry, with every line it is on. Two
    /// different tokens for one registry are an error: the keyring keeps
    /// one, and rtok will not choose.
    fn literal_tokens_everywhere(
        &self,
        user_config: &Path,
        registry_of: &dyn Fn(&str) -> Url,
    ) -> Result<Vec<(Moved, Secret, Vec<Source>)>> {
        let mut found: Vec<(Moved, Secret, Vec<Source>)> = Vec::new();
        let mut add = |moved: Moved, token: Secret, source: Source| -> Result<()> {
            let place = moved.from.clone().unwrap_or_default();
            match found.iter_mut().find(|(m, _, _)| m.nerf == moved.nerf) {
                Some((known, known_token, sources)) => {
                    if *known_token != token {
                        bail!(
                            Failure::new(format!(
                                "{} and {place} hold different tokens for {}; the keyring keeps one per registry",
                                known.from.clone().unwrap_or_default(),
                                crate::display::display_url(&moved.registry)
                            ))
                            .hint("log in again with `rtok login --storage keyring`, or remove the stale line first")
                        );
                    }
                    known.places.push(place);
                    sources.push(source);
                }
                None => found.push((moved, token, vec![source])),
            }
            Ok(())
        };
        for (moved, token) in self.literal_tokens(user_config, registry_of)? {
            add(
                moved,
                token,
                Source::Ini {
                    path: user_config.to_path_buf(),
                    helper: false,
                },
            )?;
        }
        if let Some(auth_ini) = clients::user_file(self.config, Client::Pnpm)
            && auth_ini != user_config
        {
            for (moved, token) in self.literal_tokens(&auth_ini, registry_of)? {
                add(
                    moved,
                    token,
                    Source::Ini {
                        path: auth_ini.clone(),
                        helper: true,
                    },
                )?;
            }
        }
        if let Some(yarnrc_path) = clients::user_file(self.config, Client::Yarn)
            && let Some(file) = yarn::read(&yarnrc_path)?
        {
            for entry in file.entries() {
                let (
                    yarnrc::Place::Registry(key),
                    yarnrc::Field::AuthToken,
                    yarnrc::Value::Literal(token),
                ) = (&entry.place, entry.field, &entry.value)
                else {
                    continue;
                };
                if token.expose().is_empty() {
                    continue;
                }
                let registry = match key.split_once("//") {
                    Some((scheme, _)) if !scheme.is_empty() => {
                        let text = if key.ends_with('/') {
                            key.clone()
                        } else {
                            format!("{key}/")
                        };
                        match Url::parse(&text) {
                            Ok(url) => url,
                            Err(_) => continue,
                        }
                    }
                    _ => registry_of(&format!("{}/", key.trim_end_matches('/'))),
                };
                // Only the entry yarn really uses for the registry.
                if yarn::literal_token(&file, registry.as_str(), None)
                    .map(|(t, _)| t)
                    .as_ref()
                    != Some(token)
                {
                    continue;
                }
                let from = format!("{}:{}", yarnrc_path.display(), entry.line);
                let moved = Moved {
                    nerf: nerf_dart(&registry),
                    registry,
                    from: Some(from.clone()),
                    places: vec![from],
                };
                add(
                    moved,
                    token.clone(),
                    Source::Yarn {
                        path: yarnrc_path.clone(),
                    },
                )?;
            }
        }
        Ok(found)
    }

    /// Whether rtok's settings, read now, record a keyring token for `nerf`:
    /// after a move found nothing to move, another run may have moved it
    /// meanwhile.
    pub(crate) fn records_keyring(&self, nerf: &str) -> bool {
        rtok_config::RtokConfig::load(self.settings_path)
            .is_ok_and(|now| now.at(nerf).is_some_and(|r| r.keyring))
    }

    /// Moves keyring tokens back into the user config (`keyring export`):
    /// the recorded registries `wanted` accepts. Every token is read before
    /// anything is written; a different literal token already in the file
    /// is never replaced. All or nothing.
    pub(crate) fn move_to_file(
        &self,
        wanted: &dyn Fn(&str) -> bool,
        places: &[Place],
    ) -> Result<Vec<Moved>> {
        let _lock = self.lock_keyring()?;
        let recorded = rtok_config::RtokConfig::load(self.settings_path)?;
        let targets: Vec<_> = recorded
            .keyring_registries()
            .filter(|r| wanted(&r.nerf))
            .collect();
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let keyring = Keyring::open()?;
        let mut tokens = Vec::new();
        for target in &targets {
            let token = keyring.get(&target.nerf)?.ok_or_else(|| {
                Failure::new(format!(
                    "the system keyring has no item for {} (service `rtok`, user `{}`), though {} records one",
                    crate::display::display_url(&target.url),
                    target.nerf,
                    self.settings_path.display()
                ))
                .hint(format!(
                    "log in again, or remove `storage = \"keyring\"` from `[registry.\"{}\"]` in {}",
                    target.key,
                    self.settings_path.display()
                ))
            })?;
            tokens.push(token);
        }
        // pnpm's token helper reads the keyring item that is about to go:
        // its auth.ini gets the token too, in the helper's stead.
        let mut places = places.to_vec();
        if let Some(auth_ini) = clients::user_file(self.config, Client::Pnpm)
            && !places.contains(&Place::File(auth_ini.clone()))
            && self.names_token_helper(&auth_ini, &targets)?
        {
            places.push(Place::File(auth_ini));
        }
        let mut change = Change::default();
        match self.try_move_to_file(&places, &keyring, &targets, &tokens, &mut change) {
            Ok(()) => Ok(targets
                .iter()
                .map(|t| Moved {
                    registry: t.url.clone(),
                    nerf: t.nerf.clone(),
                    from: None,
                    places: places.iter().map(Place::shown).collect(),
                })
                .collect()),
            Err(err) => {
                let undone = change.undo_locked(self, Some(&keyring));
                Err(err.context(format!("nothing was moved ({undone})")))
            }
        }
    }

    /// Whether the ini file at `path` names a token helper for one of
    /// `targets`.
    fn names_token_helper(
        &self,
        path: &Path,
        targets: &[&rtok_config::RegistrySettings],
    ) -> Result<bool> {
        let Some(bytes) = crate::private_file::read_regular(path)? else {
            return Ok(false);
        };
        let document = Document::parse(bytes);
        Ok(document.entries().any(|located| {
            let key = self.config.expand_key(&located.entry.key);
            targets
                .iter()
                .any(|t| key == format!("{}:tokenHelper", t.nerf))
        }))
    }

    fn try_move_to_file(
        &self,
        places: &[Place],
        keyring: &Keyring,
        targets: &[&rtok_config::RegistrySettings],
        tokens: &[Secret],
        change: &mut Change,
    ) -> Result<()> {
        for place in places {
            let written = match place {
                Place::File(path) => self.edit_npmrc(path, |doc, edit| {
                    for (target, token) in targets.iter().zip(tokens) {
                        let key = format!("{}:_authToken", target.nerf);
                        if let Some(current) = edit.value(doc, &key)
                            && current != token.expose()
                        {
                            bail!(
                                Failure::new(format!(
                                    "{} already has another `{key}` line; rtok will not replace it",
                                    path.display()
                                ))
                                .hint("remove that line first, or keep using the keyring")
                            );
                        }
                        edit.remove(doc, &format!("{}:tokenHelper", target.nerf));
                        edit.set(doc, &key, token.expose());
                    }
                    Ok(())
                }),
                Place::Yarnrc(path) => {
                    let mut written = Change::default();
                    for (target, token) in targets.iter().zip(tokens) {
                        let holding = self.holding(place, &target.url)?;
                        if matches!(&holding, Holding::Token { token: held, .. } if held != token)
                            || matches!(holding, Holding::Reference { .. } | Holding::Other { .. })
                        {
                            bail!(
                                Failure::new(format!(
                                    "{} already has another credential for {}; rtok will not replace it",
                                    path.display(),
                                    crate::display::display_url(&target.url)
                                ))
                                .hint("remove it first, or keep using the keyring")
                            );
                        }
                        written.push(self.edit_yarnrc(
                            path,
                            &yarnrc::Change::SetRegistryToken {
                                registry: target.url.as_str(),
                                token: yarnrc::NewValue::Literal(token),
                            },
                        )?);
                    }
                    Ok(written)
                }
                Place::Keyring | Place::TokenHelper { .. } => continue,
            }
            .with_context(|| format!("could not write the tokens to {}", place.shown()))?;
            change.push(written);
        }
        let forgotten = self
            .edit_settings(|editor| {
                for target in targets {
                    editor.forget_keyring(&target.nerf);
                }
                Ok(())
            })
            .with_context(|| format!("could not update {}", self.settings_path.display()))?;
        change.push(forgotten);
        for target in targets {
            change.push(set_item(keyring, &target.nerf, None)?);
        }
        Ok(())
    }

    /// Every literal `_authToken` of the user config, the last one for each
    /// registry as npm reads it, with where it was written.
    fn literal_tokens(
        &self,
        user_config: &Path,
        registry_of: &dyn Fn(&str) -> Url,
    ) -> Result<Vec<(Moved, Secret)>> {
        let document = match crate::private_file::read_regular(user_config)? {
            Some(bytes) => Document::parse(bytes),
            None => return Ok(Vec::new()),
        };
        let mut found: Vec<(Moved, Secret)> = Vec::new();
        for located in document.entries() {
            let key = self.config.expand_key(&located.entry.key);
            let Some(prefix) = key.strip_suffix(":_authToken") else {
                continue;
            };
            let value = &located.entry.value;
            if !prefix.starts_with("//")
                || value.is_empty()
                || !Reference::classify(value).is_literal()
            {
                continue;
            }
            let registry = registry_of(prefix);
            let nerf = nerf_dart(&registry);
            found.retain(|(m, _)| m.nerf != nerf);
            let from = format!("{}:{}", user_config.display(), located.line);
            found.push((
                Moved {
                    registry,
                    nerf,
                    from: Some(from.clone()),
                    places: vec![from],
                },
                Secret::new(value.clone()),
            ));
        }
        Ok(found)
    }

    /// Edits an `.npmrc` through the safe writer and records, under its
    /// lock, the bytes before and after and each key set or removed.
    fn edit_npmrc(
        &self,
        path: &Path,
        change: impl FnOnce(&mut Document, &mut KeyEdits<'_>) -> Result<()>,
    ) -> Result<Change> {
        let mut edits = KeyEdits {
            config: self.config,
            keys: Vec::new(),
        };
        let (before, after) = npmrc::file::edit(path, |doc| {
            let before = doc.render();
            change(doc, &mut edits)?;
            Ok((before, doc.render()))
        })?;
        let mut result = Change::default();
        if before != after {
            result.steps.push(Step::Npmrc {
                path: path.to_path_buf(),
                before,
                after,
                keys: edits.keys,
            });
        }
        Ok(result)
    }

    /// Edits a `.yarnrc.yml` and records its bytes before and after.
    fn edit_yarnrc(&self, path: &Path, change: &yarnrc::Change<'_>) -> Result<Change> {
        let edited = yarn::edit(path, change)?;
        let mut result = Change::default();
        if edited.before != edited.after {
            result.steps.push(Step::Yarnrc {
                path: path.to_path_buf(),
                before: edited.before,
                after: edited.after,
            });
        }
        Ok(result)
    }

    /// The keyring item and its record, then the `tokenHelper` line in
    /// pnpm's `auth.ini` (the registry's literal credential lines there
    /// removed: the helper is what pnpm should use). All or nothing.
    fn save_token_helper(&self, path: &Path, program: &Path, entry: &Entry<'_>) -> Result<Saved> {
        let helper = token_helper_command(program, entry.registry)?;
        let keyring = Keyring::open()?;
        let _lock = self.lock_keyring()?;
        let nerf = entry.nerf();
        let mut change = Change::default();
        let attempt = (|| -> Result<()> {
            change.push(set_item(&keyring, &nerf, Some(entry.token))?);
            change.push(self.edit_settings(|editor| {
                editor.record_keyring(entry.registry);
                Ok(())
            })?);
            change.push(self.edit_npmrc(path, |doc, edit| {
                for field in AUTH_FIELDS {
                    let key = format!("{nerf}:{field}");
                    if !edit.holds_reference(doc, &key) {
                        edit.remove(doc, &key);
                    }
                }
                edit.set(doc, &format!("{nerf}:tokenHelper"), &helper);
                if let Some(scope) = entry.scope {
                    edit.set(doc, &format!("{scope}:registry"), entry.registry.as_str());
                }
                Ok(())
            })?);
            Ok(())
        })();
        match attempt {
            Ok(()) => Ok(Saved {
                change,
                references: Vec::new(),
            }),
            Err(err) => {
                let undone = change.undo_locked(self, Some(&keyring));
                Err(err.context(format!("nothing was saved ({undone})")))
            }
        }
    }

    /// Edits rtok's settings; the caller holds the keyring lock, which every
    /// record change is made under, so the bytes read around the edit are
    /// the edit's own.
    fn edit_settings(
        &self,
        change: impl FnOnce(&mut rtok_config::Editor) -> Result<()>,
    ) -> Result<Change> {
        let before = crate::private_file::read_regular(self.settings_path)?;
        rtok_config::edit(self.settings_path, change)?;
        let after = crate::private_file::read_regular(self.settings_path)?;
        let mut result = Change::default();
        if before != after {
            result.steps.push(Step::Settings {
                before,
                after: after.unwrap_or_default(),
            });
        }
        Ok(result)
    }

    /// The keyring lock: a file beside rtok's settings.
    fn lock_keyring(&self) -> Result<File> {
        let folder = self
            .settings_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        crate::private_file::create_private_folder(folder)?;
        let path = folder.join(".rtok-keyring.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("could not open the lock file {}", path.display()))?;
        file.lock()
            .with_context(|| format!("could not lock {}", path.display()))?;
        Ok(file)
    }

    /// Records in rtok's settings what `rtok refresh` wrote for the
    /// registry with nerf dart `nerf` (the token's expiry, the files, its
    /// fingerprint; never the token), under the keyring lock every record
    /// change is made under.
    pub(crate) fn record_refresh(
        &self,
        nerf: &str,
        refreshed: &rtok_config::Refreshed,
    ) -> Result<Change> {
        let _lock = self.lock_keyring()?;
        self.edit_settings(|editor| {
            editor.record_refresh(nerf, refreshed);
            Ok(())
        })
    }
}

/// The `tokenHelper` value that makes pnpm 11+ ask rtok for the registry's
/// token: pnpm splits it on whitespace and refuses `$ % \` " '` in it
/// (clients-2026.md §1.3), so a path or URL holding one cannot be named.
pub(crate) fn token_helper_command(program: &Path, registry: &Url) -> Result<String> {
    let program_text = program.to_str().unwrap_or_default();
    let unusable = |text: &str| {
        text.is_empty()
            || text
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '$' | '%' | '`' | '"' | '\''))
    };
    if !program.is_absolute() || unusable(program_text) {
        bail!(
            Failure::new(format!(
                "pnpm cannot run rtok from {} as a token helper (it needs an absolute path without spaces, `$`, `%`, quotes or backticks)",
                program.display()
            ))
            .hint("install rtok in a plain folder (say /usr/local/bin), or log in for pnpm with `--storage file`")
        );
    }
    if unusable(registry.as_str()) {
        bail!(Failure::new(format!(
            "pnpm cannot pass {} to a token helper (it has a `%`, a quote or a space)",
            crate::display::display_url(registry)
        )));
    }
    Ok(format!("{program_text} token-helper {}", registry.as_str()))
}

fn source_path(source: &Source) -> &Path {
    match source {
        Source::Ini { path, .. } | Source::Yarn { path } => path,
    }
}

fn changed_meanwhile(path: &Path, key: &str) -> anyhow::Error {
    Failure::new(format!(
        "{} changed while rtok was working (`{key}` no longer holds the token rtok read)",
        path.display()
    ))
    .hint("run the command again")
    .into()
}

/// Sets (or, with `None`, deletes) a keyring item, remembering what it held.
fn set_item(keyring: &Keyring, nerf: &str, token: Option<&Secret>) -> Result<Change> {
    let before = keyring.get(nerf).unwrap_or(None);
    match token {
        Some(token) => keyring.set(nerf, token)?,
        None => {
            keyring.delete(nerf)?;
        }
    }
    let mut change = Change::default();
    change.steps.push(Step::Item {
        nerf: nerf.to_string(),
        before,
        after: token.cloned(),
    });
    Ok(change)
}

/// The keys one `.npmrc` edit set or removed, matched as npm expands keys.
pub(crate) struct KeyEdits<'a> {
    config: &'a Config,
    /// Each key with its last value before the edit and after it.
    keys: Vec<KeyChange>,
}

#[derive(Debug, Clone)]
struct KeyChange {
    key: String,
    before: Option<String>,
    after: Option<String>,
}

impl KeyEdits<'_> {
    fn matches(&self, key: &str) -> impl Fn(&str) -> bool {
        let config = self.config;
        let key = key.to_string();
        move |raw: &str| config.expand_key(raw) == key
    }

    /// The value npm reads for `key` (the last line that sets it).
    fn value(&self, doc: &Document, key: &str) -> Option<String> {
        let is = self.matches(key);
        doc.entries()
            .filter(|l| is(&l.entry.key))
            .last()
            .map(|l| l.entry.value.clone())
    }

    /// Whether a line for `key` holds a `${VAR}` reference.
    fn holds_reference(&self, doc: &Document, key: &str) -> bool {
        let is = self.matches(key);
        doc.entries()
            .any(|l| is(&l.entry.key) && !Reference::classify(&l.entry.value).is_literal())
    }

    fn set(&mut self, doc: &mut Document, key: &str, value: &str) {
        let before = self.value(doc, key);
        doc.set(key, value, &self.matches(key));
        self.note(key, before, Some(value.to_string()));
    }

    fn remove(&mut self, doc: &mut Document, key: &str) {
        let before = self.value(doc, key);
        if before.is_some() {
            doc.remove(&self.matches(key));
            self.note(key, before, None);
        }
    }

    fn note(&mut self, key: &str, before: Option<String>, after: Option<String>) {
        match self.keys.iter_mut().find(|k| k.key == key) {
            Some(known) => known.after = after,
            None => self.keys.push(KeyChange {
                key: key.to_string(),
                before,
                after,
            }),
        }
    }
}

/// One thing a change did, with what it takes to revert it.
#[derive(Debug)]
enum Step {
    /// An `.npmrc` file: its bytes before and after, and the keys changed.
    Npmrc {
        path: PathBuf,
        before: Vec<u8>,
        after: Vec<u8>,
        keys: Vec<KeyChange>,
    },
    /// rtok's settings file (`None`: it did not exist).
    Settings {
        before: Option<Vec<u8>>,
        after: Vec<u8>,
    },
    /// A `.yarnrc.yml`: its bytes before and after.
    Yarnrc {
        path: PathBuf,
        before: Vec<u8>,
        after: Vec<u8>,
    },
    /// A keyring item (`None`: no item).
    Item {
        nerf: String,
        before: Option<Secret>,
        after: Option<Secret>,
    },
}

/// What one store operation changed; [`Change::undo`] reverts exactly that.
#[derive(Debug, Default)]
#[must_use = "a change that may need undoing should be kept until the operation is done"]
pub(crate) struct Change {
    steps: Vec<Step>,
}

impl Change {
    pub(crate) fn push(&mut self, other: Change) {
        self.steps.extend(other.steps);
    }

    /// Reverts this change, newest step first, under the places' locks;
    /// says what was restored and what could not be.
    pub(crate) fn undo(self, store: &Store<'_>) -> Undone {
        let needs_keyring = self
            .steps
            .iter()
            .any(|s| matches!(s, Step::Item { .. } | Step::Settings { .. }));
        if !needs_keyring {
            return self.undo_steps(store, None);
        }
        let lock = match store.lock_keyring() {
            Ok(lock) => lock,
            Err(err) => {
                return Undone {
                    done: Vec::new(),
                    problems: vec![format!("could not undo: {err:#}")],
                };
            }
        };
        let undone = match Keyring::open() {
            Ok(keyring) => self.undo_steps(store, Some(&keyring)),
            Err(err) => {
                let mut undone = self.undo_steps(store, None);
                undone
                    .problems
                    .push(format!("could not open the system keyring ({err})"));
                undone
            }
        };
        drop(lock);
        undone
    }

    /// [`Change::undo`] when the caller already holds the keyring lock.
    fn undo_locked(self, store: &Store<'_>, keyring: Option<&Keyring>) -> String {
        self.undo_steps(store, keyring).sentence()
    }

    fn undo_steps(self, store: &Store<'_>, keyring: Option<&Keyring>) -> Undone {
        let mut report = Undone::default();
        for step in self.steps.into_iter().rev() {
            match step {
                Step::Npmrc {
                    path,
                    before,
                    after,
                    keys,
                } => match undo_npmrc(store, &path, &before, &after, &keys) {
                    Ok(()) => report.done.push(format!("restored {}", path.display())),
                    Err(err) => report
                        .problems
                        .push(format!("could not restore {} ({err:#})", path.display())),
                },
                Step::Yarnrc {
                    path,
                    before,
                    after,
                } => match yarn::undo(&path, &before, &after) {
                    Ok(true) => report.done.push(format!("restored {}", path.display())),
                    Ok(false) => report.problems.push(format!(
                        "{} changed meanwhile and was left as it is",
                        path.display()
                    )),
                    Err(err) => report
                        .problems
                        .push(format!("could not restore {} ({err:#})", path.display())),
                },
                Step::Settings { before, after } => {
                    match undo_settings(store.settings_path, before.as_deref(), &after) {
                        Ok(true) => report
                            .done
                            .push(format!("restored {}", store.settings_path.display())),
                        Ok(false) => report.problems.push(format!(
                            "{} changed meanwhile and was left as it is",
                            store.settings_path.display()
                        )),
                        Err(err) => report.problems.push(format!(
                            "could not restore {} ({err:#})",
                            store.settings_path.display()
                        )),
                    }
                }
                Step::Item {
                    nerf,
                    before,
                    after,
                } => {
                    let Some(keyring) = keyring else {
                        report
                            .problems
                            .push(format!("the keyring item for {nerf} was left as it is"));
                        continue;
                    };
                    match undo_item(keyring, &nerf, before.as_ref(), after.as_ref()) {
                        Ok(true) => report.done.push("restored the keyring item".into()),
                        Ok(false) => report.problems.push(format!(
                            "the keyring item for {nerf} changed meanwhile and was left as it is"
                        )),
                        Err(err) => report
                            .problems
                            .push(format!("could not restore the keyring item ({err})")),
                    }
                }
            }
        }
        report
    }
}

/// What an undo restored, and what it could not.
#[derive(Debug, Default)]
pub(crate) struct Undone {
    pub done: Vec<String>,
    pub problems: Vec<String>,
}

impl Undone {
    pub(crate) fn sentence(&self) -> String {
        let mut done = self.done.clone();
        done.dedup();
        match (done.is_empty(), self.problems.is_empty()) {
            (_, false) => format!("undo incomplete: {}", self.problems.join("; ")),
            (true, true) => "nothing had changed".into(),
            (false, true) => done.join(", "),
        }
    }
}

/// Puts an `.npmrc` back: its exact earlier bytes when it still holds what
/// the change wrote; otherwise each key the change set, where it still
/// holds the change's value, back to its earlier value.
fn undo_npmrc(
    store: &Store<'_>,
    path: &Path,
    before: &[u8],
    after: &[u8],
    keys: &[KeyChange],
) -> Result<()> {
    let edits = KeyEdits {
        config: store.config,
        keys: Vec::new(),
    };
    npmrc::file::edit(path, |doc| {
        if doc.render() == after {
            *doc = Document::parse(before);
            return Ok(());
        }
        for change in keys {
            if edits.value(doc, &change.key) != change.after {
                continue;
            }
            match &change.before {
                Some(value) => doc.set(&change.key, value, &edits.matches(&change.key)),
                None => {
                    doc.remove(&edits.matches(&change.key));
                }
            }
        }
        Ok(())
    })?;
    if before.is_empty() && fs::read(path).is_ok_and(|bytes| bytes.is_empty()) {
        // The change created the file: nothing of it is left.
        let _ = fs::remove_file(path);
    }
    Ok(())
}

/// Puts rtok's settings back to their earlier bytes, only when they still
/// hold what the change wrote (`false`: someone edited them meanwhile).
fn undo_settings(path: &Path, before: Option<&[u8]>, after: &[u8]) -> Result<bool> {
    let restored = crate::private_file::edit_bytes(path, |current| {
        if current.unwrap_or_default() == after {
            // rtok's settings never hold a secret.
            Ok((before.unwrap_or_default().to_vec(), Holds::NoSecret, true))
        } else {
            Ok((current.unwrap_or_default().to_vec(), Holds::NoSecret, false))
        }
    })?;
    if restored && before.is_none() {
        let _ = fs::remove_file(path);
    }
    Ok(restored)
}

/// Puts a keyring item back, only when it still holds what the change set.
fn undo_item(
    keyring: &Keyring,
    nerf: &str,
    before: Option<&Secret>,
    after: Option<&Secret>,
) -> Result<bool, crate::keyring::KeyringError> {
    if keyring.get(nerf)?.as_ref() != after {
        return Ok(false);
    }
    match before {
        Some(token) => keyring.set(nerf, token)?,
        None => {
            keyring.delete(nerf)?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_over(npmrc: &str) -> (tempfile::TempDir, Config, PathBuf) {
        let (dir, config) = crate::config::load_for_test(npmrc, &[]).expect("config");
        let settings = dir.path().join("rtok/config.toml");
        (dir, config, settings)
    }

    /// `replace` of the token `old` with `new` for `//r.example/` in `path`.
    fn old_to_new(store: &Store<'_>, path: &Path) -> Result<Change> {
        store.replace(
            &Place::File(path.to_path_buf()),
            &NerfDart::from_url(&url("https://r.example/")),
            &url("https://r.example/"),
            &Secret::new("old"),
            &Secret::new("new"),
        )
    }

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URL")
    }

    #[test]
    fn a_save_writes_the_token_and_its_undo_restores_every_byte() {
        let original = "; mine\r\n//r.example/:_auth=b2xkOnB3\r\nemail=a@b\r\n";
        let (_dir, config, settings) = store_over(original);
        let store = Store::new(&config, &settings);
        let path = store.user_config().expect("user config");
        let registry = url("https://r.example/");
        let token = Secret::new("new-token");
        let saved = store
            .save(
                &Place::File(path.clone()),
                &Entry {
                    registry: &registry,
                    token: &token,
                    scope: Some("@acme"),
                },
            )
            .expect("save");
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "; mine\r\nemail=a@b\r\n//r.example/:_authToken=new-token\r\n@acme:registry=https://r.example/\r\n"
        );
        let undone = saved.change.undo(&store);
        assert!(undone.problems.is_empty(), "{}", undone.sentence());
        assert_eq!(fs::read_to_string(&path).expect("read"), original);
    }

    #[test]
    fn an_undo_after_another_write_reverts_only_its_own_keys() {
        let original = "//r.example/:_authToken=old\n";
        let (_dir, config, settings) = store_over(original);
        let store = Store::new(&config, &settings);
        let path = store.user_config().expect("user config");
        let change = old_to_new(&store, &path).expect("replace");
        // Another process adds a line meanwhile.
        let mut text = fs::read_to_string(&path).expect("read");
        text.push_str("//other.example/:_authToken=theirs\n");
        fs::write(&path, &text).expect("write");
        let undone = change.undo(&store);
        assert!(undone.problems.is_empty(), "{}", undone.sentence());
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "//r.example/:_authToken=old\n//other.example/:_authToken=theirs\n"
        );
    }

    #[test]
    fn an_undo_leaves_a_key_someone_else_changed() {
        let (_dir, config, settings) = store_over("//r.example/:_authToken=old\n");
        let store = Store::new(&config, &settings);
        let path = store.user_config().expect("user config");
        let change = old_to_new(&store, &path).expect("replace");
        fs::write(&path, "//r.example/:_authToken=someone-elses\n").expect("write");
        let _ = change.undo(&store);
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "//r.example/:_authToken=someone-elses\n"
        );
    }

    #[test]
    fn a_replace_refuses_a_token_written_meanwhile() {
        let (_dir, config, settings) = store_over("//r.example/:_authToken=other\n");
        let store = Store::new(&config, &settings);
        let path = store.user_config().expect("user config");
        let err = old_to_new(&store, &path).expect_err("the file holds another token");
        assert!(format!("{err:#}").contains("changed while rtok was working"));
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "//r.example/:_authToken=other\n"
        );
    }

    #[test]
    fn a_removal_clears_every_field_and_the_scope_mapping() {
        let original = "a=1\n//r.example/:_authToken=t\n//r.example/:email=e\n@acme:registry=https://r.example/\n//s.example/:_authToken=keep\n";
        let (_dir, config, settings) = store_over(original);
        let store = Store::new(&config, &settings);
        let path = store.user_config().expect("user config");
        let change = store
            .remove(
                &Place::File(path.clone()),
                &NerfDart::from_url(&url("https://r.example/")),
                &url("https://r.example/"),
                Some("@acme"),
            )
            .expect("remove");
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "a=1\n//s.example/:_authToken=keep\n"
        );
        let _ = change.undo(&store);
        assert_eq!(fs::read_to_string(&path).expect("read"), original);
    }
}
