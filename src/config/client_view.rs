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
            Flavor::Pnpm => pnpm_view(&self.pnpm, registry, scope),
            Flavor::Pnpm10 => pnpm_view(&self.pnpm10, registry, None),
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
                    let credential = decide(&merged, &prefix, scope.as_deref())?;
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

// ------------------------------------------------------------------ pnpm

/// One setting of a pnpm layer, its value expanded as pnpm does.
#[derive(Debug, Clone)]
struct PnpmSetting {
    key: String,
    value: String,
    /// The raw value refers to a variable (the first one named).
    variable: Option<String>,
    /// Variables pnpm found unset (it uses `""` for each).
    unset: Vec<String>,
    origin: Origin,
}

#[derive(Debug, Clone, Default)]
struct PnpmLayer {
    settings: Vec<PnpmSetting>,
    /// A project file: `${…}` is never expanded there.
    untrusted: bool,
}

impl PnpmLayer {
    /// pnpm drops a project file's credential (or `//` key) that holds a
    /// `${…}`, with a warning, rather than expanding it.
    fn without_references(mut self) -> PnpmLayer {
        if self.untrusted {
            self.settings
                .retain(|s| !(s.key.starts_with("//") && s.variable.is_some()));
        }
        self
    }

    /// pnpm 10 reads `//host/:@scope:_authToken` as no key at all.
    fn without_scopes(mut self) -> PnpmLayer {
        self.settings
            .retain(|s| parse_key(&s.key).is_none_or(|(_, scope, _)| scope.is_none()));
        self
    }
}

/// The credential fields pnpm reads under a registry (tokenHelper aside).
const PNPM_FIELDS: [&str; 4] = ["_authToken", "_auth", "username", "_password"];

/// `//host/path/:field`, `//host/path/:@scope:field` or
/// `//host/path/@scope/:field` → (prefix, scope, field).
fn parse_key(key: &str) -> Option<(String, Option<String>, &str)> {
    let (left, field) = key.rsplit_once(':')?;
    if !left.starts_with("//") || !PNPM_FIELDS.contains(&field) {
        return None;
    }
    if let Some((prefix, scope)) = left.rsplit_once(":@")
        && prefix.starts_with("//")
        && !scope.is_empty()
    {
        return Some((prefix.to_string(), Some(format!("@{scope}")), field));
    }
    let trimmed = left.trim_end_matches('/');
    if let Some((prefix, last)) = trimmed.rsplit_once('/')
        && last.starts_with('@')
        && last.len() > 1
        && prefix.len() > 2
    {
        return Some((format!("{prefix}/"), Some(last.to_string()), field));
    }
    Some((left.to_string(), None, field))
}

/// Reads an ini file pnpm reads (`auth.ini`, an `.npmrc`).
fn read_ini(path: &Path, layer: LayerKind, env: &HashMap<String, String>) -> Result<PnpmLayer> {
    let bytes = crate::private_file::read_regular(path)
        .with_context(|| format!("could not read {}", path.display()))?;
    let Some(bytes) = bytes else {
        return Ok(PnpmLayer {
            untrusted: layer == LayerKind::Project,
            ..PnpmLayer::default()
        });
    };
    let document = Document::parse(&bytes);
    let untrusted = layer == LayerKind::Project;
    let settings = document
        .entries()
        .filter(|located| !located.entry.array)
        .map(|located| {
            let entry = located.entry;
            let key = if untrusted {
                entry.key.clone()
            } else {
                pnpm_expand(&entry.key, env).value
            };
            let value = pnpm_expand(&entry.value, env);
            let variable = value
                .names
                .first()
                .cloned()
                .or_else(|| (untrusted && entry.key.contains("${")).then(|| "…".to_string()));
            PnpmSetting {
                key,
                value: value.value,
                variable: variable.clone(),
                unset: value.unset,
                origin: Origin::File {
                    layer,
                    path: path.to_path_buf(),
                    line: located.line,
                    variable: value.names.first().cloned(),
                },
            }
        })
        .collect();
    Ok(PnpmLayer {
        settings,
        untrusted,
    })
}

