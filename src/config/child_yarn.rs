//! What `rtok exec` can hand yarn berry (4.x), which reads no `.npmrc` and
//! takes its credentials from the `.yarnrc.yml` files of the working folder,
//! its parents and the home folder, and from `YARN_*` variables
//! (clients-2026.md §1.6). Nothing is written to any file:
//!
//! - With no `npmRegistries` entry for the configured registry in any of
//!   those files, `YARN_NPM_AUTH_TOKEN` (the top-level `npmAuthToken`) is
//!   the one yarn sends, and `YARN_NPM_REGISTRY_SERVER` makes the
//!   configured registry yarn's own when no file names one (yarn's default
//!   is `https://registry.yarnpkg.com`). It is withheld when yarn's registry
//!   is another one, or when a scope that has no token of its own sends its
//!   packages to another registry: the top-level token would go there.
//! - An entry (for a registry or a scope, in any file) whose token is a
//!   `${VAR}` reference gets `VAR` set to rtok's credential for that
//!   registry, when every line of the clients' files that names `VAR`
//!   gives it to that registry (`references::find`).
//! - An entry yarn prefers that rtok cannot reach: a literal token other
//!   than rtok's, an `npmAuthIdent`, or an `npmRegistries` entry without a
//!   token. `YARN_*` variables cannot set yarn's maps, and replacing the
//!   file or `HOME` would change far more than the credential, so such a
//!   layout cannot work: one note per entry names its file and line.
//!
//! The layouts that cannot work, precisely (for `doctor` to explain; a
//! handed registry R with rtok's token T, files as yarn reads them):
//!
//! 1. the nearest file with an `npmRegistries` key naming R (with or
//!    without scheme and trailing slash) gives it `npmAuthToken` as a
//!    literal other than T: yarn sends that literal to R;
//! 2. that entry has `npmAuthIdent` and no `npmAuthToken`: yarn sends Basic;
//! 3. that entry has neither (only `npmAlwaysAuth`, say): yarn sends
//!    nothing to R, and the top-level token no longer applies;
//! 4. an `npmScopes.<s>` entry whose registry (its `npmRegistryServer`, else
//!    the nearest top-level one, else yarn's default) is R holds a literal
//!    token other than T or an ident: for `@s/…` packages yarn sends that;
//! 5. an entry whose token is `${VAR}` where another line of the clients'
//!    files gives `VAR` to another registry: `VAR` stays unset.
//!
//! And `YARN_NPM_AUTH_TOKEN` (with `YARN_NPM_REGISTRY_SERVER`) is withheld,
//! so yarn gets nothing for R from rtok, when yarn's registry
//! (`YARN_NPM_REGISTRY_SERVER` in rtok's environment, else the nearest
//! top-level `npmRegistryServer`) is not R, or when an `npmScopes.<s>` entry
//! sends its packages to another registry with no token or ident of its
//! own and no `npmRegistries` entry for that registry in any file.
//! [`plan`] returns exactly these as notes, so doctor can ask it.

use std::path::{Path, PathBuf};

use url::Url;

use super::Config;
use super::child_config::{Handed, HandedValue};
use crate::npmrc::{credential_prefixes, nerf_dart};
use crate::secret::Secret;
use crate::yarnrc::{Entry, Field, Place, Value, Yarnrc};

/// The variables `rtok exec` sets by its own rule for the configured
/// registry, whatever a `.yarnrc.yml` entry names.
const HOST_FREE: [&str; 2] = ["NODE_AUTH_TOKEN", "YARN_NPM_AUTH_TOKEN"];

/// yarn's registry when no file or variable names one.
const YARN_DEFAULT_REGISTRY: &str = "https://registry.yarnpkg.com";

/// What the child gets for yarn berry.
#[derive(Debug, Default)]
pub(crate) struct YarnPlan {
    /// Whether `YARN_NPM_AUTH_TOKEN` may carry the configured registry's
    /// token as far as yarn's registries go (`references` has its own say).
    pub top_level_token: bool,
    /// `YARN_NPM_REGISTRY_SERVER` for the child: the configured registry,
    /// when nothing names yarn's registry.
    pub registry_server: Option<String>,
    /// Why `top_level_token` is false.
    pub top_level_note: Option<String>,
    /// Variables the files' `${VAR}` references name, with their values.
    pub variables: Vec<(String, Secret)>,
    /// One line each: what yarn in the child will not get, and why.
    pub notes: Vec<String>,
}

/// One `.yarnrc.yml` yarn reads, nearest first.
struct File {
    path: PathBuf,
    yarnrc: Yarnrc,
}

impl File {
    fn at(&self, line: usize) -> String {
        format!("{}:{line}", self.path.display())
    }
}

