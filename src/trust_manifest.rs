//! `trust.toml`: the trusted-publishing configuration a monorepo wants,
//! read by `rtok trust sync`. A format module: text in, settings out, each
//! with its line, and a one-line error naming the file and line.
//!
//! ```toml
//! [defaults]                 # applies to every package below
//! github = "acme/tools"      # or gitlab = "group/project"
//! workflow = "release.yml"   # (gitlab: file = ".gitlab-ci.yml")
//! environment = "npm"        # optional
//! allow = ["stage-publish"]  # "publish", "stage-publish"
//!
//! [package."@acme/cli"]      # a name or a glob over the workspace packages
//! allow = ["publish", "stage-publish"]
//! ```

use std::path::Path;

use glob::Pattern;
use toml_edit::{Document, Item, Table, Value};

use crate::failure::Failure;

/// The settings of one table (`[defaults]` or a `[package."…"]`); absent
/// keys inherit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Settings {
    pub github: Option<String>,
    pub gitlab: Option<String>,
    pub workflow: Option<String>,
    pub file: Option<String>,
    pub environment: Option<String>,
    /// `publish`, `stage-publish`, checked.
    pub allow: Option<Vec<String>>,
    /// Where this table starts (1-based).
    pub line: usize,
}

impl Settings {
    /// `self` with `over`'s keys on top.
    pub(crate) fn overlaid(&self, over: &Settings) -> Settings {
        // A provider in `over` replaces the other provider too.
        let provider_changes = over.github.is_some() || over.gitlab.is_some();
        let pick = |mine: &Option<String>, theirs: &Option<String>, keep: bool| {
            theirs
                .clone()
                .or_else(|| keep.then(|| mine.clone()).flatten())
        };
        Settings {
            github: pick(&self.github, &over.github, !provider_changes),
            gitlab: pick(&self.gitlab, &over.gitlab, !provider_changes),
            workflow: pick(&self.workflow, &over.workflow, true),
            file: pick(&self.file, &over.file, true),
            environment: pick(&self.environment, &over.environment, true),
            allow: over.allow.clone().or_else(|| self.allow.clone()),
            line: over.line.max(self.line),
        }
    }
}

/// One `[package."…"]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PackageTable {
    /// A package name, or a glob (`@acme/*`) over the workspace packages.
    pub pattern: String,
    pub settings: Settings,
}

impl PackageTable {
    pub(crate) fn is_glob(&self) -> bool {
        self.pattern.contains(['*', '?', '['])
    }

    pub(crate) fn matches(&self, package: &str) -> bool {
        if self.is_glob() {
            Pattern::new(&self.pattern).is_ok_and(|p| p.matches(package))
        } else {
            self.pattern == package
        }
    }
}

/// A whole manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub defaults: Settings,
    /// In file order.
    pub packages: Vec<PackageTable>,
}

impl Manifest {
    /// What applies to `package`: the defaults, then every matching
    /// `[package]` table in file order.
    pub(crate) fn settings_for(&self, package: &str) -> Settings {
        self.packages
            .iter()
            .filter(|table| table.matches(package))
            .fold(self.defaults.clone(), |acc, table| {
                acc.overlaid(&table.settings)
            })
    }
}

const KEYS: [&str; 6] = [
    "github",
    "gitlab",
    "workflow",
    "file",
    "environment",
    "allow",
];

/// Reads and checks `file`.
pub(crate) fn read(file: &Path) -> Result<Manifest, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|err| Failure::new(format!("could not read {}: {err}", file.display())))?;
    parse(&text).map_err(|(line, message)| {
        Failure::new(format!("{}:{line}: {message}; nothing was sent", file.display()))
            .hint("the format is in `rtok trust sync --help` and the README (\"Releasing with stage-only tokens\")")
    })
}

/// The manifest in `text`, or `(line, what is wrong)`.
pub(crate) fn parse(text: &str) -> Result<Manifest, (usize, String)> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let document = Document::parse(text).map_err(|err| {
        let line = err.span().map_or(1, |span| line_of(span.start));
        let message = err
            .message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .to_string();
        (line, format!("not valid TOML: {message}"))
    })?;
    let mut manifest = Manifest::default();
    for (key, item) in document.as_table().iter() {
        let line = item_line(document.as_table(), key, item, &line_of);
        match key {
            "defaults" => {
                let table = as_table(item, key, line)?;
                manifest.defaults = settings(table, line, &line_of)?;
            }
            "package" => {
                let table = as_table(item, key, line)?;
                for (pattern, item) in table.iter() {
                    let line = item_line(table, pattern, item, &line_of);
                    let inner = as_table(item, &format!("package.\"{pattern}\""), line)?;
                    if pattern.is_empty() {
                        return Err((
                            line,
                            "a `[package.\"…\"]` table needs a package name".into(),
                        ));
                    }
                    if pattern.contains(['*', '?', '[']) && Pattern::new(pattern).is_err() {
                        return Err((line, format!("`{pattern}` is not a valid glob")));
                    }
                    manifest.packages.push(PackageTable {
                        pattern: pattern.to_string(),
                        settings: settings(inner, line, &line_of)?,
                    });
                }
            }
            other => {
                return Err((
                    line,
                    format!(
                        "unknown table `{other}` (expected `[defaults]` and `[package.\"NAME\"]`)"
                    ),
                ));
            }
        }
    }
    Ok(manifest)
}