/// `npm_config_//…`, then `pnpm_config_//…` (which wins), then
/// `pnpm_config__auth` (JSON; `PNPM_CONFIG__AUTH` when the lower-case one
/// is unset or empty).
fn env_layer(env: &HashMap<String, String>) -> Result<PnpmLayer> {
    let mut settings = Vec::new();
    for prefix in ["npm_config_", "pnpm_config_"] {
        let mut names: Vec<&String> = env
            .keys()
            .filter(|name| {
                name.len() > prefix.len()
                    && name.is_char_boundary(prefix.len())
                    && name[..prefix.len()].eq_ignore_ascii_case(prefix)
                    && name[prefix.len()..].starts_with("//")
                    && !env[*name].is_empty()
                    && !name.ends_with(":tokenHelper")
            })
            .collect();
        names.sort();
        for name in names {
            settings.push(PnpmSetting {
                key: name[prefix.len()..].to_string(),
                value: env[name].clone(),
                variable: None,
                unset: Vec::new(),
                origin: Origin::Env { var: name.clone() },
            });
        }
    }
    Ok(PnpmLayer {
        settings,
        untrusted: false,
    })
}

/// `pnpm_config__auth` (JSON; `PNPM_CONFIG__AUTH` when the lower-case one
/// is unset or empty), above the global `config.yaml`'s `_auth`.
fn env_auth_layer(env: &HashMap<String, String>) -> Result<PnpmLayer> {
    let mut settings = Vec::new();
    let auth = ["pnpm_config__auth", "PNPM_CONFIG__AUTH"]
        .into_iter()
        .find_map(|var| env.get(var).filter(|v| !v.is_empty()).map(|v| (var, v)));
    if let Some((var, json)) = auth {
        settings.extend(auth_json(var, json)?);
    }
    Ok(PnpmLayer {
        settings,
        untrusted: false,
    })
}

/// What pnpm's global `config.yaml` says about credentials.
#[derive(Debug, Default)]
struct GlobalYaml {
    /// `_auth:` (pnpm 11.10+), as settings.
    auth: PnpmLayer,
    /// `npmrcAuthFile`: the user file in place of `~/.npmrc`.
    npmrc_auth_file: Option<String>,
}

