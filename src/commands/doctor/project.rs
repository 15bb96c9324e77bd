//! The package of the current folder, as `doctor` needs it: the `name` (and
//! so the scope) and `private` of the nearest `package.json`, and which
//! package managers the folder uses (`packageManager`, lockfiles, a
//! `.yarnrc.yml`).

use std::path::Path;

use serde_json::Value;

use crate::config::client_view::Flavor;

/// What `package.json` says about publishing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Package {
    /// `name`, when it is a non-empty string.
    pub name: Option<String>,
    /// `"private": true`: npm refuses to publish it.
    pub private: bool,
    /// `packageManager` (`pnpm@11.2.0+sha512…`), when it is a string.
    pub package_manager: Option<String>,
}

/// A client this folder uses, and what says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InUse {
    pub flavor: Flavor,
    pub because: String,
}

/// The clients in use in `root`: npm always; pnpm with a `pnpm-lock.yaml`
/// or `packageManager: pnpm@…` (pnpm 10 and older when its major version
/// says so); yarn with a `yarn.lock`, a `.yarnrc.yml` or `packageManager:
/// yarn@…`, yarn 1 when the version is 1 or the lockfile has no
/// `__metadata` (berry's lockfiles start with it), else berry.
pub(super) fn clients_in_use(root: &Path, package: Option<&Package>) -> Vec<InUse> {
    let manager = package
        .and_then(|p| p.package_manager.as_deref())
        .and_then(|spec| spec.split_once('@'))
        .map(|(name, version)| {
            let major = version
                .split(['.', '+', '-'])
                .next()
                .and_then(|m| m.parse::<u32>().ok());
            (name.to_string(), major)
        });
    let named = |wanted: &str| {
        manager
            .as_ref()
            .filter(|(name, _)| name == wanted)
            .map(|(_, major)| *major)
    };
    let mut clients = vec![InUse {
        flavor: Flavor::Npm,
        because: "always".to_string(),
    }];
    let lockfile = root.join("pnpm-lock.yaml").is_file();
    if let Some(major) = named("pnpm") {
        clients.push(InUse {
            flavor: match major {
                Some(major) if major <= 10 => Flavor::Pnpm10,
                _ => Flavor::Pnpm,
            },
            because: "packageManager in package.json".to_string(),
        });
    } else if lockfile {
        clients.push(InUse {
            flavor: Flavor::Pnpm,
            because: "pnpm-lock.yaml".to_string(),
        });
    }
    let yarn_lock = root.join("yarn.lock");
    let yarnrc = root.join(".yarnrc.yml").is_file();
    if let Some(major) = named("yarn") {
        clients.push(InUse {
            flavor: match major {
                Some(1) => Flavor::YarnClassic,
                _ => Flavor::YarnBerry,
            },
            because: "packageManager in package.json".to_string(),
        });
    } else if yarn_lock.is_file() {
        let berry = std::fs::read(&yarn_lock)
            .map(|bytes| {
                let head = &bytes[..bytes.len().min(4096)];
                String::from_utf8_lossy(head).contains("__metadata")
            })
            .unwrap_or(false);
        clients.push(InUse {
            flavor: if berry || yarnrc {
                Flavor::YarnBerry
            } else {
                Flavor::YarnClassic
            },
            because: "yarn.lock".to_string(),
        });
    } else if yarnrc {
        clients.push(InUse {
            flavor: Flavor::YarnBerry,
            because: ".yarnrc.yml".to_string(),
        });
    }
    clients
}

/// Reads `<root>/package.json`: `None` when there is none; an error (one
/// line, naming the file) when it cannot be read or is not a JSON object.
pub(super) fn read(root: &Path) -> Result<Option<Package>, String> {
    let path = root.join("package.json");
    let text = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(format!("could not read {}: {err}", path.display())),
    };
    let manifest: Value = serde_json::from_slice(&text)
        .map_err(|err| format!("{} is not JSON ({err})", path.display()))?;
    let Some(object) = manifest.as_object() else {
        return Err(format!("{} is not a JSON object", path.display()));
    };
    Ok(Some(Package {
        name: object
            .get("name")
            .and_then(Value::as_str)
            .filter(|name| !name.trim().is_empty())
            .map(str::to_string),
        private: object.get("private").and_then(Value::as_bool) == Some(true),
        package_manager: object
            .get("packageManager")
            .and_then(Value::as_str)
            .map(str::to_string),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(text: &str) -> Result<Option<Package>, String> {
        let dir = tempfile::tempdir().expect("temp");
        std::fs::write(dir.path().join("package.json"), text).expect("write");
        read(dir.path())
    }

    #[test]
    fn names_scopes_and_private() {
        assert_eq!(
            with(r#"{"name": "@acme/tool", "private": true}"#),
            Ok(Some(Package {
                name: Some("@acme/tool".into()),
                private: true,
                package_manager: None,
            }))
        );
        assert_eq!(
            with(r#"{"version": "1.0.0", "private": "yes"}"#),
            Ok(Some(Package {
                name: None,
                private: false,
                package_manager: None,
            }))
        );
        assert_eq!(
            with(r#"{"name": 5}"#).expect("ok").expect("some").name,
            None
        );
    }

    #[test]
    fn clients_in_use_come_from_package_manager_and_lockfiles() {
        let in_use = |files: &[(&str, &str)], manifest: &str| {
            let dir = tempfile::tempdir().expect("temp");
            std::fs::write(dir.path().join("package.json"), manifest).expect("write");
            for (name, text) in files {
                std::fs::write(dir.path().join(name), text).expect("write");
            }
            let package = read(dir.path()).expect("reads");
            clients_in_use(dir.path(), package.as_ref())
                .into_iter()
                .map(|c| c.flavor)
                .collect::<Vec<_>>()
        };
        use Flavor::*;
        assert_eq!(in_use(&[], "{}"), [Npm]);
        assert_eq!(in_use(&[("pnpm-lock.yaml", "")], "{}"), [Npm, Pnpm]);
        assert_eq!(
            in_use(&[], r#"{"packageManager": "pnpm@10.34.9+sha512.abc"}"#),
            [Npm, Pnpm10]
        );
        assert_eq!(
            in_use(&[], r#"{"packageManager": "pnpm@12.26.0"}"#),
            [Npm, Pnpm]
        );
        assert_eq!(
            in_use(&[("yarn.lock", "# yarn lockfile v1\n")], "{}"),
            [Npm, YarnClassic]
        );
        assert_eq!(
            in_use(&[("yarn.lock", "__metadata:\n  version: 8\n")], "{}"),
            [Npm, YarnBerry]
        );
        assert_eq!(in_use(&[(".yarnrc.yml", "")], "{}"), [Npm, YarnBerry]);
        assert_eq!(
            in_use(
                &[("yarn.lock", "__metadata:\n")],
                r#"{"packageManager": "yarn@1.22.22"}"#
            ),
            [Npm, YarnClassic]
        );
    }

    #[test]
    fn broken_manifests_are_one_line_errors() {
        let err = with("{ not json").expect_err("broken");
        assert!(err.contains("package.json is not JSON"), "{err}");
        assert!(!err.contains('\n'));
        assert!(
            with("[1, 2]")
                .expect_err("array")
                .contains("not a JSON object")
        );
        let none = tempfile::tempdir().expect("temp");
        assert_eq!(read(none.path()), Ok(None));
    }
}
