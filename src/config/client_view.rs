//! What each client would send to a registry, by that client's own
//! precedence (clients-2026.md §1.1-§1.7): npm's is the resolver
//! (`credentials.rs`); pnpm 11/12, pnpm 10, yarn berry and yarn 1 are here,
//! and nowhere else. Also every credential in each client's user file, for
//! `status`. Nothing here sends or writes anything.
//!
//! pnpm 11/12, lowest to highest: the user `.npmrc` (`npmrcAuthFile` /
//! `NPM_CONFIG_USERCONFIG`, else `~/.npmrc`) < `<config>/auth.ini` < the
//! project's `.npmrc` (a `${…}` there is never expanded: such a credential
//! is dropped) < `npm_config_//…` < `pnpm_config_//…` < the global
//! `config.yaml`'s `_auth` < `pnpm_config__auth` (the same map as JSON). Settings merge key by key, so an unset `${VAR}` in `auth.ini`
//! is an empty token that still hides `~/.npmrc`'s. A scoped package looks
//! at `//host/:@scope:_authToken` first.
//!
//! yarn berry: every `.yarnrc.yml` from the working folder up to `/`, then
//! the home one, merged setting by setting (nearer wins); per registry
//! `npmScopes` > `npmRegistries` > the top level; `YARN_NPM_AUTH_TOKEN`
//! replaces only the top-level token. Never an `.npmrc`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use url::Url;

use super::credential::encode_base64;
use super::credential::{AuthKind, Credential, CredentialError, Found, decode_lenient};
use super::credentials::{Credentials, LayerCredential};
use super::{Config, LayerKind, Origin};
use crate::client::Client;
use crate::npmrc::{Document, NerfDart, credential_prefixes};
use crate::secret::Secret;
use crate::yarnrc::{self, Field, Place, Yarnrc};

mod pnpm;
mod yarn;

use pnpm::*;
use yarn::*;

/// A client's release line: their files and precedence differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Flavor {
    Npm,
    /// pnpm 10: `~/.npmrc` and the project's `.npmrc`; no `auth.ini`, no
    /// credentials from the environment, no scope-specific tokens.
    Pnpm10,
    /// pnpm 11 and 12.
    Pnpm,
    /// yarn 1: the `.npmrc` files, like npm, but no `npm_config_//…`.
    YarnClassic,
    /// yarn berry (2 and later): `.yarnrc.yml` only.
    YarnBerry,
}

impl Flavor {
    pub(crate) fn client(self) -> Client {
        match self {
            Flavor::Npm => Client::Npm,
            Flavor::Pnpm10 | Flavor::Pnpm => Client::Pnpm,
            Flavor::YarnClassic | Flavor::YarnBerry => Client::Yarn,
        }
    }

    /// `pnpm 11+`, as reports name it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Flavor::Npm => "npm",
            Flavor::Pnpm10 => "pnpm 10",
            Flavor::Pnpm => "pnpm 11+",
            Flavor::YarnClassic => "yarn 1",
            Flavor::YarnBerry => "yarn berry",
        }
    }

    /// Where it reads credentials, highest first, in one line.
    pub(crate) fn precedence(self) -> &'static str {
        match self {
            Flavor::Npm => {
                "command line > npm_config_* > project .npmrc > user .npmrc > global npmrc"
            }
            Flavor::Pnpm10 => "project .npmrc (no ${VAR}) > user .npmrc",
            Flavor::Pnpm => {
                "pnpm_config__auth > config.yaml _auth > pnpm_config_//… > npm_config_//… > project .npmrc (no ${VAR}) > auth.ini > user .npmrc"
            }
            Flavor::YarnClassic => "project .npmrc > user .npmrc > global npmrc",
            Flavor::YarnBerry => {
                "YARN_NPM_AUTH_TOKEN (top level only) > .yarnrc.yml from here up to / > ~/.yarnrc.yml; never .npmrc"
            }
        }
    }
}

/// The credential one client would send for a registry, and the ones it
/// hides there.
#[derive(Debug)]
pub(crate) struct ClientView {
    pub flavor: Flavor,
    /// What it sends (`found` is the reason it sends nothing usable: an
    /// unset `${VAR}`); `None`: no credential at all.
    pub winner: Option<LayerCredential>,
    /// Credentials for the registry in its other sources, highest first.
    pub hidden: Vec<LayerCredential>,
}