fn item_line(parent: &Table, key: &str, item: &Item, line_of: &dyn Fn(usize) -> usize) -> usize {
    parent
        .key(key)
        .and_then(|k| k.span())
        .or_else(|| item.span())
        .map_or(1, |span| line_of(span.start))
}

fn as_table<'a>(item: &'a Item, name: &str, line: usize) -> Result<&'a Table, (usize, String)> {
    item.as_table()
        .ok_or_else(|| (line, format!("`{name}` must be a table (`[{name}]`)")))
}

fn settings(
    table: &Table,
    line: usize,
    line_of: &dyn Fn(usize) -> usize,
) -> Result<Settings, (usize, String)> {
    let mut out = Settings {
        line,
        ..Settings::default()
    };
    for (key, item) in table.iter() {
        let at = item_line(table, key, item, line_of);
        let text = || -> Result<String, (usize, String)> {
            match item.as_str() {
                Some(text) if !text.trim().is_empty() => Ok(text.trim().to_string()),
                _ => Err((at, format!("`{key}` must be a non-empty string"))),
            }
        };
        match key {
            "github" => out.github = Some(text()?),
            "gitlab" => out.gitlab = Some(text()?),
            "workflow" => out.workflow = Some(text()?),
            "file" => out.file = Some(text()?),
            "environment" => out.environment = Some(text()?),
            "allow" => {
                let Some(Value::Array(list)) = item.as_value() else {
                    return Err((at, "`allow` must be a list like [\"stage-publish\"]".into()));
                };
                let mut allow = Vec::new();
                for value in list.iter() {
                    match value.as_str() {
                        Some(action @ ("publish" | "stage-publish")) => {
                            allow.push(action.to_string())
                        }
                        _ => {
                            return Err((
                                at,
                                format!(
                                    "`allow` holds {}; each must be \"publish\" or \"stage-publish\"",
                                    value.to_string().trim()
                                ),
                            ));
                        }
                    }
                }
                if allow.is_empty() {
                    return Err((
                        at,
                        "`allow` is empty; name \"publish\" and/or \"stage-publish\"".into(),
                    ));
                }
                out.allow = Some(allow);
            }
            other => {
                return Err((
                    at,
                    format!(
                        "unknown key `{other}` (expected one of {})",
                        KEYS.join(", ")
                    ),
                ));
            }
        }
    }
    if out.github.is_some() && out.gitlab.is_some() {
        return Err((
            line,
            "a table names both `github` and `gitlab`; a package holds one configuration".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[defaults]                 # applies to every package below
github = "acme/tools"
workflow = "release.yml"
environment = "npm"
allow = ["stage-publish"]

[package."@acme/cli"]
allow = ["publish", "stage-publish"]

[package."@acme/legacy-*"]
gitlab = "acme/legacy"
file = ".gitlab-ci.yml"
"#;

    #[test]
    fn the_documented_example_reads() {
        let manifest = parse(EXAMPLE).expect("manifest");
        assert_eq!(manifest.defaults.github.as_deref(), Some("acme/tools"));
        assert_eq!(manifest.defaults.line, 2);
        let cli = manifest.settings_for("@acme/cli");
        assert_eq!(
            cli.allow,
            Some(vec!["publish".into(), "stage-publish".into()])
        );
        assert_eq!(cli.workflow.as_deref(), Some("release.yml"));
        let core = manifest.settings_for("@acme/core");
        assert_eq!(core.allow, Some(vec!["stage-publish".into()]));
        let legacy = manifest.settings_for("@acme/legacy-api");
        assert_eq!(legacy.github, None);
        assert_eq!(legacy.gitlab.as_deref(), Some("acme/legacy"));
        assert!(manifest.packages[1].is_glob());
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                "[defaults]\ngithub = \"a/b\"\nallow = [\"deploy\"]\n",
                3,
                "\"publish\" or \"stage-publish\"",
            ),
            ("[defaults]\nrepo = \"a/b\"\n", 2, "unknown key `repo`"),
            (
                "[defaults]\ngithub = \"a/b\"\n\n[package.\"x\"\nallow = []\n",
                4,
                "not valid TOML",
            ),
            ("[other]\n", 1, "unknown table `other`"),
            ("[defaults]\nworkflow = 3\n", 2, "non-empty string"),
            (
                "[package.\"x\"]\ngithub = \"a/b\"\ngitlab = \"c/d\"\n",
                1,
                "both `github` and `gitlab`",
            ),
        ];
        for (text, line, needle) in cases {
            let (at, message) = parse(text).expect_err(text);
            assert_eq!(at, line, "{text}: {message}");
            assert!(message.contains(needle), "{text}: {message}");
        }
    }
}
