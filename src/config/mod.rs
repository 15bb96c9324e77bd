//! Layered configuration, as npm resolves it: command line, environment,
//! project `.npmrc`, user `.npmrc`, global `npmrc`, then defaults.

pub(crate) mod child_config;
pub(crate) mod child_yarn;
pub(crate) mod client_view;
pub(crate) mod clients;
pub(crate) mod credential;
pub(crate) mod credentials;
pub(crate) mod network;
pub(crate) mod origin;
pub(crate) mod references;
pub(crate) mod registries;
pub(crate) mod store;
pub(crate) mod stored;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::npmrc::{Document, Reference, expand};
pub(crate) use credential::CredentialError;
pub(crate) use origin::{LayerKind, Origin};

/// npm's default registry.
pub(crate) const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org/";

/// One `key=value` after `${VAR}` expansion.
#[derive(Debug, Clone)]
pub(crate) struct Setting {
    pub key: String,
    pub value: String,
    /// `${NAME}` references in the value whose variable is not set.
    pub unset: Vec<String>,
    /// What the value as written is: literal, a `${VAR}` reference, or a
    /// malformed one (never to be sent).
    pub reference: Reference,
    /// Every `${NAME}` the key or value refers to, set or not.
    pub variables: Vec<String>,
    pub array: bool,
    pub origin: Origin,
}

/// The settings of one source.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    pub kind: LayerKind,
    /// The file behind a file layer, whether or not it exists.
    pub path: Option<PathBuf>,
    pub settings: Vec<Setting>,
}

/// What loading needs from the process: flags, environment, working folder.
#[derive(Debug, Clone, Default)]
pub(crate) struct Inputs {
    /// Settings given as flags: (config key, value, flag as typed).
    pub cli: Vec<(String, String, String)>,
    pub env: HashMap<String, String>,
    pub cwd: PathBuf,
}

/// The loaded configuration: every layer, and a merged view in which the
/// highest layer wins (and, within a file, the last line).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    layers: Vec<Layer>,
    merged: HashMap<String, (usize, usize)>,
    env: HashMap<String, String>,
    pub warnings: Vec<String>,
    /// Files that hold a literal secret and that other users may read
    /// (each also has its line in `warnings`).
    pub exposed: Vec<ExposedFile>,
}

/// A config file that holds a literal secret and that users other than
/// its owner may read or write: checked once, when the file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExposedFile {
    pub path: PathBuf,
    pub mode: u32,
}

impl ExposedFile {
    pub(crate) fn warning(&self) -> String {
        format!(
            "{} holds a credential and other users can read it (mode {:04o}); run `chmod 600 {}`",
            self.path.display(),
            self.mode,
            self.path.display()
        )
    }
}

impl Config {
    /// Loads every layer, reading each file once.
    pub(crate) fn load(inputs: &Inputs) -> Result<Config> {
        let env = &inputs.env;
        let lookup = |name: &str| env.get(name).cloned();

        let cli = Layer {
            kind: LayerKind::Cli,
            path: None,
            settings: inputs
                .cli
                .iter()
                .map(|(key, value, flag)| {
                    setting(
                        key,
                        value,
                        false,
                        Origin::Cli { flag: flag.clone() },
                        &lookup,
                    )
                })
                .collect(),
        };
        let env_layer = Layer {
            kind: LayerKind::Env,
            path: None,
            settings: env_settings(env, &lookup),
        };

        let mut config = Config {
            layers: vec![cli, env_layer],
            merged: HashMap::new(),
            env: env.clone(),
            warnings: Vec::new(),
            exposed: Vec::new(),
        };
        config.remerge();

        let home = crate::locate::home_dir(env);
        let userconfig_before_project = config.path_setting("userconfig", &inputs.cwd, &home);
        let default_userconfig = home.as_ref().map(|h| h.join(".npmrc"));

        let project_path = crate::locate::project_prefix(&inputs.cwd).join(".npmrc");
        let user_guess = userconfig_before_project
            .clone()
            .or(default_userconfig.clone());
        if user_guess.as_deref() != Some(project_path.as_path()) {
            config.push_file(LayerKind::Project, project_path)?;
        }

        let user_path = config
            .path_setting("userconfig", &inputs.cwd, &home)
            .or(default_userconfig);
        if let Some(path) = user_path {
            config.push_file(LayerKind::User, path)?;
        }

        let global_path = config
            .path_setting("globalconfig", &inputs.cwd, &home)
            .or_else(|| {
                config
                    .path_setting("prefix", &inputs.cwd, &home)
                    .or_else(|| crate::locate::default_global_prefix(env))
                    .map(|prefix| prefix.join("etc").join("npmrc"))
            });
        if let Some(path) = global_path {
            config.push_file(LayerKind::Global, path)?;
        }
        Ok(config)
    }