/// A credential in a client's user file (`auth.ini`, `~/.yarnrc.yml`).
#[derive(Debug)]
pub(crate) struct FileCredential {
    pub client: Client,
    pub auth: AuthKind,
    pub origin: Origin,
    /// The nerf dart it is keyed by (for yarn, the registry's).
    pub nerf: NerfDart,
    /// The registry it goes to when the file names one with its scheme
    /// (yarn); else the caller maps `nerf` back to a registry.
    pub registry: Option<Url>,
    /// For a scope-specific one (`//host/:@scope:_authToken`,
    /// `npmScopes.<scope>`), the scope with its `@`.
    pub scope: Option<String>,
    pub found: Result<Found, CredentialError>,
}

/// Every client's files, read once, for views from one working folder.
#[derive(Debug)]
pub(crate) struct Clients {
    env: HashMap<String, String>,
    /// pnpm 11+'s layers, lowest first.
    pnpm: Vec<PnpmLayer>,
    /// pnpm 10's layers, lowest first.
    pnpm10: Vec<PnpmLayer>,
    /// Every `.yarnrc.yml` yarn reads from here, nearest first, home last.
    yarnrcs: Vec<YarnFile>,
}

#[derive(Debug)]
struct YarnFile {
    path: PathBuf,
    layer: LayerKind,
    yarnrc: Yarnrc,
}

impl Clients {
    /// Reads pnpm's and yarn's files for a command run in `cwd`. A file
    /// that cannot be read (a folder, no permission, invalid YAML) is an
    /// error naming it (and its line): the client cannot read it either.
    pub(crate) fn read(config: &Config, cwd: &Path) -> Result<Clients> {
        let env = config.env().clone();
        let home = crate::locate::home_dir(&env);
        let project_root = pnpm_project_root(cwd);
        let project = read_ini(&project_root.join(".npmrc"), LayerKind::Project, &env)?;
        let global = match crate::locate::pnpm_config_dir(&env, home.as_deref()) {
            Some(dir) => read_config_yaml(&dir.join("config.yaml"))?,
            None => GlobalYaml::default(),
        };
        let user_path = pnpm_user_file(&env, cwd, home.as_deref(), global.npmrc_auth_file);
        let user = match &user_path {
            Some(path) => read_ini(path, LayerKind::User, &env)?,
            None => PnpmLayer::default(),
        };
        let auth_ini = match crate::locate::pnpm_auth_ini(&env, home.as_deref()) {
            Some(path) => read_ini(&path, LayerKind::User, &env)?,
            None => PnpmLayer::default(),
        };
        let pnpm = vec![
            user.clone(),
            auth_ini,
            project.clone().without_references(),
            env_layer(&env)?,
            global.auth,
            env_auth_layer(&env)?,
        ];
        let pnpm10 = vec![
            user.without_scopes(),
            project.without_references().without_scopes(),
        ];
        Ok(Clients {
            yarnrcs: read_yarnrcs(&env, cwd, home.as_deref())?,
            env,
            pnpm,
            pnpm10,
        })
    }

    /// What `flavor` sends to `registry` for a package of `scope` (with
    /// its `@`). npm's (and yarn 1's, which reads npm's files) comes from
    /// `npm`, the resolver.
    pub(crate) fn view(
        &self,
        flavor: Flavor,
        npm: &Credentials,
        registry: &Url,
        scope: Option<&str>,
    ) -> ClientView {
        let (winner, hidden) = match flavor {
            Flavor::Npm => npm_view(npm, registry),
            Flavor::YarnClassic => {
                let mut found = [LayerKind::Project, LayerKind::User, LayerKind::Global]
                    .into_iter()
                    .filter_map(|layer| npm.in_layer(layer, registry));
                (found.next(), found.collect())
            }
            Flavor::Pnpm => pnpm_view(&self.pnpm, registry, scope, Some(npm)),
            // pnpm 10 runs a helper only without arguments: never rtok's.
            Flavor::Pnpm10 => pnpm_view(&self.pnpm10, registry, None, None),
            Flavor::YarnBerry => self.yarn_view(registry, scope),
        };
        ClientView {
            flavor,
            winner,
            hidden,
        }
    }