/// The plan for a child run in `cwd`: `handed[0]` is the configured
/// registry's credential.
pub(crate) fn plan(config: &Config, cwd: &Path, handed: &[Handed]) -> YarnPlan {
    let files = files(config, cwd);
    let mut plan = YarnPlan::default();
    let mut noted: Vec<(PathBuf, usize)> = Vec::new();
    let mut note = |plan: &mut YarnPlan, file: &File, line: usize, text: String| {
        if !noted.contains(&(file.path.clone(), line)) {
            noted.push((file.path.clone(), line));
            plan.notes.push(format!("{}: {text}", file.at(line)));
        }
    };

    for (index, one) in handed.iter().enumerate() {
        let HandedValue::Token(secret) = &one.value else {
            continue;
        };
        // The entries yarn takes this registry's credential from: the
        // nearest file's `npmRegistries` entry, and every scope routed here
        // that carries a credential of its own.
        let mut entries: Vec<(&File, Place, Option<&Entry>, Option<&Entry>)> = Vec::new();
        if let Some((file, auth)) = files.iter().find_map(|file| {
            let auth = file.yarnrc.auth_for(one.url.as_str(), None);
            matches!(auth.place, Place::Registry(_)).then_some((file, auth))
        }) {
            entries.push((file, auth.place, auth.token, auth.ident));
        }
        for file in &files {
            for scope in scopes(&file.yarnrc) {
                let auth = file.yarnrc.auth_for(one.url.as_str(), Some(&scope));
                if auth.place == Place::Scope(scope.clone())
                    && scope_registry(&files, &scope).is_some_and(|r| same(&r, &one.url))
                {
                    entries.push((file, auth.place, auth.token, auth.ident));
                }
            }
        }
        let shown = crate::display::display_url(&one.url);
        for (file, place, token, ident) in entries {
            match (token, ident) {
                (Some(entry), _) => match &entry.value {
                    Value::Literal(value) if value.expose() == secret.expose() => {}
                    Value::Literal(_) => note(
                        &mut plan,
                        file,
                        entry.line,
                        format!(
                            "yarn sends this token to {shown}, not rtok's, and no variable can replace it; write `npmAuthToken: \"${{NPM_TOKEN:-}}\"` there to let `rtok exec` hand it over"
                        ),
                    ),
                    Value::Reference(variables) => {
                        let name = &variables[0].name;
                        // exec's own rule decides these two (`references`).
                        if HOST_FREE.contains(&name.as_str())
                            || plan.variables.iter().any(|(n, _)| n == name)
                        {
                        } else if safe_for(config, cwd, name, &one.url) {
                            plan.variables.push((name.clone(), secret.clone()));
                        } else {
                            note(
                                &mut plan,
                                file,
                                entry.line,
                                format!(
                                    "`{name}` is left unset for yarn: a line of the clients' files gives it to a registry other than {shown}"
                                ),
                            );
                        }
                    }
                    // yarn stops on it with its own error.
                    Value::Malformed => {}
                },
                (None, Some(entry)) => note(
                    &mut plan,
                    file,
                    entry.line,
                    format!(
                        "yarn sends this `npmAuthIdent` to {shown}, not rtok's token, and no variable can replace it"
                    ),
                ),
                (None, None) => {
                    let line = file
                        .yarnrc
                        .entries()
                        .iter()
                        .find(|e| e.place == place)
                        .map_or(1, |e| e.line);
                    note(
                        &mut plan,
                        file,
                        line,
                        format!(
                            "yarn sends nothing to {shown}: this `npmRegistries` entry has no token, and no variable can add one"
                        ),
                    );
                }
            }
        }
        if index == 0 {
            top_level(config, &files, one, &mut plan);
        }
    }
    plan
}