    /// The effective setting for `key`, if any layer has it.
    pub(crate) fn get(&self, key: &str) -> Option<&Setting> {
        self.merged
            .get(key)
            .map(|&(layer, index)| &self.layers[layer].settings[index])
    }

    /// The effective value for `key`, empty values counting as unset (as npm
    /// treats them).
    pub(crate) fn value(&self, key: &str) -> Option<&str> {
        self.get(key)
            .map(|s| s.value.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every value of an array setting (`key[]=` lines, or a plain `key=`),
    /// from the highest layer that sets it.
    pub(crate) fn values(&self, key: &str) -> Vec<&Setting> {
        for layer in &self.layers {
            let found: Vec<&Setting> = layer.settings.iter().filter(|s| s.key == key).collect();
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }

    pub(crate) fn layer(&self, kind: LayerKind) -> Option<&Layer> {
        self.layers.iter().find(|l| l.kind == kind)
    }

    /// The user config file (`--userconfig`, `NPM_CONFIG_USERCONFIG`, or
    /// `~/.npmrc`), where logins are stored.
    pub(crate) fn user_config_path(&self) -> Option<&Path> {
        self.layer(LayerKind::User).and_then(|l| l.path.as_deref())
    }

    /// The process environment the configuration was expanded with.
    pub(crate) fn env(&self) -> &HashMap<String, String> {
        &self.env
    }

    /// The warnings, less those about files open to others (`doctor`
    /// reports those as findings of its own).
    pub(crate) fn warnings_without_exposed(&self) -> impl Iterator<Item = &String> {
        let exposed: Vec<String> = self.exposed.iter().map(ExposedFile::warning).collect();
        self.warnings.iter().filter(move |w| !exposed.contains(w))
    }

    /// Expands `${VAR}` in a key read from a file, as the merged view did.
    pub(crate) fn expand_key(&self, key: &str) -> String {
        expand(key, &|name| self.env.get(name).cloned()).value
    }

    /// Every effective `key → setting` pair, for callers that scan by
    /// pattern (credentials). Order is unspecified.
    pub(crate) fn effective(&self) -> impl Iterator<Item = &Setting> {
        self.merged
            .values()
            .map(|&(layer, index)| &self.layers[layer].settings[index])
    }

    fn path_setting(&self, key: &str, cwd: &Path, home: &Option<PathBuf>) -> Option<PathBuf> {
        self.value(key)
            .map(|value| crate::locate::resolve_path(value, cwd, home.as_deref()))
    }

    fn push_file(&mut self, kind: LayerKind, path: PathBuf) -> Result<()> {
        // The bytes as they are: the parser reads them as npm does, invalid
        // UTF-8 included, with the same line numbers.
        // A folder, FIFO or device where the file should be, or no
        // permission: say so rather than silently ignoring credentials the
        // user expects (or hanging on a FIFO).
        let contents = crate::private_file::read_regular(&path).with_context(|| {
            format!(
                "could not read the {} config {}",
                kind.name(),
                path.display()
            )
        })?;
        let env = &self.env;
        let lookup = |name: &str| env.get(name).cloned();
        let document = contents.as_deref().map(Document::parse);
        if let Some(doc) = &document
            && let Some(exposed) = readable_by_others(&path, doc)
        {
            self.warnings.push(exposed.warning());
            self.exposed.push(exposed);
        }
        let mut settings = Vec::new();
        if let Some(doc) = &document {
            for located in doc.entries() {
                let origin = Origin::File {
                    layer: kind,
                    path: path.clone(),
                    line: located.line,
                    variable: None,
                };
                let entry = located.entry;
                settings.push(setting(
                    &entry.key,
                    &entry.value,
                    entry.array,
                    origin,
                    &lookup,
                ));
            }
            for located in doc.entries() {
                if credential::is_legacy_credential_key(&located.entry.key) {
                    self.warnings.push(format!(
                        "{}:{}: `{}` without a registry prefix is ignored (npm 9 and later ignore it too); write it as `//<registry host>/:{}`",
                        path.display(),
                        located.line,
                        located.entry.key,
                        located.entry.key
                    ));
                }
            }
            for located in doc.entries_in_sections() {
                if credential::is_credential_key(&located.entry.key) {
                    self.warnings.push(format!(
                        "{}:{}: `{}` is inside a `[section]`, where npm and rtok ignore it; move it above the first section",
                        path.display(),
                        located.line,
                        located.entry.key
                    ));
                }
            }
        }
        self.layers.push(Layer {
            kind,
            path: Some(path),
            settings,
        });
        self.remerge();
        Ok(())
    }

    fn remerge(&mut self) {
        self.merged.clear();
        for (layer_index, layer) in self.layers.iter().enumerate().rev() {
            for (index, setting) in layer.settings.iter().enumerate() {
                if !setting.array {
                    self.merged
                        .insert(setting.key.clone(), (layer_index, index));
                }
            }
        }
    }
}

/// The file, when `path` holds a literal secret (not a `${VAR}`
/// reference) and other users may read it.
#[cfg(unix)]
fn readable_by_others(path: &Path, doc: &Document) -> Option<ExposedFile> {
    use std::os::unix::fs::PermissionsExt;
    let holds_secret = doc.entries().any(|located| {
        crate::npmrc::keys::is_literal_secret(&located.entry.key, &located.entry.value)
    });
    if !holds_secret {
        return None;
    }
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| ExposedFile {
        path: path.to_path_buf(),
        mode,
    })
}

#[cfg(not(unix))]
fn readable_by_others(_path: &Path, _doc: &Document) -> Option<ExposedFile> {
    None
}

fn setting(
    key: &str,
    value: &str,
    array: bool,
    origin: Origin,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Setting {
    let expanded = expand(value, lookup);
    let reference = Reference::classify(value);
    // A value that refers to a variable keeps its secret there: say which.
    let origin = match origin {
        Origin::File {
            layer, path, line, ..
        } => Origin::File {
            layer,
            path,
            line,
            variable: match &reference {
                Reference::Variable { name, .. } => Some(name.clone()),
                Reference::Literal | Reference::Malformed => None,
            },
        },
        other => other,
    };
    let expanded_key = expand(key, lookup);
    Setting {
        variables: [expanded_key.names, expanded.names].concat(),
        key: expanded_key.value,
        value: expanded.value,
        unset: expanded.unset,
        reference,
        array,
        origin,
    }
}

/// `NPM_CONFIG_*` / `npm_config_*` variables as settings, as npm maps them:
/// the prefix matched case-insensitively, empty values ignored, and unless
/// the key is a nerf dart (`//host/:_authToken`), every `_` but a leading one
/// becomes `-` and the key is lower-cased.
fn env_settings(
    env: &HashMap<String, String>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Vec<Setting> {
    const PREFIX: &str = "npm_config_";
    let mut names: Vec<&String> = env
        .keys()
        .filter(|name| {
            name.len() > PREFIX.len()
                && name.is_char_boundary(PREFIX.len())
                && name[..PREFIX.len()].eq_ignore_ascii_case(PREFIX)
        })
        .collect();
    // Sorted so that two spellings of one key resolve the same way each run.
    names.sort();
    names
        .into_iter()
        .filter(|name| !env[*name].is_empty())
        .map(|name| {
            let raw = &name[PREFIX.len()..];
            let key = if raw.starts_with("//") {
                raw.to_string()
            } else {
                let mut key = String::with_capacity(raw.len());
                for (i, c) in raw.chars().enumerate() {
                    key.push(if c == '_' && i > 0 {
                        '-'
                    } else {
                        c.to_ascii_lowercase()
                    });
                }
                key
            };
            setting(
                &key,
                &env[name],
                false,
                Origin::Env { var: name.clone() },
                lookup,
            )
        })
        .collect()
}

/// For unit tests: a config whose user file holds `npmrc` (in a temporary
/// folder that is also HOME), with `env` as the environment and no global
/// file. The folder lives as long as the returned guard.
#[cfg(test)]
pub(crate) fn load_for_test(
    npmrc: &str,
    env: &[(&str, &str)],
) -> Result<(tempfile::TempDir, Config)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let rc = dir.path().join(".npmrc");
    std::fs::write(&rc, npmrc).expect("write the test npmrc");
    let mut map: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.insert("NPM_CONFIG_USERCONFIG".into(), rc.display().to_string());
    map.insert(
        "NPM_CONFIG_GLOBALCONFIG".into(),
        dir.path().join("none").display().to_string(),
    );
    map.insert("HOME".into(), dir.path().display().to_string());
    let config = Config::load(&Inputs {
        cli: Vec::new(),
        env: map,
        cwd: dir.path().to_path_buf(),
    })?;
    Ok((dir, config))
}

/// For tests: the config a command run in a project folder would load, with
/// `project` as that folder's `.npmrc`, `user` as the user config, no global
/// config, and `env` on top (a temporary folder holds it all).
#[cfg(test)]
pub(crate) fn load_project_for_test(
    project: &str,
    user: &str,
    env: &[(&str, &str)],
) -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("project");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(folder.join("package.json"), "{}").expect("package.json");
    std::fs::write(folder.join(".npmrc"), project).expect("project npmrc");
    let user_path = dir.path().join("user.npmrc");
    std::fs::write(&user_path, user).expect("user npmrc");
    let mut map: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.insert(
        "NPM_CONFIG_USERCONFIG".into(),
        user_path.display().to_string(),
    );
    map.insert(
        "NPM_CONFIG_GLOBALCONFIG".into(),
        dir.path().join("none").display().to_string(),
    );
    map.insert("HOME".into(), dir.path().display().to_string());
    let config = Config::load(&Inputs {
        cli: Vec::new(),
        env: map,
        cwd: folder,
    })
    .expect("load");
    (dir, config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    struct Fixture {
        _dir: tempfile::TempDir,
        root: PathBuf,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().expect("temp dir");
            let root = dir.path().to_path_buf();
            fs::create_dir_all(root.join("home")).expect("home");
            fs::create_dir_all(root.join("project/sub")).expect("project");
            fs::write(root.join("project/package.json"), "{}").expect("package.json");
            Fixture { _dir: dir, root }
        }

        fn write(&self, relative: &str, text: &str) {
            let path = self.root.join(relative);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(path, text).expect("write");
        }

        fn inputs(&self, env: &[(&str, &str)]) -> Inputs {
            let mut map: HashMap<String, String> = env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            map.insert("HOME".into(), self.root.join("home").display().to_string());
            map.entry("NPM_CONFIG_GLOBALCONFIG".into())
                .or_insert_with(|| self.root.join("global/npmrc").display().to_string());
            Inputs {
                cli: Vec::new(),
                env: map,
                cwd: self.root.join("project/sub"),
            }
        }
    }

    #[test]
    fn layers_apply_in_npm_order() {
        let fx = Fixture::new();
        fx.write("global/npmrc", "a=global\nb=global\nc=global\nd=global\n");
        fx.write("home/.npmrc", "a=user\nb=user\nc=user\n");
        fx.write("project/.npmrc", "a=project\nb=project\n");
        let mut inputs = fx.inputs(&[("npm_config_a", "env")]);
        inputs.cli.push((
            "registry".into(),
            "https://cli.example/".into(),
            "--registry".into(),
        ));
        let config = Config::load(&inputs).expect("load");
        assert_eq!(config.value("a"), Some("env"));
        assert_eq!(config.value("b"), Some("project"));
        assert_eq!(config.value("c"), Some("user"));
        assert_eq!(config.value("d"), Some("global"));
        assert_eq!(config.value("registry"), Some("https://cli.example/"));
        let origin = &config.get("b").expect("b").origin;
        assert_eq!(
            origin.to_string(),
            format!("{}:2", fx.root.join("project/.npmrc").display())
        );
    }

    #[test]
    fn environment_keys_are_case_insensitive_and_dashed() {
        let fx = Fixture::new();
        let inputs = fx.inputs(&[
            ("NPM_CONFIG_FETCH_RETRIES", "5"),
            ("npm_config_Strict_SSL", "false"),
            ("npm_config_//Host.example/:_authToken", "tok"),
            ("npm_config_empty", ""),
        ]);
        let config = Config::load(&inputs).expect("load");
        assert_eq!(config.value("fetch-retries"), Some("5"));
        assert_eq!(config.value("strict-ssl"), Some("false"));
        assert_eq!(config.value("//Host.example/:_authToken"), Some("tok"));
        assert!(config.get("empty").is_none());
    }

    #[test]
    fn userconfig_can_be_moved_by_env_and_by_the_project() {
        let fx = Fixture::new();
        fx.write("elsewhere/rc", "from=elsewhere\n");
        fx.write("home/.npmrc", "from=home\n");
        let path = fx.root.join("elsewhere/rc").display().to_string();
        let config = Config::load(&fx.inputs(&[("NPM_CONFIG_USERCONFIG", &path)])).expect("load");
        assert_eq!(config.value("from"), Some("elsewhere"));

        fx.write("project/.npmrc", &format!("userconfig={path}\n"));
        let config = Config::load(&fx.inputs(&[])).expect("load");
        assert_eq!(config.value("from"), Some("elsewhere"));
        assert_eq!(
            config.user_config_path(),
            Some(fx.root.join("elsewhere/rc").as_path())
        );
    }

    #[test]
    fn userconfig_tilde_expands_from_home() {
        let fx = Fixture::new();
        fx.write("home/custom.rc", "from=custom\n");
        let config =
            Config::load(&fx.inputs(&[("npm_config_userconfig", "~/custom.rc")])).expect("load");
        assert_eq!(config.value("from"), Some("custom"));
    }

    #[test]
    fn project_root_is_the_nearest_folder_with_package_json() {
        let fx = Fixture::new();
        fx.write("project/.npmrc", "where=project\n");
        fx.write("project/sub/.npmrc", "where=sub\n");
        let config = Config::load(&fx.inputs(&[])).expect("load");
        assert_eq!(config.value("where"), Some("project"));
    }

    #[test]
    fn values_expand_variables_and_remember_unset_ones() {
        let fx = Fixture::new();
        fx.write(
            "home/.npmrc",
            "//r.example/:_authToken=${NPM_TOKEN}\n//${HOST}/:_authToken=${MISSING}\nopt=${MISSING?}x\n",
        );
        let config =
            Config::load(&fx.inputs(&[("NPM_TOKEN", "tok"), ("HOST", "h.example")])).expect("load");
        assert_eq!(config.value("//r.example/:_authToken"), Some("tok"));
        let missing = config.get("//h.example/:_authToken").expect("expanded key");
        assert_eq!(missing.value, "${MISSING}");
        assert_eq!(missing.unset, vec!["MISSING".to_string()]);
        assert_eq!(config.value("opt"), Some("x"));
    }

    #[test]
    fn arrays_collect_every_element() {
        let fx = Fixture::new();
        fx.write("home/.npmrc", "ca[]=one\nca[]=two\n");
        let config = Config::load(&fx.inputs(&[])).expect("load");
        let values: Vec<&str> = config
            .values("ca")
            .iter()
            .map(|s| s.value.as_str())
            .collect();
        assert_eq!(values, vec!["one", "two"]);
    }

    #[test]
    fn the_global_file_comes_from_the_prefix() {
        let fx = Fixture::new();
        fx.write("prefix/etc/npmrc", "from=prefix\n");
        let prefix = fx.root.join("prefix").display().to_string();
        let mut inputs = fx.inputs(&[("NPM_CONFIG_PREFIX", &prefix)]);
        inputs.env.remove("NPM_CONFIG_GLOBALCONFIG");
        let config = Config::load(&inputs).expect("load");
        assert_eq!(config.value("from"), Some("prefix"));
    }

    #[cfg(unix)]
    #[test]
    fn a_readable_file_with_a_secret_gets_a_chmod_warning() {
        use std::os::unix::fs::PermissionsExt;
        let fx = Fixture::new();
        let rc = fx.root.join("home/.npmrc");
        for (text, mode, warns) in [
            ("//r/:_authToken=secret\n", 0o644, true),
            ("//r/:_authToken=secret\n", 0o600, false),
            ("//r/:_authToken=${NPM_TOKEN}\n", 0o644, false),
            ("registry=https://r/\n", 0o644, false),
        ] {
            fx.write("home/.npmrc", text);
            std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(mode)).expect("chmod");
            let config = Config::load(&fx.inputs(&[])).expect("load");
            let warned = config.warnings.iter().any(|w| w.contains("chmod 600"));
            assert_eq!(warned, warns, "{text:?} {mode:o}: {:?}", config.warnings);
        }
    }

    #[test]
    fn credentials_inside_a_section_are_ignored_with_a_warning() {
        let fx = Fixture::new();
        fx.write("home/.npmrc", "[auth]\n//r.example/:_authToken=tok\n");
        let config = Config::load(&fx.inputs(&[])).expect("load");
        assert!(config.get("//r.example/:_authToken").is_none());
        assert_eq!(config.warnings.len(), 1);
        assert!(
            config.warnings[0].contains("[section]"),
            "{}",
            config.warnings[0]
        );
    }
}