    fn yarn_view(
        &self,
        registry: &Url,
        scope: Option<&str>,
    ) -> (Option<LayerCredential>, Vec<LayerCredential>) {
        // Merged: a setting of a nearer file hides the same setting of a
        // farther one; the environment replaces top-level settings.
        let mut merged: Vec<(yarnrc::Entry, Option<usize>)> = Vec::new();
        for (name, field) in [
            ("YARN_NPM_AUTH_TOKEN", Field::AuthToken),
            ("YARN_NPM_AUTH_IDENT", Field::AuthIdent),
        ] {
            if let Some((_, value)) = yarn_env(&self.env, name) {
                merged.push((
                    yarnrc::Entry {
                        place: Place::TopLevel,
                        field,
                        line: 0,
                        value: yarnrc::Value::Literal(Secret::new(value)),
                        // Escaped: yarn does not interpolate the environment's value.
                        raw: Secret::new(escape_for_yarn(value)),
                    },
                    None,
                ));
            }
        }
        // yarn normalises `npmRegistries` keys (one trailing `/` dropped)
        // as it reads them, so two spellings of one URL are one entry.
        for (index, file) in self.yarnrcs.iter().enumerate() {
            for entry in file.yarnrc.entries() {
                let mut entry = entry.clone();
                if let Place::Registry(key) = &entry.place {
                    entry.place = Place::Registry(key.strip_suffix('/').unwrap_or(key).to_string());
                }
                if !merged
                    .iter()
                    .any(|(e, _)| e.place == entry.place && e.field == entry.field)
                {
                    merged.push((entry, Some(index)));
                }
            }
        }
        // Farthest first, as yarn's merged map lists them: of keys that
        // name one registry with and without scheme, `auth_for` takes the
        // last.
        merged.reverse();
        let origin_of = |entry: &yarnrc::Entry, file: Option<usize>| match file {
            Some(index) => {
                let file = &self.yarnrcs[index];
                Origin::File {
                    layer: file.layer,
                    path: file.path.clone(),
                    line: entry.line,
                    variable: first_variable(&entry.value),
                }
            }
            None => Origin::Env {
                var: yarn_env(&self.env, env_name(entry.field))
                    .map(|(var, _)| var.to_string())
                    .unwrap_or_else(|| env_name(entry.field).to_string()),
            },
        };
        let sources: Vec<Option<usize>> = merged.iter().map(|(_, file)| *file).collect();
        let all = Yarnrc::from_entries(merged.into_iter().map(|(entry, _)| entry).collect());
        let winner = self.yarn_credential(&all, registry, scope, |entry| {
            let index = all
                .entries()
                .iter()
                .position(|e| std::ptr::eq(e, entry))
                .unwrap_or(0);
            origin_of(entry, sources[index])
        });
        let mut hidden = Vec::new();
        for (index, file) in self.yarnrcs.iter().enumerate() {
            let alone = self.yarn_credential(&file.yarnrc, registry, scope, |entry| {
                origin_of(entry, Some(index))
            });
            if let Some(candidate) = alone
                && winner.as_ref().map(|w| &w.origin) != Some(&candidate.origin)
            {
                hidden.push(candidate);
            }
        }
        (winner, hidden)
    }

    /// The credential yarn takes from `yarnrc` for `registry`: the place
    /// `auth_for` picks, its token if it has a non-empty one, else its
    /// ident.
    fn yarn_credential(
        &self,
        yarnrc: &Yarnrc,
        registry: &Url,
        scope: Option<&str>,
        origin_of: impl Fn(&yarnrc::Entry) -> Origin,
    ) -> Option<LayerCredential> {
        let nerf = NerfDart::from_url(registry);
        let from = |auth: yarnrc::Auth<'_>| {
            [auth.token, auth.ident]
                .into_iter()
                .flatten()
                .find_map(|entry| yarn_found(entry, &nerf, origin_of(entry), &self.env))
        };
        let auth = yarnrc.auth_for(registry.as_str(), scope);
        // A scope's token that resolves to nothing does not count: yarn
        // goes on to the registry's.
        if matches!(auth.place, Place::Scope(_)) {
            return from(auth).or_else(|| from(yarnrc.auth_for(registry.as_str(), None)));
        }
        from(auth)
    }

    /// Every `${VAR}` without a default, in any `.yarnrc.yml` yarn reads
    /// from here, whose variable is unset: yarn stops on each.
    pub(crate) fn yarn_missing_variables(&self) -> Result<Vec<(PathBuf, yarnrc::Missing)>> {
        let lookup = |name: &str| self.env.get(name).cloned();
        let mut found = Vec::new();
        for file in &self.yarnrcs {
            let Some(text) = crate::private_file::read_text(&file.path)? else {
                continue;
            };
            let missing =
                yarnrc::missing_variables(&text, &lookup).map_err(|source| yarnrc::FileError {
                    path: file.path.clone(),
                    source,
                })?;
            found.extend(missing.into_iter().map(|m| (file.path.clone(), m)));
        }
        Ok(found)
    }
}