/// Reads `<pnpm config folder>/config.yaml`: `_auth` (`{"<url>": {"@":
/// {"authToken": …}}}` as in `pnpm_config__auth`) and `npmrcAuthFile`. A
/// file that is not YAML stops pnpm, and so this.
fn read_config_yaml(path: &Path) -> Result<GlobalYaml> {
    use yaml_rust2::{Yaml, YamlLoader};
    let Some(text) = crate::private_file::read_text(path)? else {
        return Ok(GlobalYaml::default());
    };
    let documents = YamlLoader::load_from_str(&text).map_err(|err| {
        anyhow::anyhow!(
            "{}: line {}: invalid YAML: {}",
            path.display(),
            err.marker().line(),
            err.info()
        )
    })?;
    let Some(document @ Yaml::Hash(_)) = documents.first() else {
        return Ok(GlobalYaml::default());
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut settings = Vec::new();
    if let Yaml::Hash(registries) = &document["_auth"] {
        for (url, scopes) in registries {
            let (Some(url), Yaml::Hash(scopes)) = (url.as_str(), scopes) else {
                continue;
            };
            let Ok(parsed) = Url::parse(url) else {
                continue;
            };
            let nerf = crate::npmrc::nerf_dart(&parsed);
            for (scope, fields) in scopes {
                let (Some(scope), Some(token)) = (scope.as_str(), fields["authToken"].as_str())
                else {
                    continue;
                };
                let key = match scope {
                    "@" => format!("{nerf}:_authToken"),
                    scope => format!("{nerf}:{scope}:_authToken"),
                };
                settings.push(PnpmSetting {
                    key,
                    value: token.to_string(),
                    variable: None,
                    unset: Vec::new(),
                    origin: Origin::File {
                        layer: LayerKind::User,
                        path: path.to_path_buf(),
                        line: token_line(&lines, url, scope),
                        variable: None,
                    },
                });
            }
        }
    }
    Ok(GlobalYaml {
        auth: PnpmLayer {
            settings,
            untrusted: false,
        },
        npmrc_auth_file: document["npmrcAuthFile"].as_str().map(str::to_string),
    })
}

/// The 1-based line of the `authToken` under `url` and `scope` in a
/// block-style `_auth:` map (the line of `url` when it is written another
/// way).
fn token_line(lines: &[&str], url: &str, scope: &str) -> usize {
    let Some(at_url) = lines.iter().position(|l| l.contains(url)) else {
        return 1;
    };
    let at_scope = lines[at_url..]
        .iter()
        .position(|l| l.contains(scope))
        .map_or(at_url, |i| at_url + i);
    lines[at_scope..]
        .iter()
        .position(|l| l.contains("authToken"))
        .map_or(at_url, |i| at_scope + i)
        + 1
}

/// `{"<url>": {"@": {"authToken": "…"}, "@org": {"authToken": "…"}}}`
/// as keys: a malformed value stops pnpm (`INVALID_AUTH_SETTING`).
fn auth_json(var: &str, json: &str) -> Result<Vec<PnpmSetting>> {
    let invalid = || {
        anyhow::anyhow!(
            "`{var}` is not pnpm's `{{\"<registry URL>\": {{\"@\": {{\"authToken\": \"…\"}}}}}}` (pnpm stops with INVALID_AUTH_SETTING)"
        )
    };
    let value: serde_json::Value = serde_json::from_str(json).map_err(|_| invalid())?;
    let mut settings = Vec::new();
    for (url, scopes) in value.as_object().ok_or_else(invalid)? {
        let url = Url::parse(url).map_err(|_| invalid())?;
        let nerf = crate::npmrc::nerf_dart(&url);
        for (scope, fields) in scopes.as_object().ok_or_else(invalid)? {
            let token = fields
                .get("authToken")
                .and_then(serde_json::Value::as_str)
                .ok_or_else(invalid)?;
            let key = match scope.as_str() {
                "@" => format!("{nerf}:_authToken"),
                scope => format!("{nerf}:{scope}:_authToken"),
            };
            settings.push(PnpmSetting {
                key,
                value: token.to_string(),
                variable: None,
                unset: Vec::new(),
                origin: Origin::Env {
                    var: var.to_string(),
                },
            });
        }
    }
    Ok(settings)
}

/// The settings of `layers` merged key by key, the later layer winning
/// (and within a file the later line).
fn merge(layers: &[PnpmLayer]) -> HashMap<String, PnpmSetting> {
    let mut merged = HashMap::new();
    for layer in layers {
        for setting in &layer.settings {
            merged.insert(setting.key.clone(), setting.clone());
        }
    }
    merged
}

fn pnpm_view(
    layers: &[PnpmLayer],
    registry: &Url,
    scope: Option<&str>,
) -> (Option<LayerCredential>, Vec<LayerCredential>) {
    let winner = pnpm_lookup(&merge(layers), registry, scope);
    let hidden = layers
        .iter()
        .rev()
        .filter_map(|layer| pnpm_lookup(&merge(std::slice::from_ref(layer)), registry, scope))
        .filter(|candidate| winner.as_ref().map(|w| &w.origin) != Some(&candidate.origin))
        .collect();
    (winner, hidden)
}

/// pnpm's lookup: for a scoped package its scope's keys, longest prefix
/// first; then the registry's, longest prefix first.
fn pnpm_lookup(
    merged: &HashMap<String, PnpmSetting>,
    registry: &Url,
    scope: Option<&str>,
) -> Option<LayerCredential> {
    let prefixes = credential_prefixes(registry);
    if let Some(scope) = scope
        && let Some(found) = prefixes
            .iter()
            .find_map(|prefix| decide(merged, prefix, Some(scope)))
    {
        return Some(found);
    }
    prefixes
        .iter()
        .find_map(|prefix| decide(merged, prefix, None))
}

/// The credential `merged` holds for exactly `prefix` (and `scope`), by
/// pnpm's order: `_authToken`, then `_auth`, then `username` +
/// `_password`. A field emptied by an unset `${VAR}` still decides: pnpm
/// sends nothing. (pnpm puts a `tokenHelper` above all three; rtok does not
/// run helpers to see what they print, so one is not modelled yet.)
fn decide(
    merged: &HashMap<String, PnpmSetting>,
    prefix: &str,
    scope: Option<&str>,
) -> Option<LayerCredential> {
    let key = |field: &str| match scope {
        Some(scope) => format!("{prefix}:{scope}:{field}"),
        None => format!("{prefix}:{field}"),
    };
    let get = |field: &str| {
        merged.get(&key(field)).or_else(|| {
            // `//host/@scope/:field`, pnpm's other spelling.
            let scope = scope?;
            merged.get(&format!("{prefix}{scope}/:{field}"))
        })
    };
    let counts = |s: &&PnpmSetting| !s.value.is_empty() || !s.unset.is_empty();
    let nerf = NerfDart::parse(prefix)?;
    if let Some(token) = get("_authToken").filter(counts) {
        return Some(credential(AuthKind::Token, token, &nerf, |value| {
            Some(Credential::Bearer(Secret::new(value)))
        }));
    }
    if let Some(auth) = get("_auth").filter(counts) {
        return Some(credential(AuthKind::Auth, auth, &nerf, |value| {
            Some(basic(value.to_string()))
        }));
    }
    if let (Some(user), Some(password)) = (
        get("username").filter(counts),
        get("_password").filter(counts),
    ) {
        let mut found = credential(AuthKind::UsernamePassword, user, &nerf, |name| {
            let password = decode_lenient(&password.value)?;
            let mut pair = format!("{name}:").into_bytes();
            pair.extend_from_slice(&password);
            Some(Credential::Basic {
                username: Some(name.to_string()),
                encoded: Secret::new(encode_base64(&pair)),
            })
        });
        if let Some(var) = password.unset.first() {
            found.found = Err(unset(&password.key, var, &password.origin));
        } else if found.found.is_err() && user.unset.is_empty() {
            found.found = Err(CredentialError::BadBase64 {
                key: password.key.clone(),
                origin: password.origin.clone(),
            });
        }
        return Some(found);
    }
    None
}

fn credential(
    auth: AuthKind,
    setting: &PnpmSetting,
    nerf: &NerfDart,
    make: impl FnOnce(&str) -> Option<Credential>,
) -> LayerCredential {
    let found = match setting.unset.first() {
        Some(var) => Err(unset(&setting.key, var, &setting.origin)),
        None => make(&setting.value)
            .map(|credential| Found {
                nerf: nerf.clone(),
                kind: auth,
                credential: Some(credential),
                client_cert: None,
                origin: setting.origin.clone(),
            })
            .ok_or_else(|| CredentialError::BadBase64 {
                key: setting.key.clone(),
                origin: setting.origin.clone(),
            }),
    };
    LayerCredential {
        auth,
        origin: setting.origin.clone(),
        found,
    }
}

fn unset(key: &str, var: &str, origin: &Origin) -> CredentialError {
    CredentialError::UnsetVariable {
        key: key.to_string(),
        var: var.to_string(),
        origin: origin.clone(),
    }
}

/// `Basic` from base64 `user:password` (the user name when it decodes).
fn basic(encoded: String) -> Credential {
    let username = decode_lenient(&encoded)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|pair| pair.split_once(':').map(|(user, _)| user.to_string()));
    Credential::Basic {
        username,
        encoded: Secret::new(encoded),
    }
}

