//! Where a client would send an environment variable's value: every line of
//! the files npm, pnpm and yarn read (each `.npmrc` layer, and the
//! `.yarnrc.yml` files of the folder and its parents and of the home folder)
//! that refers to `${NAME}`, with the registry the line gives it to. A line
//! that refers to it anywhere but as a registry's credential (`registry=
//! ${NAME}`, a URL, an unknown key) gives it to no registry rtok can name:
//! such a line is as unsafe as one for another host.

use std::path::{Path, PathBuf};

use url::Url;
use yaml_rust2::{Yaml, YamlLoader};

use super::{Config, LayerKind};
use crate::npmrc::nerf_dart;

/// yarn's registry when `npmRegistryServer` is not set.
const YARN_DEFAULT_REGISTRY: &str = "https://registry.yarnpkg.com";

/// One line that refers to the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub file: PathBuf,
    pub line: usize,
    /// The nerf dart of the registry the line gives the value to; `None`
    /// when it is not a registry's credential.
    pub registry: Option<String>,
}

/// Every line of the clients' files that refers to `${name}`, for a command
/// run in `cwd`.
pub(crate) fn find(config: &Config, cwd: &Path, name: &str) -> Vec<Reference> {
    let mut found = Vec::new();
    for kind in [LayerKind::Project, LayerKind::User, LayerKind::Global] {
        let Some(layer) = config.layer(kind) else {
            continue;
        };
        for setting in layer.settings.iter() {
            if !setting.variables.iter().any(|v| v == name) {
                continue;
            }
            let super::Origin::File { path, line, .. } = &setting.origin else {
                continue;
            };
            let registry = setting
                .key
                .rsplit_once(':')
                .filter(|(nerf, field)| {
                    nerf.starts_with("//")
                        && ["_authToken", "_auth", "_password", "username"].contains(field)
                })
                .map(|(nerf, _)| nerf.to_string());
            found.push(Reference {
                file: path.clone(),
                line: *line,
                registry,
            });
        }
    }
    let mut yarnrcs: Vec<PathBuf> = cwd.ancestors().map(|d| d.join(".yarnrc.yml")).collect();
    if let Some(home) = crate::locate::home_dir(config.env()) {
        yarnrcs.push(home.join(".yarnrc.yml"));
    }
    yarnrcs.dedup();
    for file in yarnrcs {
        if let Ok(text) = std::fs::read_to_string(&file) {
            found.extend(in_yarnrc(&file, &text, name));
        }
    }
    found
}

/// Whether `text` refers to `${name}` (`${NAME}`, `${NAME:-x}`, `${NAME-x}`).
fn refers(text: &str, name: &str) -> bool {
    let needle = format!("${{{name}");
    text.match_indices(&needle).any(|(at, _)| {
        matches!(
            text[at + needle.len()..].chars().next(),
            Some('}' | ':' | '-')
        )
    })
}

/// The references in one `.yarnrc.yml`: `npmAuthToken`/`npmAuthIdent` at
/// the top (for `npmRegistryServer`), under `npmScopes.<scope>` (for its
/// `npmRegistryServer`, else the top one) and under `npmRegistries.<url>`
/// give it to that registry; any other gives it to none. A file that is not
/// YAML but refers to it is one reference to none.
fn in_yarnrc(file: &Path, text: &str, name: &str) -> Vec<Reference> {
    if !refers(text, name) {
        return Vec::new();
    }
    let line_of = |scalar: &str| {
        text.lines()
            .position(|l| l.contains(scalar) && refers(l, name))
            .or_else(|| text.lines().position(|l| refers(l, name)))
            .map_or(1, |index| index + 1)
    };
    let reference = |scalar: &str, registry: Option<String>| Reference {
        file: file.to_path_buf(),
        line: line_of(scalar),
        registry,
    };
    let document = match YamlLoader::load_from_str(text) {
        Ok(documents) => documents.into_iter().next().unwrap_or(Yaml::Null),
        Err(_) => return vec![reference("", None)],
    };
    let top_server = document["npmRegistryServer"]
        .as_str()
        .unwrap_or(YARN_DEFAULT_REGISTRY)
        .to_string();
    let mut found = Vec::new();
    let mut walk = Vec::new();
    strings(&document, &mut Vec::new(), &mut walk);
    for (path, scalar) in walk {
        if !refers(&scalar, name) {
            continue;
        }
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let server = match path.as_slice() {
            [field] if is_auth(field) => Some(top_server.clone()),
            ["npmScopes", scope, field] if is_auth(field) => Some(
                document["npmScopes"][*scope]["npmRegistryServer"]
                    .as_str()
                    .unwrap_or(&top_server)
                    .to_string(),
            ),
            ["npmRegistries", url, field] if is_auth(field) && !refers(url, name) => {
                Some(url.to_string())
            }
            _ => None,
        };
        found.push(reference(&scalar, server.and_then(|s| yarn_nerf(&s))));
    }
    found
}