/// Every credential in `client`'s user file: `auth.ini`'s for pnpm,
/// the home `.yarnrc.yml`'s for yarn (npm's are the resolver's).
pub(crate) fn user_file_credentials(
    config: &Config,
    client: Client,
    rtok: &Credentials,
) -> Result<Vec<FileCredential>> {
    let env = config.env();
    let Some(path) = super::clients::user_file(config, client) else {
        return Ok(Vec::new());
    };
    match client {
        Client::Npm => Ok(Vec::new()),
        Client::Pnpm => {
            let layer = read_ini(&path, LayerKind::User, env)?;
            let mut keys: Vec<(String, Option<String>)> = Vec::new();
            for setting in &layer.settings {
                if let Some((prefix, scope, _)) = parse_key(&setting.key)
                    && !keys.contains(&(prefix.clone(), scope.clone()))
                {
                    keys.push((prefix, scope));
                }
            }
            let merged = merge(std::slice::from_ref(&layer));
            Ok(keys
                .into_iter()
                .filter_map(|(prefix, scope)| {
                    let credential = decide(&merged, &prefix, scope.as_deref(), Some(rtok))?;
                    Some(FileCredential {
                        client,
                        auth: credential.auth,
                        origin: credential.origin,
                        nerf: NerfDart::parse(&prefix)?,
                        registry: None,
                        scope,
                        found: credential.found,
                    })
                })
                .collect())
        }
        Client::Yarn => {
            let Some(yarnrc) = yarnrc::read_file(&path)? else {
                return Ok(Vec::new());
            };
            let mut found = Vec::new();
            for entry in yarnrc.entries() {
                if !matches!(entry.field, Field::AuthToken | Field::AuthIdent) {
                    continue;
                }
                let (registry, scope) = match &entry.place {
                    Place::Registry(key) => (yarn_registry_url(key), None),
                    Place::Scope(name) => (
                        yarn_server(&yarnrc, Some(name), env),
                        Some(format!("@{name}")),
                    ),
                    Place::TopLevel => (yarn_server(&yarnrc, None, env), None),
                };
                let Some(registry) = registry else { continue };
                let nerf = NerfDart::from_url(&registry);
                let origin = Origin::File {
                    layer: LayerKind::User,
                    path: path.clone(),
                    line: entry.line,
                    variable: first_variable(&entry.value),
                };
                if let Some(credential) = yarn_found(entry, &nerf, origin, env) {
                    found.push(FileCredential {
                        client,
                        auth: credential.auth,
                        origin: credential.origin,
                        nerf,
                        registry: Some(registry),
                        scope,
                        found: credential.found,
                    });
                }
            }
            Ok(found)
        }
    }
}

/// A `//host/:@scope:_authToken` key of one of npm's files: pnpm 11+ sends
/// it for the scope's packages; npm ignores it (and sends the host's
/// token, if any).
#[derive(Debug, Clone)]
pub(crate) struct ScopedKey {
    pub key: String,
    /// With its `@`.
    pub scope: String,
    /// The nerf dart of the host part.
    pub nerf: NerfDart,
    pub origin: Origin,
}

/// Every scope-specific credential key in npm's files (project, user,
/// global), in file order.
pub(crate) fn scope_specific_keys(config: &Config) -> Vec<ScopedKey> {
    let mut found = Vec::new();
    for kind in [LayerKind::Project, LayerKind::User, LayerKind::Global] {
        let Some(layer) = config.layer(kind) else {
            continue;
        };
        for setting in &layer.settings {
            let Some((left, _)) = setting.key.rsplit_once(':') else {
                continue;
            };
            // Only the `:@scope:` spelling: npm reads `//host/@scope/:…` as
            // a path, which it does use under that path.
            if !left.contains(":@") {
                continue;
            }
            if let Some((prefix, Some(scope), _)) = parse_key(&setting.key)
                && let Some(nerf) = NerfDart::parse(&prefix)
            {
                found.push(ScopedKey {
                    key: setting.key.clone(),
                    scope,
                    nerf,
                    origin: setting.origin.clone(),
                });
            }
        }
    }
    found
}

fn npm_view(npm: &Credentials, registry: &Url) -> (Option<LayerCredential>, Vec<LayerCredential>) {
    let layered = npm.layered(registry);
    let winner = layered.described.map(|(auth, origin)| LayerCredential {
        auth,
        origin,
        found: match layered.winner {
            Ok(Some(found)) => Ok(found),
            Err(err) => Err(err),
            // Described but nothing found cannot happen; say so plainly.
            Ok(None) => Err(CredentialError::Poisoned),
        },
    });
    (winner, layered.shadowed)
}

#[cfg(test)]
mod tests;
