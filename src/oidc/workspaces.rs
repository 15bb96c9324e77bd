//! Which packages a folder publishes: the `package.json` name, and the
//! workspace packages of `package.json` `workspaces` (npm, yarn) and
//! `pnpm-workspace.yaml` `packages:` (pnpm), found by their glob patterns.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use anyhow::Result;
use glob::{MatchOptions, Pattern};
use serde_json::Value;

use crate::failure::Failure;

/// A workspace package found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    /// Its folder, relative to the workspace root, `/`-separated.
    pub dir: String,
    /// Its `name`, if the manifest has one.
    pub name: Option<String>,
    /// `"private": true`: never published.
    pub private: bool,
}

/// The `name` of `dir/package.json`, or a failure naming what is missing.
pub(crate) fn package_name(dir: &Path) -> Result<String> {
    let file = dir.join("package.json");
    if !file.is_file() {
        return Err(Failure::new(format!(
            "no package to exchange for: there is no package.json in {}",
            dir.display()
        ))
        .hint("pass the package's name with `--package NAME`")
        .into());
    }
    let manifest = read_manifest(&file)?;
    match manifest.get("name").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => Ok(name.to_string()),
        _ => Err(Failure::new(format!("{} has no `name`", file.display()))
            .hint("pass the package's name with `--package NAME`")
            .into()),
    }
}

/// The workspace packages declared in `root`: `package.json` `workspaces`
/// (a list of patterns, or `{"packages": [...]}`) and `pnpm-workspace.yaml`
/// `packages:`, both when both exist. Patterns starting with `!` exclude;
/// `node_modules` is never searched. Sorted by folder.
pub(crate) fn discover(root: &Path) -> Result<Vec<Member>> {
    let mut patterns = Vec::new();
    let manifest_file = root.join("package.json");
    let mut declared = false;
    if manifest_file.is_file() {
        let manifest = read_manifest(&manifest_file)?;
        if let Some(workspaces) = manifest.get("workspaces") {
            declared = true;
            patterns.extend(json_patterns(workspaces).ok_or_else(|| {
                Failure::new(format!(
                    "{}: `workspaces` is neither a list of folder patterns nor an object with `packages`",
                    manifest_file.display()
                ))
            })?);
        }
    }
    let pnpm_file = root.join("pnpm-workspace.yaml");
    if pnpm_file.is_file() {
        declared = true;
        patterns.extend(pnpm_patterns(&pnpm_file)?);
    }
    if !declared {
        return Err(Failure::new(format!(
            "no workspaces in {}: neither package.json `workspaces` nor pnpm-workspace.yaml",
            root.display()
        ))
        .hint("run from the workspace root, or name the packages with `--package NAME`")
        .into());
    }
    expand(root, &patterns)
}

/// The names `root/<member.dir>/package.json` depends on (`dependencies`,
/// `devDependencies`, `peerDependencies`, `optionalDependencies`), for
/// ordering a workspace's packages; unreadable manifests have none.
pub(crate) fn dependencies(root: &Path, member: &Member) -> Vec<String> {
    let file = root.join(&member.dir).join("package.json");
    let Ok(manifest) = read_manifest(&file) else {
        return Vec::new();
    };
    let mut names: Vec<String> = [
        "dependencies",
        "devDependencies",
        "peerDependencies",
        "optionalDependencies",
    ]
    .iter()
    .filter_map(|field| manifest.get(*field).and_then(Value::as_object))
    .flat_map(|deps| deps.keys().cloned())
    .collect();
    names.sort();
    names.dedup();
    names
}

fn read_manifest(file: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(file)
        .map_err(|err| Failure::new(format!("could not read {}: {err}", file.display())))?;
    serde_json::from_str(&text)
        .map_err(|err| Failure::new(format!("{} is not valid JSON: {err}", file.display())).into())
}

/// `["a/*", ...]` or `{"packages": ["a/*", ...]}` (yarn's form).
fn json_patterns(workspaces: &Value) -> Option<Vec<String>> {
    let list = match workspaces {
        Value::Array(list) => list,
        Value::Object(object) => match object.get("packages") {
            Some(Value::Array(list)) => list,
            None => return Some(Vec::new()),
            Some(_) => return None,
        },
        _ => return None,
    };
    list.iter()
        .map(|p| p.as_str().map(str::to_string))
        .collect()
}