fn is_auth(field: &str) -> bool {
    matches!(field, "npmAuthToken" | "npmAuthIdent")
}

/// Every string of a YAML tree (keys too, as their own entries) with its
/// path of keys.
fn strings(node: &Yaml, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    match node {
        Yaml::String(text) | Yaml::Real(text) => out.push((path.clone(), text.clone())),
        Yaml::Hash(map) => {
            for (key, value) in map {
                let key_text = key.as_str().map(str::to_string).unwrap_or_default();
                // A key that refers to the variable is a reference to no registry.
                out.push((vec![String::from("(key)")], key_text.clone()));
                path.push(key_text);
                strings(value, path, out);
                path.pop();
            }
        }
        Yaml::Array(items) => {
            for item in items {
                path.push(String::from("[]"));
                strings(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// yarn's registry (`https://host/path`, or `//host/path`) as a nerf dart.
fn yarn_nerf(server: &str) -> Option<String> {
    let full = if server.starts_with("//") {
        format!("https:{server}")
    } else {
        server.to_string()
    };
    let mut url = Url::parse(&full).ok()?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Some(nerf_dart(&url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registries(text: &str) -> Vec<Option<String>> {
        in_yarnrc(Path::new(".yarnrc.yml"), text, "NODE_AUTH_TOKEN")
            .into_iter()
            .map(|r| r.registry)
            .collect()
    }

    #[test]
    fn yarn_references_name_their_registry() {
        assert_eq!(
            registries(
                "npmRegistries:\n  \"//npm.pkg.github.com\":\n    npmAuthToken: \"${NODE_AUTH_TOKEN}\"\n"
            ),
            [Some("//npm.pkg.github.com/".to_string())]
        );
        assert_eq!(
            registries(
                "npmRegistryServer: https://a.example/npm\nnpmAuthToken: ${NODE_AUTH_TOKEN}\nnpmScopes:\n  acme:\n    npmRegistryServer: http://127.0.0.1:8/\n    npmAuthToken: ${NODE_AUTH_TOKEN:-x}\n"
            ),
            [
                Some("//a.example/npm/".to_string()),
                Some("//127.0.0.1:8/".to_string())
            ]
        );
        assert_eq!(
            registries("npmAuthToken: ${NODE_AUTH_TOKEN}\n"),
            [Some("//registry.yarnpkg.com/".to_string())]
        );
    }

    #[test]
    fn other_yarn_references_name_no_registry() {
        assert_eq!(
            registries("npmRegistryServer: \"https://x.example/${NODE_AUTH_TOKEN}\"\n"),
            [None]
        );
        assert_eq!(registries("npmAuthToken: [${NODE_AUTH_TOKEN}\n"), [None]);
        assert!(registries("npmAuthToken: ${NODE_AUTH_TOKENS}\n").is_empty());
        let found = in_yarnrc(
            Path::new("y"),
            "a: 1\nunknown: ${NODE_AUTH_TOKEN}\n",
            "NODE_AUTH_TOKEN",
        );
        assert_eq!(found[0].line, 2);
    }
}