/// Whether the configured registry's token may be yarn's top-level one,
/// and whether yarn must be told its registry.
fn top_level(config: &Config, files: &[File], configured: &Handed, plan: &mut YarnPlan) {
    let shown = crate::display::display_url(&configured.url);
    // yarn's registry: the variable beats every file, a nearer file a
    // farther one.
    let from_env = config.env().iter().find(|(name, value)| {
        name.eq_ignore_ascii_case("YARN_NPM_REGISTRY_SERVER") && !value.is_empty()
    });
    let server = match from_env {
        Some((name, value)) => Some((value.clone(), format!("`{name}`"))),
        None => files.iter().find_map(|file| {
            let entry = top_registry_server(&file.yarnrc)?;
            match &entry.value {
                Value::Literal(value) => Some((value.expose().to_string(), file.at(entry.line))),
                _ => Some((String::new(), file.at(entry.line))),
            }
        }),
    };
    match server {
        Some((value, _)) if same(&value, &configured.url) => {}
        Some((_, place)) => {
            plan.top_level_note = Some(format!(
                "`YARN_NPM_AUTH_TOKEN` is left unset for the command: {place} gives yarn a registry other than {shown}"
            ));
            return;
        }
        None => {
            plan.registry_server = Some(configured.url.as_str().trim_end_matches('/').to_string())
        }
    }
    // A scope sent to another registry, with no credential of its own
    // there, would get the top-level token.
    for file in files {
        for scope in scopes(&file.yarnrc) {
            let Some(registry) = scope_registry(files, &scope) else {
                continue;
            };
            if same(&registry, &configured.url) {
                continue;
            }
            // A token or ident of the scope's own, or an `npmRegistries`
            // entry for its registry, in any file.
            let own = files.iter().any(|f| {
                !matches!(
                    f.yarnrc.auth_for(&registry, Some(&scope)).place,
                    Place::TopLevel
                )
            });
            if own {
                continue;
            }
            let line = file
                .yarnrc
                .entries()
                .iter()
                .find(|e| e.place == Place::Scope(scope.clone()))
                .map_or(1, |e| e.line);
            plan.top_level_note = Some(format!(
                "`YARN_NPM_AUTH_TOKEN` is left unset for the command: {} sends `@{scope}` to {registry} without a token of its own, so yarn would send it the token of {shown}",
                file.at(line)
            ));
            return;
        }
    }
    plan.top_level_token = true;
}

/// The `.yarnrc.yml` files yarn reads for a command run in `cwd`, nearest
/// first: the folder and each parent, then the home folder's. A file that
/// cannot be read or parsed is left out (yarn stops on it with its own
/// error).
fn files(config: &Config, cwd: &Path) -> Vec<File> {
    let mut paths: Vec<PathBuf> = cwd.ancestors().map(|d| d.join(".yarnrc.yml")).collect();
    if let Some(home) = crate::locate::home_dir(config.env()) {
        let home = home.join(".yarnrc.yml");
        if !paths.contains(&home) {
            paths.push(home);
        }
    }
    paths
        .into_iter()
        .filter_map(|path| match crate::yarnrc::read_file(&path) {
            Ok(Some(yarnrc)) => Some(File { path, yarnrc }),
            _ => None,
        })
        .collect()
}

/// The scopes a file has entries for.
fn scopes(yarnrc: &Yarnrc) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for entry in yarnrc.entries() {
        if let Place::Scope(scope) = &entry.place
            && !scopes.contains(scope)
        {
            scopes.push(scope.clone());
        }
    }
    scopes
}

fn top_registry_server(yarnrc: &Yarnrc) -> Option<&Entry> {
    yarnrc
        .entries()
        .iter()
        .find(|e| e.place == Place::TopLevel && e.field == Field::RegistryServer)
}

/// The registry yarn sends a scope's packages to: the nearest file's
/// `npmRegistryServer` for the scope, else the nearest top-level one, else
/// yarn's default. `None` when that is a reference rtok cannot name.
fn scope_registry(files: &[File], scope: &str) -> Option<String> {
    let place = Place::Scope(scope.to_string());
    let own = files.iter().find_map(|file| {
        file.yarnrc
            .entries()
            .iter()
            .find(|e| e.place == place && e.field == Field::RegistryServer)
    });
    let entry = own.or_else(|| files.iter().find_map(|f| top_registry_server(&f.yarnrc)));
    match entry.map(|e| &e.value) {
        None => Some(YARN_DEFAULT_REGISTRY.to_string()),
        Some(Value::Literal(value)) => Some(value.expose().to_string()),
        Some(_) => None,
    }
}

/// Whether yarn's spelling of a registry (`https://host/path`,
/// `//host/path`, with or without a trailing slash) names `url`.
fn same(yarn: &str, url: &Url) -> bool {
    let bare = match yarn.find("//") {
        Some(at) => &yarn[at..],
        None => return false,
    };
    bare.trim_end_matches('/') == nerf_dart(url).trim_end_matches('/')
}

/// Whether every line of the clients' files that names `${name}` gives it
/// to `url`.
fn safe_for(config: &Config, cwd: &Path, name: &str, url: &Url) -> bool {
    let own = credential_prefixes(url);
    super::references::find(config, cwd, name)
        .iter()
        .all(|r| r.registry.as_ref().is_some_and(|nerf| own.contains(nerf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yarn_spellings_of_a_registry_match_its_url() {
        let url = Url::parse("http://127.0.0.1:4873/").expect("url");
        assert!(same("http://127.0.0.1:4873", &url));
        assert!(same("http://127.0.0.1:4873/", &url));
        assert!(same("//127.0.0.1:4873", &url));
        assert!(!same("http://127.0.0.1:4874", &url));
        assert!(!same("https://registry.yarnpkg.com", &url));
        let path = Url::parse("https://r.example/npm/").expect("url");
        assert!(same("https://r.example/npm", &path));
        assert!(!same("https://r.example", &path));
    }
}