/// `packages:` of a pnpm-workspace.yaml (none listed is none found).
fn pnpm_patterns(file: &Path) -> Result<Vec<String>> {
    use yaml_rust2::{Yaml, YamlLoader};
    let text = std::fs::read_to_string(file)
        .map_err(|err| Failure::new(format!("could not read {}: {err}", file.display())))?;
    let documents = YamlLoader::load_from_str(&text)
        .map_err(|err| Failure::new(format!("{} is not valid YAML: {err}", file.display())))?;
    let not_a_list = || {
        Failure::new(format!(
            "{}: `packages` is not a list of folder patterns",
            file.display()
        ))
    };
    match documents.first() {
        // An empty file declares nothing.
        None | Some(Yaml::Null) => Ok(Vec::new()),
        Some(document @ Yaml::Hash(_)) => match &document["packages"] {
            Yaml::BadValue | Yaml::Null => Ok(Vec::new()),
            Yaml::Array(items) => items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| not_a_list().into()),
            _ => Err(not_a_list().into()),
        },
        Some(_) => Err(Failure::new(format!(
            "{} is not a YAML mapping (expected `packages:`)",
            file.display()
        ))
        .into()),
    }
}

/// The folders under `root` that the patterns match and that hold a
/// `package.json`, as npm's map-workspaces and pnpm find them.
fn expand(root: &Path, patterns: &[String]) -> Result<Vec<Member>> {
    let options = MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut includes = Vec::new();
    let mut excludes = Vec::new();
    for raw in patterns {
        let (negated, pattern) = match raw.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, raw.as_str()),
        };
        let pattern = normalise(pattern);
        if pattern.is_empty() || pattern.split('/').any(|part| part == "..") {
            return Err(Failure::new(format!(
                "the workspace pattern `{raw}` does not name folders inside the workspace"
            ))
            .into());
        }
        let compiled = Pattern::new(&pattern).map_err(|err| {
            Failure::new(format!(
                "the workspace pattern `{raw}` is not a valid glob: {err}"
            ))
        })?;
        if negated {
            excludes.push(compiled);
        } else {
            includes.push(pattern);
        }
    }

    let mut found: BTreeMap<String, PathBuf> = BTreeMap::new();
    let escaped_root = Pattern::escape(&root.to_string_lossy());
    for pattern in &includes {
        let full = format!("{escaped_root}/{pattern}/package.json");
        let paths = glob::glob_with(&full, options).map_err(|err| {
            Failure::new(format!(
                "the workspace pattern `{pattern}` is not a valid glob: {err}"
            ))
        })?;
        // Unreadable folders are skipped, as npm and pnpm skip them.
        for manifest in paths.flatten() {
            let Some(dir) = manifest.parent() else {
                continue;
            };
            let Ok(relative) = dir.strip_prefix(root) else {
                continue;
            };
            if relative
                .components()
                .any(|c| c == Component::Normal("node_modules".as_ref()))
            {
                continue;
            }
            let relative = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            if relative.is_empty() || excludes.iter().any(|p| p.matches_with(&relative, options)) {
                continue;
            }
            found.insert(relative, manifest);
        }
    }

    found
        .into_iter()
        .map(|(dir, manifest_file)| {
            let manifest = read_manifest(&manifest_file)?;
            Ok(Member {
                dir,
                name: manifest
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string),
                private: manifest.get("private").and_then(Value::as_bool) == Some(true),
            })
        })
        .collect()
}