/// A value expanded as pnpm's `env-replace` does it.
#[derive(Debug, PartialEq, Eq)]
struct PnpmExpanded {
    value: String,
    names: Vec<String>,
    unset: Vec<String>,
}

/// pnpm's `${VAR}`, `${VAR-default}` (when unset) and `${VAR:-default}`
/// (when unset or empty); an unset `${VAR}` becomes `""`; an odd number of
/// backslashes before `$` keeps the text (one backslash dropped).
fn pnpm_expand(text: &str, env: &HashMap<String, String>) -> PnpmExpanded {
    let mut out = PnpmExpanded {
        value: String::new(),
        names: Vec::new(),
        unset: Vec::new(),
    };
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(length) = rest[start + 2..].find(['$', '{', '}']) else {
            break;
        };
        let inner = &rest[start + 2..start + 2 + length];
        if !rest[start + 2 + length..].starts_with('}') || inner.is_empty() {
            out.value.push_str(&rest[..start + 2]);
            rest = &rest[start + 2..];
            continue;
        }
        let before = &rest[..start];
        let backslashes = before.len() - before.trim_end_matches('\\').len();
        let end = start + 2 + length + 1;
        if backslashes % 2 == 1 {
            out.value.push_str(&before[..before.len() - 1]);
            out.value.push_str(&rest[start..end]);
            rest = &rest[end..];
            continue;
        }
        out.value.push_str(before);
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some((default, true))),
            None => match inner.split_once('-') {
                Some((name, default)) => (name, Some((default, false))),
                None => (inner, None),
            },
        };
        out.names.push(name.to_string());
        let value = env.get(name);
        match (value, default) {
            (Some(value), Some((default, true))) if value.is_empty() => out.value.push_str(default),
            (Some(value), _) => out.value.push_str(value),
            (None, Some((default, _))) => out.value.push_str(default),
            (None, None) => out.unset.push(name.to_string()),
        }
        rest = &rest[end..];
    }
    out.value.push_str(rest);
    out
}

