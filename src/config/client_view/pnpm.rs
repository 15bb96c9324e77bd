//! pnpm's side of the client view: its layers (the user `.npmrc`,
//! `auth.ini`, the project `.npmrc`, the environment, the global
//! `config.yaml`), its `${VAR}` expansion, its keys (scope-specific ones
//! included) and which credential it picks for a registry.

use super::*;
/// One setting of a pnpm layer, its value expanded as pnpm does.
#[derive(Debug, Clone)]
pub(super) struct PnpmSetting {
    pub(super) key: String,
    pub(super) value: String,
    /// The raw value refers to a variable (the first one named).
    pub(super) variable: Option<String>,
    /// Variables pnpm found unset (it uses `""` for each).
    pub(super) unset: Vec<String>,
    pub(super) origin: Origin,
}

#[derive(Debug, Clone, Default)]
pub(super) struct PnpmLayer {
    pub(super) settings: Vec<PnpmSetting>,
    /// A project file: `${…}` is never expanded there.
    pub(super) untrusted: bool,
}

impl PnpmLayer {
    /// pnpm drops a project file's credential (or `//` key) that holds a
    /// `${…}`, with a warning, rather than expanding it.
    pub(super) fn without_references(mut self) -> PnpmLayer {
        if self.untrusted {
            self.settings
                .retain(|s| !(s.key.starts_with("//") && s.variable.is_some()));
        }
        self
    }

    /// pnpm 10 reads `//host/:@scope:_authToken` as no key at all.
    pub(super) fn without_scopes(mut self) -> PnpmLayer {
        self.settings
            .retain(|s| parse_key(&s.key).is_none_or(|(_, scope, _)| scope.is_none()));
        self
    }
}

/// The credential fields pnpm reads under a registry (tokenHelper aside).
pub(super) const PNPM_FIELDS: [&str; 5] = [
    "_authToken",
    "_auth",
    "username",
    "_password",
    "tokenHelper",
];

