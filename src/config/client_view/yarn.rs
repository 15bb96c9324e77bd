//! yarn berry's side of the client view: which `.yarnrc.yml` files it
//! reads from a folder, its environment variables, and what a token or
//! ident setting sends (resolved as yarn does).

use super::*;
/// Every `.yarnrc.yml` from `cwd` up to `/`, then the home one.
pub(super) fn read_yarnrcs(
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
pub(super) fn yarn_env<'a>(
    env: &'a HashMap<String, String>,
    name: &str,
) -> Option<(&'a str, &'a str)> {
    let mut found: Vec<(&String, &String)> = env
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .collect();
    found.sort();
    found.first().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// `text` written so that yarn's interpolation gives it back as it is.
pub(super) fn escape_for_yarn(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '$' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(super) fn env_name(field: Field) -> &'static str {
    match field {
        Field::AuthIdent => "YARN_NPM_AUTH_IDENT",
        _ => "YARN_NPM_AUTH_TOKEN",
    }
}

pub(super) fn first_variable(value: &yarnrc::Value) -> Option<String> {
    match value {
        yarnrc::Value::Reference(variables) => variables.first().map(|v| v.name.clone()),
        _ => None,
    }
}

/// What yarn makes of a token or ident setting: `None` when it resolves
/// to nothing (yarn then sends nothing from it).
pub(super) fn yarn_found(
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
pub(super) fn yarn_registry_url(key: &str) -> Option<Url> {
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
pub(super) fn yarn_server(
    yarnrc: &Yarnrc,
    scope: Option<&str>,
    env: &HashMap<String, String>,
) -> Option<Url> {
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