/// The folder whose `.npmrc` pnpm reads as the project's: the workspace
/// root (`pnpm-workspace.yaml`), else the project's, as npm finds it.
fn pnpm_project_root(cwd: &Path) -> PathBuf {
    cwd.ancestors()
        .find(|dir| dir.join("pnpm-workspace.yaml").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| crate::locate::project_prefix(cwd))
}

/// pnpm 11's user file: `pnpm_config_npmrc_auth_file`,
/// `pnpm_config_userconfig`, `npmrcAuthFile` in the global `config.yaml`,
/// `npm_config_userconfig` (names matched case-insensitively), else
/// `~/.npmrc`.
fn pnpm_user_file(
    env: &HashMap<String, String>,
    cwd: &Path,
    home: Option<&Path>,
    from_config_yaml: Option<String>,
) -> Option<PathBuf> {
    let set = |wanted: &str| {
        let mut names: Vec<&String> = env
            .keys()
            .filter(|name| name.eq_ignore_ascii_case(wanted) && !env[*name].is_empty())
            .collect();
        names.sort();
        names.first().map(|name| env[*name].clone())
    };
    ["pnpm_config_npmrc_auth_file", "pnpm_config_userconfig"]
        .into_iter()
        .find_map(set)
        .or(from_config_yaml)
        .or_else(|| set("npm_config_userconfig"))
        .map(|value| crate::locate::resolve_path(&value, cwd, home))
        .or_else(|| home.map(|home| home.join(".npmrc")))
}

// ------------------------------------------------------------------ yarn

/// Every `.yarnrc.yml` from `cwd` up to `/`, then the home one.
fn read_yarnrcs(
    env: &HashMap<String, String>,
    cwd: &Path,
    home: Option<&Path>,
) -> Result<Vec<YarnFile>> {
    let home_file = crate::locate::yarnrc_home(env, home);
    let name = home_file
        .file_name()
        .map_or_else(|| ".yarnrc.yml".into(), |n| n.to_os_string());
    let mut paths: Vec<(PathBuf, LayerKind)> = cwd
        .ancestors()
        .map(|dir| (dir.join(&name), LayerKind::Project))
        .collect();
    if !paths.iter().any(|(path, _)| *path == home_file) {
        paths.push((home_file.clone(), LayerKind::User));
    }
    let mut files = Vec::new();
    for (path, layer) in paths {
        let layer = if path == home_file {
            LayerKind::User
        } else {
            layer
        };
        if let Some(yarnrc) = yarnrc::read_file(&path)? {
            files.push(YarnFile {
                path,
                layer,
                yarnrc,
            });
        }
    }
    Ok(files)
}