/// `./packages/*/` → `packages/*`.
fn normalise(pattern: &str) -> String {
    let mut pattern = pattern.trim();
    while let Some(rest) = pattern.strip_prefix("./") {
        pattern = rest;
    }
    pattern.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(file, text).expect("write");
    }

    fn names(members: &[Member]) -> Vec<(&str, Option<&str>, bool)> {
        members
            .iter()
            .map(|m| (m.dir.as_str(), m.name.as_deref(), m.private))
            .collect()
    }

    #[test]
    fn npm_workspaces_with_globs_and_exclusions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write(
            root,
            "package.json",
            r#"{"private": true, "workspaces": ["./packages/*", "tools/cli/", "!packages/skip"]}"#,
        );
        write(root, "packages/a/package.json", r#"{"name": "@acme/a"}"#);
        write(
            root,
            "packages/b/package.json",
            r#"{"name": "b", "private": true}"#,
        );
        write(root, "packages/skip/package.json", r#"{"name": "skip"}"#);
        write(
            root,
            "packages/.hidden/package.json",
            r#"{"name": "hidden"}"#,
        );
        write(root, "packages/no-manifest/README", "");
        write(
            root,
            "packages/a/node_modules/x/package.json",
            r#"{"name": "x"}"#,
        );
        write(root, "tools/cli/package.json", r#"{"version": "1.0.0"}"#);
        assert_eq!(
            names(&discover(root).expect("discover")),
            vec![
                ("packages/a", Some("@acme/a"), false),
                ("packages/b", Some("b"), true),
                ("tools/cli", None, false),
            ]
        );
    }

    #[test]
    fn yarn_object_form_and_pnpm_yaml_together() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write(
            root,
            "package.json",
            r#"{"workspaces": {"packages": ["libs/*"], "nohoist": []}}"#,
        );
        write(
            root,
            "pnpm-workspace.yaml",
            "# pnpm\npackages:\n  - 'apps/**'\n  - \"!apps/internal/**\"\n  - libs/*\n",
        );
        write(root, "libs/one/package.json", r#"{"name": "one"}"#);
        write(root, "apps/web/package.json", r#"{"name": "web"}"#);
        write(
            root,
            "apps/web/nested/package.json",
            r#"{"name": "nested"}"#,
        );
        write(
            root,
            "apps/internal/x/package.json",
            r#"{"name": "internal"}"#,
        );
        assert_eq!(
            names(&discover(root).expect("discover")),
            vec![
                ("apps/web", Some("web"), false),
                ("apps/web/nested", Some("nested"), false),
                ("libs/one", Some("one"), false),
            ]
        );
    }

    #[test]
    fn bad_declarations_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let err = discover(root).expect_err("none").to_string();
        assert!(err.contains("no workspaces"), "{err}");

        write(root, "pnpm-workspace.yaml", "packages:\n  - [unclosed\n");
        let err = discover(root).expect_err("bad yaml").to_string();
        assert!(
            err.contains("pnpm-workspace.yaml is not valid YAML"),
            "{err}"
        );
        assert!(!err.contains('\n'), "one line: {err}");

        write(root, "pnpm-workspace.yaml", "packages: apps/*\n");
        let err = discover(root).expect_err("not a list").to_string();
        assert!(err.contains("`packages` is not a list"), "{err}");

        write(root, "pnpm-workspace.yaml", "packages: ['../outside']\n");
        let err = discover(root).expect_err("outside").to_string();
        assert!(err.contains("inside the workspace"), "{err}");

        std::fs::remove_file(root.join("pnpm-workspace.yaml")).expect("rm");
        write(root, "package.json", r#"{"workspaces": "packages/*"}"#);
        let err = discover(root).expect_err("string").to_string();
        assert!(err.contains("`workspaces` is neither"), "{err}");

        write(root, "package.json", "{not json");
        let err = discover(root).expect_err("json").to_string();
        assert!(err.contains("package.json is not valid JSON"), "{err}");
    }

    #[test]
    fn the_package_name_comes_from_package_json() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = package_name(dir.path()).expect_err("none").to_string();
        assert!(err.contains("there is no package.json"), "{err}");
        write(dir.path(), "package.json", r#"{"version": "1.0.0"}"#);
        assert!(
            package_name(dir.path())
                .expect_err("no name")
                .to_string()
                .contains("has no `name`")
        );
        write(dir.path(), "package.json", r#"{"name": "@acme/tool"}"#);
        assert_eq!(package_name(dir.path()).expect("name"), "@acme/tool");
    }
}