/// `//host/path/:field`, `//host/path/:@scope:field` or
/// `//host/path/@scope/:field` → (prefix, scope, field).
pub(super) fn parse_key(key: &str) -> Option<(String, Option<String>, &str)> {
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
pub(super) fn read_ini(
    path: &Path,
    layer: LayerKind,
    env: &HashMap<String, String>,
) -> Result<PnpmLayer> {
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
pub(super) fn env_layer(env: &HashMap<String, String>) -> Result<PnpmLayer> {
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
pub(super) fn env_auth_layer(env: &HashMap<String, String>) -> Result<PnpmLayer> {
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
pub(super) struct GlobalYaml {
    /// `_auth:` (pnpm 11.10+), as settings.
    pub(super) auth: PnpmLayer,
    /// `npmrcAuthFile`: the user file in place of `~/.npmrc`.
    pub(super) npmrc_auth_file: Option<String>,
}

/// Reads `<pnpm config folder>/config.yaml`: `_auth` (`{"<url>": {"@":
/// {"authToken": …}}}` as in `pnpm_config__auth`) and `npmrcAuthFile`. A
/// file that is not YAML stops pnpm, and so this.
pub(super) fn read_config_yaml(path: &Path) -> Result<GlobalYaml> {
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
pub(super) fn token_line(lines: &[&str], url: &str, scope: &str) -> usize {
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
pub(super) fn auth_json(var: &str, json: &str) -> Result<Vec<PnpmSetting>> {
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
pub(super) fn merge(layers: &[PnpmLayer]) -> HashMap<String, PnpmSetting> {
    let mut merged = HashMap::new();
    for layer in layers {
        for setting in &layer.settings {
            merged.insert(setting.key.clone(), setting.clone());
        }
    }
    merged
}

pub(super) fn pnpm_view(
    layers: &[PnpmLayer],
    registry: &Url,
    scope: Option<&str>,
    helper: Helper<'_>,
) -> (Option<LayerCredential>, Vec<LayerCredential>) {
    let winner = pnpm_lookup(&merge(layers), registry, scope, helper);
    let hidden = layers
        .iter()
        .rev()
        .filter_map(|layer| {
            pnpm_lookup(&merge(std::slice::from_ref(layer)), registry, scope, helper)
        })
        .filter(|candidate| winner.as_ref().map(|w| &w.origin) != Some(&candidate.origin))
        .collect();
    (winner, hidden)
}

/// pnpm's lookup: for a scoped package its scope's keys, longest prefix
/// first; then the registry's, longest prefix first.
pub(super) fn pnpm_lookup(
    merged: &HashMap<String, PnpmSetting>,
    registry: &Url,
    scope: Option<&str>,
    helper: Helper<'_>,
) -> Option<LayerCredential> {
    let prefixes = credential_prefixes(registry);
    if let Some(scope) = scope
        && let Some(found) = prefixes
            .iter()
            .find_map(|prefix| decide(merged, prefix, Some(scope), helper))
    {
        return Some(found);
    }
    prefixes
        .iter()
        .find_map(|prefix| decide(merged, prefix, None, helper))
}

/// What rtok resolves a registry's credential to: what `rtok token-helper
/// <registry>` prints for pnpm. `None`: no rtok resolution at hand, so a
/// token helper is not modelled.
pub(crate) type Helper<'a> = Option<&'a Credentials>;

/// The registry a `tokenHelper` value names when it runs rtok's own helper
/// (`<path>/rtok token-helper <registry>`, as the store writes it).
fn rtok_helper_registry(value: &str) -> Option<Url> {
    let mut words = value.split_whitespace();
    let program = words.next()?;
    let is_rtok = std::path::Path::new(program)
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with("rtok"));
    match (is_rtok, words.next(), words.next(), words.next()) {
        (true, Some("token-helper"), Some(registry), None) => Url::parse(registry).ok(),
        _ => None,
    }
}

/// The credential `merged` holds for exactly `prefix` (and `scope`), by
/// pnpm's order: `_authToken`, then `_auth`, then `username` +
/// `_password`. A field emptied by an unset `${VAR}` still decides: pnpm
/// sends nothing. A `tokenHelper` comes above all three: rtok's own
/// (`rtok token-helper <registry>`) is what rtok resolves for that registry;
/// another program is not run to see what it prints, so it is not modelled.
pub(super) fn decide(
    merged: &HashMap<String, PnpmSetting>,
    prefix: &str,
    scope: Option<&str>,
    helper: Helper<'_>,
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
    if let (Some(setting), Some(rtok)) = (get("tokenHelper"), helper)
        && let Some(registry) = rtok_helper_registry(&setting.value)
    {
        let found = rtok.for_url(&registry).and_then(|found| {
            found.ok_or_else(|| CredentialError::NotInKeyring {
                message: format!(
                    "`{}` ({}) runs `rtok token-helper`, and rtok has no credential for {}",
                    setting.key,
                    setting.origin.place(),
                    crate::display::display_url(&registry)
                ),
                hint: format!("log in for pnpm: `rtok login --storage keyring --for pnpm --registry {registry}`"),
            })
        });
        let auth = found.as_ref().map_or(AuthKind::Token, |f| f.kind);
        return Some(LayerCredential {
            auth,
            origin: setting.origin.clone(),
            found,
        });
    }
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

pub(super) fn credential(
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

pub(super) fn unset(key: &str, var: &str, origin: &Origin) -> CredentialError {
    CredentialError::UnsetVariable {
        key: key.to_string(),
        var: var.to_string(),
        origin: origin.clone(),
    }
}

/// `Basic` from base64 `user:password` (the user name when it decodes).
pub(super) fn basic(encoded: String) -> Credential {
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
pub(super) struct PnpmExpanded {
    pub(super) value: String,
    pub(super) names: Vec<String>,
    pub(super) unset: Vec<String>,
}

/// pnpm's `${VAR}`, `${VAR-default}` (when unset) and `${VAR:-default}`
/// (when unset or empty); an unset `${VAR}` becomes `""`; an odd number of
/// backslashes before `$` keeps the text (one backslash dropped).
pub(super) fn pnpm_expand(text: &str, env: &HashMap<String, String>) -> PnpmExpanded {
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
pub(super) fn pnpm_project_root(cwd: &Path) -> PathBuf {
    cwd.ancestors()
        .find(|dir| dir.join("pnpm-workspace.yaml").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| crate::locate::project_prefix(cwd))
}

/// pnpm 11's user file: `pnpm_config_npmrc_auth_file`,
/// `pnpm_config_userconfig`, `npmrcAuthFile` in the global `config.yaml`,
/// `npm_config_userconfig` (names matched case-insensitively), else
/// `~/.npmrc`.
pub(super) fn pnpm_user_file(
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