/// The environment variable `YARN_…` (matched case-insensitively, as yarn
/// does), when set.
fn yarn_env<'a>(env: &'a HashMap<String, String>, name: &str) -> Option<(&'a str, &'a str)> {
    let mut found: Vec<(&String, &String)> = env
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .collect();
    found.sort();
    found.first().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// `text` written so that yarn's interpolation gives it back as it is.
fn escape_for_yarn(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '$' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn env_name(field: Field) -> &'static str {
    match field {
        Field::AuthIdent => "YARN_NPM_AUTH_IDENT",
        _ => "YARN_NPM_AUTH_TOKEN",
    }
}

fn first_variable(value: &yarnrc::Value) -> Option<String> {
    match value {
        yarnrc::Value::Reference(variables) => variables.first().map(|v| v.name.clone()),
        _ => None,
    }
}

/// What yarn makes of a token or ident setting: `None` when it resolves
/// to nothing (yarn then sends nothing from it).
fn yarn_found(
    entry: &yarnrc::Entry,
    nerf: &NerfDart,
    origin: Origin,
    env: &HashMap<String, String>,
) -> Option<LayerCredential> {
    let auth = match entry.field {
        Field::AuthToken => AuthKind::Token,
        Field::AuthIdent => AuthKind::Auth,
        _ => return None,
    };
    let key = entry.field.key().to_string();
    let lookup = |name: &str| env.get(name).cloned();
    let found = match yarnrc::resolve(entry.raw.expose(), &lookup) {
        Ok(value) if value.is_empty() => return None,
        Ok(value) => {
            let credential = match entry.field {
                Field::AuthToken => Credential::Bearer(Secret::new(value)),
                // `user:password`, or already base64 without a `:`.
                _ if value.contains(':') => basic(encode_base64(value.as_bytes())),
                _ => basic(value),
            };
            Ok(Found {
                nerf: nerf.clone(),
                kind: auth,
                credential: Some(credential),
                client_cert: None,
                origin: origin.clone(),
            })
        }
        Err(yarnrc::Unresolved::Unset(var)) => Err(CredentialError::UnsetVariable {
            key,
            var,
            origin: origin.clone(),
        }),
        Err(yarnrc::Unresolved::Malformed) => Err(CredentialError::MalformedReference {
            key,
            origin: origin.clone(),
        }),
    };
    Some(LayerCredential {
        auth,
        origin,
        found,
    })
}

/// An `npmRegistries` key as a registry URL: as written when it has a
/// scheme, else (`//host/path`) by `NerfDart`'s rule.
fn yarn_registry_url(key: &str) -> Option<Url> {
    if key.starts_with("//") {
        return NerfDart::parse(key)?.registry_url(&[]);
    }
    let url = Url::parse(key).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// The registry a scope's (or, with `None`, the top level's) credential
/// of this file goes to: the scope's `npmRegistryServer`, else
/// `YARN_NPM_REGISTRY_SERVER`, else the file's top-level one, else yarn's
/// default.
fn yarn_server(yarnrc: &Yarnrc, scope: Option<&str>, env: &HashMap<String, String>) -> Option<Url> {
    let resolve = |entry: &yarnrc::Entry| {
        yarnrc::resolve(entry.raw.expose(), &|name: &str| env.get(name).cloned()).ok()
    };
    let scoped = scope.and_then(|scope| {
        yarnrc
            .entries()
            .iter()
            .find(|e| {
                e.place == Place::Scope(scope.to_string()) && e.field == Field::RegistryServer
            })
            .and_then(resolve)
    });
    let text = scoped
        .or_else(|| yarn_env(env, "YARN_NPM_REGISTRY_SERVER").map(|(_, v)| v.to_string()))
        .or_else(|| {
            yarnrc
                .entries()
                .iter()
                .find(|e| e.place == Place::TopLevel && e.field == Field::RegistryServer)
                .and_then(resolve)
        })
        .unwrap_or_else(|| yarnrc::DEFAULT_REGISTRY.to_string());
    yarn_registry_url(text.trim())
}

#[cfg(test)]
mod tests;
