//! rtok's own settings: `$RTOK_CONFIG`, else `<config dir>/rtok/config.toml`.
//! Settings npm does not know never go into an `.npmrc` (npm 11 warns about
//! every key it does not know). The file is TOML, edited losslessly with
//! `toml_edit` (comments, spacing and order kept), written atomically with
//! mode 0600, and never holds a secret:
//!
//! ```toml
//! storage = "keyring"          # where `login` and `rotate` keep new tokens
//!
//! [registry."https://npm.pkg.github.com/"]
//! credential-command = ["gh", "auth", "token"]
//!
//! [registry."https://registry.npmjs.org/"]
//! storage = "keyring"          # written by rtok: the token is in the keyring
//! ```
//!
//! Registries are named by URL and matched by nerf dart, as npm matches
//! credentials: the longest prefix of a request URL wins.

pub(crate) mod audit_policy;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use toml_edit::{DocumentMut, Item, Table, Value};
use url::Url;

use crate::client::Client;
use crate::failure::Failure;
use crate::locate;
use crate::npmrc::{credential_prefixes, nerf_dart};
use crate::private_file;
use audit_policy::AuditTable;

/// Where `login` and `rotate` keep new tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Storage {
    /// The user `.npmrc`, which npm can read.
    #[default]
    File,
    /// The system keyring (see `crate::keyring`).
    Keyring,
}

impl Storage {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Storage::File => "file",
            Storage::Keyring => "keyring",
        }
    }

    fn parse(text: &str) -> Option<Storage> {
        match text {
            "file" => Some(Storage::File),
            "keyring" => Some(Storage::Keyring),
            _ => None,
        }
    }
}

/// One `[registry."<url>"]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegistrySettings {
    /// The table's name as written.
    pub key: String,
    /// That name as a URL.
    pub url: Url,
    /// Its nerf dart (`//host[:port]/path/`), which it is matched by.
    pub nerf: String,
    /// `storage = "keyring"`: the registry's token is in the system keyring,
    /// under this nerf dart.
    pub keyring: bool,
    /// `credential-command = [argv]`: its standard output is the token.
    pub credential_command: Option<Vec<String>>,
    /// `provider = "codeartifact" | "gcloud" | "azure" | "gh"`: a preset
    /// that knows its tool's command line and output.
    pub provider: Option<ProviderPreset>,
    /// What `rtok refresh` last wrote into client files (never the token).
    pub refreshed: Option<Refreshed>,
}

/// A provider preset as rtok's settings name it, with its own settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProviderPreset {
    /// AWS CodeArtifact: `domain`, optional `domain-owner`, `region` and
    /// `duration` (a duration such as `"2h"`).
    CodeArtifact {
        domain: String,
        domain_owner: Option<String>,
        region: Option<String>,
        duration: Option<std::time::Duration>,
    },
    /// Google Artifact Registry through `gcloud`.
    Gcloud,
    /// Azure Artifacts through `az`.
    Azure,
    /// GitHub Packages through `gh`.
    Gh,
}

impl ProviderPreset {
    /// The name written in the settings.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ProviderPreset::CodeArtifact { .. } => "codeartifact",
            ProviderPreset::Gcloud => "gcloud",
            ProviderPreset::Azure => "azure",
            ProviderPreset::Gh => "gh",
        }
    }
}

/// `rtok refresh`'s record for a registry: `refreshed-expires` (ISO 8601),
/// `refreshed-files` and `refreshed-fingerprint` (a short hash that tells
/// whether a file still holds the token refresh wrote; never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refreshed {
    pub expires: String,
    pub files: Vec<PathBuf>,
    pub fingerprint: String,
}

/// rtok's settings as loaded (an empty set when the file does not exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RtokConfig {
    /// The file the settings came from (or would be written to).
    pub path: PathBuf,
    storage: Storage,
    registries: Vec<RegistrySettings>,
    /// The `[audit]` table: `token audit`'s policy defaults.
    audit: AuditTable,
    /// `clients = ["npm", "pnpm", "yarn"]`: exactly the clients whose files
    /// `login`, `rotate` and `keyring export` write (`None`: unset).
    clients: Option<Vec<Client>>,
    /// Keys rtok does not know, each as a message naming the file.
    pub warnings: Vec<String>,
}

/// Where rtok's settings live: `$RTOK_CONFIG`, else `rtok/config.toml` in
/// the platform's config folder (`$XDG_CONFIG_HOME` or `~/.config` on
/// Linux and the BSDs, `~/Library/Application Support` on macOS,
/// `%APPDATA%` on Windows). `None` only without any home folder.
pub(crate) fn path(env: &HashMap<String, String>, home: Option<&Path>) -> Option<PathBuf> {
    if let Some(explicit) = env.get("RTOK_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(explicit));
    }
    config_dir(env, home).map(|dir| dir.join("rtok").join("config.toml"))
}

#[cfg(all(unix, not(target_os = "macos")))]
fn config_dir(env: &HashMap<String, String>, home: Option<&Path>) -> Option<PathBuf> {
    // The XDG spec: a relative value is invalid and must be ignored.
    env.get("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| home.map(|home| home.join(".config")))
}

#[cfg(target_os = "macos")]
fn config_dir(_env: &HashMap<String, String>, home: Option<&Path>) -> Option<PathBuf> {
    home.map(|home| home.join("Library").join("Application Support"))
}

#[cfg(windows)]
fn config_dir(env: &HashMap<String, String>, _home: Option<&Path>) -> Option<PathBuf> {
    env.get("APPDATA")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(dirs::config_dir)
}

#[cfg(not(any(unix, windows)))]
fn config_dir(_env: &HashMap<String, String>, home: Option<&Path>) -> Option<PathBuf> {
    home.map(|home| home.join(".config"))
}

impl RtokConfig {
    /// Loads the settings file that `env` points at (see [`path`]), with
    /// HOME from `env` as the rest of rtok finds it.
    pub(crate) fn load_from_env(env: &HashMap<String, String>) -> Result<RtokConfig> {
        let home = locate::home_dir(env);
        match path(env, home.as_deref()) {
            Some(path) => RtokConfig::load(&path),
            None => Ok(RtokConfig::empty(PathBuf::from("config.toml"))),
        }
    }

    /// Loads and checks `path`; a missing file is an empty set of settings.
    /// Anything malformed (not TOML, a registry that is not a URL, a value
    /// of the wrong type) is one error naming the file and the key.
    pub(crate) fn load(path: &Path) -> Result<RtokConfig> {
        match private_file::read_text(path)? {
            None => Ok(RtokConfig::empty(path.to_path_buf())),
            Some(text) => Ok(parse(path, &text)?.1),
        }
    }

    fn empty(path: PathBuf) -> RtokConfig {
        RtokConfig {
            path,
            storage: Storage::File,
            registries: Vec::new(),
            audit: AuditTable::default(),
            clients: None,
            warnings: Vec::new(),
        }
    }

    /// The global `storage` setting (`file` when unset).
    pub(crate) fn storage(&self) -> Storage {
        self.storage
    }

    /// The `clients` setting, when the file has one.
    pub(crate) fn clients(&self) -> Option<&[Client]> {
        self.clients.as_deref()
    }

    /// Every `[registry."<url>"]` table, in file order.
    pub(crate) fn registries(&self) -> &[RegistrySettings] {
        &self.registries
    }

    /// The settings that apply to a request to `url`: the table whose nerf
    /// dart is the longest prefix of the URL, as npm picks credentials.
    pub(crate) fn for_url(&self, url: &Url) -> Option<&RegistrySettings> {
        credential_prefixes(url)
            .into_iter()
            .find_map(|prefix| self.at(&prefix))
    }

    /// The table for exactly this nerf dart.
    pub(crate) fn at(&self, nerf: &str) -> Option<&RegistrySettings> {
        self.registries.iter().find(|r| r.nerf == nerf)
    }

    /// The `[audit]` table (empty when the file has none).
    pub(crate) fn audit(&self) -> &AuditTable {
        &self.audit
    }

    /// The registries whose token rtok keeps in the system keyring.
    pub(crate) fn keyring_registries(&self) -> impl Iterator<Item = &RegistrySettings> {
        self.registries.iter().filter(|r| r.keyring)
    }
}

/// Changes rtok's settings file: reads it (checked as `load` checks it),
/// lets `change` edit it, and writes it back atomically with mode 0600 if
/// anything changed. Comments, spacing and the order of everything else are
/// kept. When `change` fails, nothing is written.
pub(crate) fn edit<T>(path: &Path, change: impl FnOnce(&mut Editor) -> Result<T>) -> Result<T> {
    private_file::edit(path, |old| {
        let mut editor = Editor {
            document: match old {
                Some(text) => parse(path, text)?.0,
                None => DocumentMut::new(),
            },
        };
        let result = change(&mut editor)?;
        let text = editor.document.to_string();
        // `toml_edit` writes LF; a file written with CRLF (Notepad) keeps it.
        let crlf = old.is_some_and(|old| old.find('\n').is_some_and(|i| old[..i].ends_with('\r')));
        Ok((if crlf { with_crlf(&text) } else { text }, result))
    })
}

/// `text` with every line ending CRLF.
fn with_crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// The settings document while [`edit`] holds it.
pub(crate) struct Editor {
    document: DocumentMut,
}

impl Editor {
    /// Sets the global `storage` (tests: the user writes it by hand).
    #[cfg(test)]
    pub(crate) fn set_storage(&mut self, storage: Storage) {
        set_keeping_decor(self.document.as_table_mut(), "storage", storage.as_str());
    }

    /// Records that `registry`'s token is in the keyring: `storage =
    /// "keyring"` in the table with the same nerf dart, or in a new
    /// `[registry."<url>"]` table. A `storage = "file"` the user wrote is
    /// replaced keeping its spacing and comment; without a comment of its
    /// own it gets [`WAS_FILE`], so [`Editor::forget_keyring`] can put it back.
    pub(crate) fn record_keyring(&mut self, registry: &Url) {
        let nerf = nerf_dart(registry);
        let inline = matches!(self.document.get("registry"), Some(Item::Value(_)));
        let registries = self.registries_table();
        let existing = registries
            .iter()
            .find(|(key, _)| key_nerf(key).as_deref() == Some(nerf.as_str()))
            .map(|(key, _)| key.to_string());
        let key = existing.unwrap_or_else(|| {
            // In the user's style: an inline `registry = { ... }` gets an
            // inline entry.
            let entry = if inline {
                Item::Value(Value::InlineTable(toml_edit::InlineTable::new()))
            } else {
                Item::Table(Table::new())
            };
            registries.insert(&table_key(registry), entry);
            table_key(registry)
        });
        if let Some(table) = registries.get_mut(&key).and_then(Item::as_table_like_mut) {
            let commented = table
                .key("storage")
                .is_some_and(|k| has_comment(k.leaf_decor()));
            match table.get_mut("storage").and_then(Item::as_value_mut) {
                Some(value) if value.as_str() == Some("keyring") => {}
                Some(value) => {
                    let mark = !commented && !has_comment(value.decor());
                    replace_keeping_decor(value, "keyring");
                    if mark {
                        let suffix = format!("{}{WAS_FILE}", raw(value.decor().suffix()));
                        value.decor_mut().set_suffix(suffix);
                    }
                }
                None => {
                    table.insert("storage", toml_edit::value("keyring"));
                }
            }
        }
    }

    /// The `[registry."<url>"]` key that names the registry with nerf dart
    /// `nerf`, as the file spells it.
    fn registry_key(&self, nerf: &str) -> Option<String> {
        self.document
            .get("registry")?
            .as_table_like()?
            .iter()
            .find(|(key, _)| key_nerf(key).as_deref() == Some(nerf))
            .map(|(key, _)| key.to_string())
    }

    /// Removes the keyring record of the registry with nerf dart `nerf`:
    /// a `storage` line the user wrote (with a comment, or rtok's
    /// [`WAS_FILE`] mark) goes back to `"file"`; one rtok wrote goes, and so
    /// does a table left empty, but not the comments and blank lines above
    /// it, which may belong to the file or the next table. `false` when
    /// there was no record.
    pub(crate) fn forget_keyring(&mut self, nerf: &str) -> bool {
        let Some(key) = self.registry_key(nerf) else {
            return false;
        };
        let Some(registries) = self
            .document
            .get_mut("registry")
            .and_then(Item::as_table_like_mut)
        else {
            return false;
        };
        let Some(table) = registries.get_mut(&key).and_then(Item::as_table_like_mut) else {
            return false;
        };
        let key_commented = table
            .key("storage")
            .is_some_and(|k| has_comment(k.leaf_decor()));
        let removed = match table.get_mut("storage").and_then(Item::as_value_mut) {
            None => false,
            Some(value) => {
                let suffix = raw(value.decor().suffix());
                if let Some(before) = suffix.strip_suffix(WAS_FILE) {
                    let before = before.to_string();
                    replace_keeping_decor(value, "file");
                    value.decor_mut().set_suffix(before);
                } else if key_commented || has_comment(value.decor()) {
                    replace_keeping_decor(value, "file");
                } else {
                    table.remove("storage");
                }
                true
            }
        };
        if !table.is_empty() {
            return removed;
        }
        let prefix = match registries.get(&key) {
            Some(Item::Table(table)) => {
                Some((table.position(), raw(table.decor().prefix()).to_string()))
            }
            _ => None,
        };
        registries.remove(&key);
        if registries.is_empty() {
            self.document.remove("registry");
        }
        if let Some((position, prefix)) = prefix {
            self.keep_comments(position, &prefix);
        }
        removed
    }

    /// Records what `rtok refresh` wrote for the registry with nerf dart
    /// `nerf` (its table exists: it names the provider): the token's
    /// expiry, the files, and the token's fingerprint. Never the token.
    /// `false` when there is no such table.
    pub(crate) fn record_refresh(&mut self, nerf: &str, refreshed: &Refreshed) -> bool {
        let Some(key) = self.registry_key(nerf) else {
            return false;
        };
        let Some(table) = self
            .document
            .get_mut("registry")
            .and_then(Item::as_table_like_mut)
            .and_then(|registries| registries.get_mut(&key))
            .and_then(Item::as_table_like_mut)
        else {
            return false;
        };
        let files: toml_edit::Array = refreshed
            .files
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        for (name, value) in [
            ("refreshed-expires", Value::from(refreshed.expires.as_str())),
            ("refreshed-files", Value::Array(files)),
            (
                "refreshed-fingerprint",
                Value::from(refreshed.fingerprint.as_str()),
            ),
        ] {
            match table.get_mut(name).and_then(Item::as_value_mut) {
                Some(old) => {
                    let decor = old.decor().clone();
                    *old = value;
                    *old.decor_mut() = decor;
                }
                None => {
                    table.insert(name, Item::Value(value));
                }
            }
        }
        true
    }

    /// Puts the comments that stood above a removed table (at `position`)
    /// in front of the table that followed it, or at the end of the file.
    fn keep_comments(&mut self, position: Option<isize>, prefix: &str) {
        if !prefix.contains('#') {
            return;
        }
        let after = |table: &Table| match (position, table.position()) {
            (Some(removed), Some(other)) => other > removed,
            _ => false,
        };
        // Tables sit at most two deep in rtok's file (`[registry."<url>"]`).
        let mut next: Option<(isize, String, Option<String>)> = None;
        for (name, item) in self.document.iter() {
            let Item::Table(table) = item else { continue };
            let mut consider = |table: &Table, child: Option<&str>| {
                if after(table)
                    && let Some(at) = table.position()
                    && next.as_ref().is_none_or(|(best, ..)| at < *best)
                {
                    next = Some((at, name.to_string(), child.map(str::to_string)));
                }
            };
            consider(table, None);
            for (child, item) in table.iter() {
                if let Item::Table(inner) = item {
                    consider(inner, Some(child));
                }
            }
        }
        let target = next.and_then(|(_, name, child)| {
            let table = self.document.get_mut(&name)?.as_table_mut()?;
            match child {
                Some(child) => table.get_mut(&child)?.as_table_mut(),
                None => Some(table),
            }
        });
        match target {
            Some(table) => {
                let own = raw(table.decor().prefix()).to_string();
                table.decor_mut().set_prefix(format!("{prefix}{own}"));
            }
            None => {
                let trailing = raw(Some(self.document.trailing())).to_string();
                self.document.set_trailing(format!("{prefix}{trailing}"));
            }
        }
    }

    /// `registry`, created (an implicit table, so it is not printed on its
    /// own) when missing; an inline `registry = { ... }` is edited inline.
    fn registries_table(&mut self) -> &mut dyn toml_edit::TableLike {
        let root = self.document.as_table_mut();
        if !root.contains_key("registry") {
            let mut table = Table::new();
            table.set_implicit(true);
            root.insert("registry", Item::Table(table));
        }
        root.get_mut("registry")
            .and_then(Item::as_table_like_mut)
            // `parse` refused anything else, and it was created above.
            .unwrap_or_else(|| unreachable!("`registry` was checked to be table-like"))
    }
}

/// rtok's mark on a `storage` line it changed from the user's `"file"`.
const WAS_FILE: &str = "  # rtok: was \"file\"";

/// The text of a piece of decor (empty when there is none).
fn raw(raw: Option<&toml_edit::RawString>) -> &str {
    raw.and_then(toml_edit::RawString::as_str)
        .unwrap_or_default()
}

/// Whether a key's or value's decor holds a comment.
fn has_comment(decor: &toml_edit::Decor) -> bool {
    raw(decor.prefix()).contains('#') || raw(decor.suffix()).contains('#')
}

/// The name rtok writes for a registry: the URL without credentials, query
/// or fragment.
fn table_key(registry: &Url) -> String {
    let mut url = registry.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// The nerf dart of a table name, when it is a registry URL.
fn key_nerf(key: &str) -> Option<String> {
    registry_url(key).map(|url| nerf_dart(&url))
}

fn registry_url(key: &str) -> Option<Url> {
    Url::parse(key)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
}

#[cfg(test)]
fn set_keeping_decor(table: &mut Table, key: &str, text: &str) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(value) => replace_keeping_decor(value, text),
        None => {
            table.insert(key, toml_edit::value(text));
        }
    }
}

/// Replaces a value, keeping the spacing and comment around it.
fn replace_keeping_decor(value: &mut Value, text: &str) {
    let decor = value.decor().clone();
    *value = Value::from(text);
    *value.decor_mut() = decor;
}

/// `clients = ["npm", "pnpm", "yarn"]`: known names, each once.
fn clients(item: &Item) -> Result<Vec<Client>, String> {
    let wrong = || {
        "`clients` must be a list of client names, such as [\"npm\", \"pnpm\", \"yarn\"]"
            .to_string()
    };
    let array = item.as_array().ok_or_else(wrong)?;
    let mut clients = Vec::new();
    for value in array.iter() {
        let name = value.as_str().ok_or_else(wrong)?;
        let client = Client::parse(name).ok_or_else(|| {
            format!(
                "`clients`: \"{name}\" is not a client rtok knows (it knows npm, pnpm and yarn)"
            )
        })?;
        if !clients.contains(&client) {
            clients.push(client);
        }
    }
    Ok(clients)
}

/// Parses and checks the file's text.
fn parse(path: &Path, text: &str) -> Result<(DocumentMut, RtokConfig), Failure> {
    let shown = path.display();
    let bad = |message: String| Failure::new(message).hint(format!("fix or remove {shown}"));
    let document: DocumentMut = text.parse().map_err(|err: toml_edit::TomlError| {
        let line = err
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        let place = line.map(|l| format!(":{l}")).unwrap_or_default();
        let message = err.message().lines().next().unwrap_or("syntax error");
        bad(format!("{shown}{place} is not valid TOML: {message}"))
    })?;

    let mut config = RtokConfig::empty(path.to_path_buf());
    for (key, item) in document.iter() {
        match key {
            "storage" => {
                config.storage = item.as_str().and_then(Storage::parse).ok_or_else(|| {
                    bad(format!(
                        "{shown}: `storage` must be \"file\" or \"keyring\""
                    ))
                })?;
            }
            "clients" => {
                config.clients = Some(clients(item).map_err(|err| bad(format!("{shown}: {err}")))?);
            }
            "audit" => {
                config.audit =
                    audit_policy::from_table(item).map_err(|err| bad(format!("{shown}: {err}")))?;
                config.warnings.extend(config.audit.unknown.iter().map(|key| {
                    format!(
                        "{shown}: `audit.{key}` is not a setting rtok knows (it knows `unused-for`, `max-lifetime`, `fail-on`); ignored"
                    )
                }));
            }
            "registry" => {
                let table = item.as_table_like().ok_or_else(|| {
                    bad(format!(
                        "{shown}: `registry` must be a table of `[registry.\"<url>\"]` tables"
                    ))
                })?;
                for (name, entry) in table.iter() {
                    let settings =
                        registry_settings(name, entry, &shown.to_string()).map_err(&bad)?;
                    if let Some(other) = config.at(&settings.nerf) {
                        return Err(bad(format!(
                            "{shown}: `[registry.\"{}\"]` and `[registry.\"{name}\"]` name the same registry ({})",
                            other.key, settings.nerf
                        )));
                    }
                    config
                        .warnings
                        .extend(unknown_keys(name, entry, &shown.to_string()));
                    config.registries.push(settings);
                }
            }
            other => config.warnings.push(format!(
                "{shown}: rtok does not know the setting `{other}`; it is ignored"
            )),
        }
    }
    Ok((document, config))
}

/// One `[registry."<url>"]` table, checked.
fn registry_settings(name: &str, item: &Item, shown: &str) -> Result<RegistrySettings, String> {
    let place = format!("{shown}: `[registry.\"{name}\"]`");
    let url = registry_url(name).ok_or_else(|| {
        format!("{place}: `{name}` is not a registry URL (like `https://registry.npmjs.org/`)")
    })?;
    let table = item
        .as_table_like()
        .ok_or_else(|| format!("{place} must be a table"))?;
    let keyring = match table.get("storage") {
        None => false,
        Some(value) => match value.as_str().and_then(Storage::parse) {
            Some(storage) => storage == Storage::Keyring,
            None => {
                return Err(format!(
                    "{place}: `storage` must be \"keyring\" or \"file\""
                ));
            }
        },
    };
    let credential_command = match table.get("credential-command") {
        None => None,
        Some(value) => {
            let wrong = || {
                format!(
                    "{place}: `credential-command` must be a list of strings, the program first (like `[\"gh\", \"auth\", \"token\"]`)"
                )
            };
            let array = value.as_array().ok_or_else(wrong)?;
            let argv = array
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(wrong)?;
            if argv.first().is_none_or(|program| program.is_empty()) {
                return Err(wrong());
            }
            Some(argv)
        }
    };
    let provider = provider_preset(table, &place)?;
    if provider.is_some() && credential_command.is_some() {
        return Err(format!(
            "{place}: `provider` and `credential-command` cannot both be set; keep one"
        ));
    }
    let refreshed = match (
        table.get("refreshed-expires").and_then(Item::as_str),
        table.get("refreshed-fingerprint").and_then(Item::as_str),
    ) {
        (Some(expires), Some(fingerprint)) => Some(Refreshed {
            expires: expires.to_string(),
            fingerprint: fingerprint.to_string(),
            files: table
                .get("refreshed-files")
                .and_then(Item::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str())
                        .map(PathBuf::from)
                        .collect()
                })
                .unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(RegistrySettings {
        key: name.to_string(),
        nerf: nerf_dart(&url),
        url,
        keyring,
        credential_command,
        provider,
        refreshed,
    })
}

/// The keys a `[registry."<url>"]` table may hold.
const REGISTRY_KEYS: [&str; 10] = [
    "storage",
    "credential-command",
    "provider",
    "domain",
    "domain-owner",
    "region",
    "duration",
    "refreshed-expires",
    "refreshed-files",
    "refreshed-fingerprint",
];

/// `provider = "..."` and its settings, checked.
fn provider_preset(
    table: &dyn toml_edit::TableLike,
    place: &str,
) -> Result<Option<ProviderPreset>, String> {
    let text = |key: &str| -> Result<Option<String>, String> {
        match table.get(key) {
            None => Ok(None),
            Some(item) => match item.as_str() {
                Some(value) if !value.trim().is_empty() => Ok(Some(value.trim().to_string())),
                _ => Err(format!("{place}: `{key}` must be a non-empty string")),
            },
        }
    };
    let Some(name) = text("provider")? else {
        for key in ["domain", "domain-owner", "region", "duration"] {
            if table.get(key).is_some() {
                return Err(format!(
                    "{place}: `{key}` is a setting of `provider = \"codeartifact\"`, which is not set"
                ));
            }
        }
        return Ok(None);
    };
    let preset = match name.as_str() {
        "codeartifact" => {
            let domain = text("domain")?.ok_or_else(|| {
                format!("{place}: `provider = \"codeartifact\"` needs `domain` (the CodeArtifact domain)")
            })?;
            let duration = match text("duration")? {
                None => None,
                Some(value) => {
                    let duration = crate::time::parse_duration(&value)
                        .map_err(|err| format!("{place}: `duration`: {err}"))?;
                    // CodeArtifact accepts 15 minutes to 12 hours (0: the
                    // role session's own length).
                    if duration.as_secs() != 0 && !(900..=43_200).contains(&duration.as_secs()) {
                        return Err(format!(
                            "{place}: `duration` must be between 15m and 12h (CodeArtifact's limits)"
                        ));
                    }
                    Some(duration)
                }
            };
            ProviderPreset::CodeArtifact {
                domain,
                domain_owner: text("domain-owner")?,
                region: text("region")?,
                duration,
            }
        }
        "gcloud" => ProviderPreset::Gcloud,
        "azure" => ProviderPreset::Azure,
        "gh" => ProviderPreset::Gh,
        other => {
            return Err(format!(
                "{place}: `provider` must be \"codeartifact\", \"gcloud\", \"azure\" or \"gh\" (not `{other}`); any other tool: `credential-command`"
            ));
        }
    };
    if !matches!(preset, ProviderPreset::CodeArtifact { .. }) {
        for key in ["domain", "domain-owner", "region", "duration"] {
            if table.get(key).is_some() {
                return Err(format!(
                    "{place}: `{key}` is a setting of `provider = \"codeartifact\"`, not of `{name}`"
                ));
            }
        }
    }
    Ok(Some(preset))
}

fn unknown_keys(name: &str, item: &Item, shown: &str) -> Vec<String> {
    let Some(table) = item.as_table_like() else {
        return Vec::new();
    };
    table
        .iter()
        .map(|(key, _)| key)
        .filter(|key| !REGISTRY_KEYS.contains(key))
        .map(|key| {
            format!(
                "{shown}: rtok does not know the setting `{key}` of `[registry.\"{name}\"]`; it is ignored"
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URL")
    }

    fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = dir.path().join("config.toml");
        fs::write(&path, text).expect("write");
        path
    }

    const SAMPLE: &str = r#"# my settings
storage = "keyring"   # new logins go to the keyring

[registry."https://npm.pkg.github.com/"]
credential-command = ["gh", "auth", "token"]   # argv

# npmjs
[registry."https://registry.npmjs.org"]
storage = "keyring"
"#;

    #[test]
    fn the_path_follows_the_environment() {
        let home = Path::new("/home/u");
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            path(&env(&[("RTOK_CONFIG", "/etc/rtok.toml")]), Some(home)),
            Some(PathBuf::from("/etc/rtok.toml"))
        );
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            assert_eq!(
                path(&env(&[]), Some(home)),
                Some(PathBuf::from("/home/u/.config/rtok/config.toml"))
            );
            assert_eq!(
                path(&env(&[("XDG_CONFIG_HOME", "/x")]), Some(home)),
                Some(PathBuf::from("/x/rtok/config.toml"))
            );
            assert_eq!(
                path(&env(&[("XDG_CONFIG_HOME", "relative")]), Some(home)),
                Some(PathBuf::from("/home/u/.config/rtok/config.toml"))
            );
        }
    }

    #[test]
    fn a_missing_file_is_empty_settings() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = RtokConfig::load(&dir.path().join("none.toml")).expect("load");
        assert_eq!(config.storage(), Storage::File);
        assert!(config.registries().is_empty());
    }

    #[test]
    fn settings_are_read_and_matched_by_nerf_dart() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = RtokConfig::load(&write(&dir, SAMPLE)).expect("load");
        assert_eq!(config.storage(), Storage::Keyring);
        let gh = config
            .for_url(&url("https://npm.pkg.github.com/@acme%2fpkg"))
            .expect("github");
        assert_eq!(
            gh.credential_command.as_deref(),
            Some(&["gh".to_string(), "auth".into(), "token".into()][..])
        );
        assert!(!gh.keyring);
        // Written without a trailing slash, matched as npm matches it; the
        // scheme is not part of the key.
        let npmjs = config
            .for_url(&url("http://registry.npmjs.org/-/whoami"))
            .expect("npmjs");
        assert!(npmjs.keyring);
        assert_eq!(npmjs.nerf, "//registry.npmjs.org/");
        assert!(
            config
                .for_url(&url("https://registry.npmjs.com/"))
                .is_none()
        );
        assert_eq!(config.keyring_registries().count(), 1);
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    }

    #[test]
    fn the_longest_prefix_wins() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write(
            &dir,
            "[registry.\"https://r.example/\"]\nstorage = \"keyring\"\n[registry.\"https://r.example/npm/\"]\ncredential-command = [\"x\"]\n",
        );
        let config = RtokConfig::load(&path).expect("load");
        let deep = config
            .for_url(&url("https://r.example/npm/pkg"))
            .expect("deep");
        assert_eq!(deep.nerf, "//r.example/npm/");
        let shallow = config
            .for_url(&url("https://r.example/other/"))
            .expect("shallow");
        assert_eq!(shallow.nerf, "//r.example/");
    }

    #[test]
    fn the_clients_setting_lists_exactly_the_clients_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "clients = [\"yarn\", \"pnpm\", \"yarn\"]\n").expect("write");
        let config = RtokConfig::load(&path).expect("load");
        assert_eq!(config.clients(), Some(&[Client::Yarn, Client::Pnpm][..]));
        std::fs::write(&path, "clients = []\n").expect("write");
        assert_eq!(
            RtokConfig::load(&path).expect("load").clients(),
            Some(&[][..])
        );
        std::fs::write(&path, "storage = \"file\"\n").expect("write");
        assert_eq!(RtokConfig::load(&path).expect("load").clients(), None);
    }

    #[test]
    fn bad_input_is_one_error_naming_the_file_and_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        for (text, needle) in [
            ("storage = \n", "is not valid TOML"),
            ("a = 1\n[x\n", ":2 is not valid TOML"),
            ("storage = \"vault\"\n", "`storage` must be"),
            ("storage = true\n", "`storage` must be"),
            ("clients = \"npm\"\n", "`clients` must be a list"),
            ("clients = [\"npm\", 1]\n", "`clients` must be a list"),
            (
                "clients = [\"bun\"]\n",
                "\"bun\" is not a client rtok knows",
            ),
            ("registry = 1\n", "`registry` must be a table"),
            (
                "[registry.\"npmjs\"]\nstorage = \"keyring\"\n",
                "`npmjs` is not a registry URL",
            ),
            (
                "[registry.\"ftp://r/\"]\n",
                "`ftp://r/` is not a registry URL",
            ),
            (
                "[registry.\"https://r/\"]\nstorage = 1\n",
                "[registry.\"https://r/\"]`: `storage`",
            ),
            (
                "[registry.\"https://r/\"]\ncredential-command = \"gh auth token\"\n",
                "`credential-command` must be a list",
            ),
            (
                "[registry.\"https://r/\"]\ncredential-command = []\n",
                "`credential-command` must be a list",
            ),
            (
                "[registry.\"https://r/\"]\ncredential-command = [\"gh\", 1]\n",
                "`credential-command` must be a list",
            ),
            (
                "[registry.\"https://r/\"]\n[registry.\"http://r\"]\n",
                "name the same registry (//r/)",
            ),
        ] {
            let path = write(&dir, text);
            let err = RtokConfig::load(&path).expect_err(text);
            let message = crate::diagnostics::message(&err);
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains(needle), "{text:?}: {message}");
            assert!(!message.contains('\n'), "{message}");
            assert_eq!(crate::diagnostics::exit_code(&err), 1);
            // An edit of a bad file fails the same way and writes nothing.
            let edited = edit(&path, |e| {
                e.set_storage(Storage::Keyring);
                Ok(())
            });
            assert!(edited.is_err());
            assert_eq!(fs::read_to_string(&path).expect("read"), text);
        }
    }

    #[test]
    fn providers_are_read_and_checked() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write(
            &dir,
            "[registry.\"https://acme-123456789012.d.codeartifact.us-east-1.amazonaws.com/npm/repo/\"]\nprovider = \"codeartifact\"\ndomain = \"acme\"\ndomain-owner = \"123456789012\"\nregion = \"us-east-1\"\nduration = \"2h\"\n\n[registry.\"https://npm.pkg.github.com/\"]\nprovider = \"gh\"\n",
        );
        let config = RtokConfig::load(&path).expect("load");
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
        assert_eq!(
            config.registries()[0].provider,
            Some(ProviderPreset::CodeArtifact {
                domain: "acme".into(),
                domain_owner: Some("123456789012".into()),
                region: Some("us-east-1".into()),
                duration: Some(std::time::Duration::from_secs(7200)),
            })
        );
        assert_eq!(config.registries()[1].provider, Some(ProviderPreset::Gh));
        for (text, needle) in [
            ("provider = \"jfrog\"\n", "`provider` must be"),
            ("provider = \"codeartifact\"\n", "needs `domain`"),
            (
                "provider = \"codeartifact\"\ndomain = \"d\"\nduration = \"5m\"\n",
                "between 15m and 12h",
            ),
            (
                "provider = \"codeartifact\"\ndomain = \"d\"\nduration = \"soon\"\n",
                "`duration`",
            ),
            ("provider = \"gh\"\ndomain = \"d\"\n", "not of `gh`"),
            ("domain = \"d\"\n", "which is not set"),
            (
                "provider = \"gh\"\ncredential-command = [\"x\"]\n",
                "cannot both be set",
            ),
        ] {
            let path = write(&dir, &format!("[registry.\"https://r.example/\"]\n{text}"));
            let err = RtokConfig::load(&path).expect_err(text);
            let message = crate::diagnostics::message(&err);
            assert!(message.contains(needle), "{text:?}: {message}");
        }
    }

    #[test]
    fn refresh_records_keep_the_rest_of_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = "# mine\n[registry.\"https://npm.pkg.github.com/\"]\nprovider = \"gh\"   # the gh CLI\n\n[audit]\nfail-on = \"warning\"\n";
        let path = write(&dir, text);
        let record = Refreshed {
            expires: "2027-01-01T00:00:00.000Z".into(),
            files: vec![PathBuf::from("/home/u/.npmrc")],
            fingerprint: "abcdef012345".into(),
        };
        let recorded = edit(&path, |e| {
            Ok(e.record_refresh("//npm.pkg.github.com/", &record))
        });
        assert!(recorded.expect("record"));
        let after = fs::read_to_string(&path).expect("read");
        assert!(after.starts_with("# mine\n[registry.\"https://npm.pkg.github.com/\"]\nprovider = \"gh\"   # the gh CLI\n"), "{after}");
        assert!(
            after.ends_with("[audit]\nfail-on = \"warning\"\n"),
            "{after}"
        );
        let config = RtokConfig::load(&path).expect("load");
        assert_eq!(config.registries()[0].refreshed.as_ref(), Some(&record));
        // Recording again replaces the values in place.
        let later = Refreshed {
            expires: "2027-01-02T00:00:00.000Z".into(),
            ..record
        };
        let recorded = edit(&path, |e| {
            Ok(e.record_refresh("//npm.pkg.github.com/", &later))
        });
        assert!(recorded.expect("record"));
        let again = fs::read_to_string(&path).expect("read");
        assert_eq!(again, after.replace("2027-01-01", "2027-01-02"));
        let recorded = edit(&path, |e| Ok(e.record_refresh("//other/", &later)));
        assert!(!recorded.expect("none"));
    }

    #[test]
    fn unknown_keys_are_warnings() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write(
            &dir,
            "colour = 1\n[registry.\"https://r/\"]\ntoken = \"x\"\n",
        );
        let config = RtokConfig::load(&path).expect("load");
        assert_eq!(config.warnings.len(), 2, "{:?}", config.warnings);
        assert!(config.warnings[0].contains("`colour`"));
        assert!(config.warnings[1].contains("`token`"));
    }

    #[test]
    fn edits_keep_comments_and_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write(&dir, SAMPLE);
        edit(&path, |e| {
            e.set_storage(Storage::File);
            e.record_keyring(&url("https://npm.pkg.github.com"));
            e.record_keyring(&url("http://127.0.0.1:4873/"));
            Ok(())
        })
        .expect("edit");
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            r#"# my settings
storage = "file"   # new logins go to the keyring

[registry."https://npm.pkg.github.com/"]
credential-command = ["gh", "auth", "token"]   # argv
storage = "keyring"

# npmjs
[registry."https://registry.npmjs.org"]
storage = "keyring"

[registry."http://127.0.0.1:4873/"]
storage = "keyring"
"#
        );
        let config = RtokConfig::load(&path).expect("load");
        assert_eq!(config.keyring_registries().count(), 3);

        // Forgetting them restores the file (the new table goes whole).
        edit(&path, |e| {
            e.set_storage(Storage::Keyring);
            assert!(e.forget_keyring("//npm.pkg.github.com/"));
            assert!(e.forget_keyring("//127.0.0.1:4873/"));
            assert!(!e.forget_keyring("//127.0.0.1:4873/"));
            Ok(())
        })
        .expect("edit");
        assert_eq!(fs::read_to_string(&path).expect("read"), SAMPLE);
    }

    #[test]
    fn a_new_file_is_private() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("rtok/config.toml");
        edit(&path, |e| {
            e.record_keyring(&url("https://user:pw@registry.npmjs.org/?x=1"));
            Ok(())
        })
        .expect("edit");
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "[registry.\"https://registry.npmjs.org/\"]\nstorage = \"keyring\"\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // Forgetting the last record leaves an empty file.
        edit(&path, |e| Ok(e.forget_keyring("//registry.npmjs.org/"))).expect("edit");
        assert_eq!(fs::read_to_string(&path).expect("read"), "");
        // An edit that changes nothing creates nothing.
        let other = dir.path().join("other/config.toml");
        edit(&other, |e| Ok(e.forget_keyring("//x/"))).expect("edit");
        assert!(!other.exists());
    }

    /// A keyring record added and forgotten again, as `keyring import` and
    /// `keyring export` do: the file must come back byte for byte.
    fn round_trip(text: &str, registry: &str) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write(&dir, text);
        edit(&path, |e| {
            e.record_keyring(&url(registry));
            Ok(())
        })
        .expect("record");
        let recorded = fs::read_to_string(&path).expect("read");
        assert!(
            RtokConfig::load(&path)
                .expect("load")
                .keyring_registries()
                .count()
                > 0
        );
        let forgot = edit(&path, |e| Ok(e.forget_keyring(&nerf_dart(&url(registry)))));
        assert!(forgot.expect("forget"));
        let back = fs::read_to_string(&path).expect("read");
        assert_ne!(recorded, back);
        back
    }

    #[test]
    fn a_crlf_file_keeps_crlf() {
        let text = "storage = \"file\"\r\n# crlf comment\r\n[registry.\"https://a.example/\"]\r\ncredential-command = [\"x\"]\r\n";
        assert_eq!(round_trip(text, "http://127.0.0.1:18161/"), text);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write(&dir, text);
        edit(&path, |e| {
            e.record_keyring(&url("http://127.0.0.1:18161/"));
            Ok(())
        })
        .expect("edit");
        let recorded = fs::read_to_string(&path).expect("read");
        assert!(
            recorded.contains("storage = \"keyring\"\r\n"),
            "{recorded:?}"
        );
        assert!(!recorded.replace("\r\n", "").contains('\n'), "{recorded:?}");
    }

    #[test]
    fn the_users_own_storage_line_and_table_come_back() {
        for text in [
            // With comments of the user's own.
            "[registry.\"http://127.0.0.1:18161\"]\n# keep this note\nstorage = \"file\"   # was file\n",
            // Without any: rtok marks the line it changed.
            "[registry.\"http://127.0.0.1:18161\"]\nstorage = \"file\"\n",
            "storage = \"keyring\"\n\n[registry.\"http://127.0.0.1:18161\"]\nstorage = \"file\"\ncredential-command = [\"x\"]\n",
        ] {
            assert_eq!(round_trip(text, "http://127.0.0.1:18161/"), text);
        }
    }

    #[test]
    fn removing_rtoks_table_keeps_the_comments_above_it() {
        // The comment above the first table belongs to the file (or to the
        // tables after it), not to the table rtok removes.
        for text in [
            "# machine settings\n\n[registry.\"https://a.example/\"]\nstorage = \"keyring\"\n\n[registry.\"https://b.example/\"]\ncredential-command = [\"x\"]\n",
            "# machine settings\n[registry.\"https://a.example/\"]\nstorage = \"keyring\"\n",
            "# machine settings\n[registry.\"https://a.example/\"]\nstorage = \"keyring\"\n\n# audit\n[audit]\nfail-on = \"warning\"\n",
        ] {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = write(&dir, text);
            let forgot = edit(&path, |e| Ok(e.forget_keyring("//a.example/")));
            assert!(forgot.expect("forget"));
            let after = fs::read_to_string(&path).expect("read");
            assert!(after.starts_with("# machine settings\n"), "{after:?}");
            assert!(!after.contains("a.example"), "{after:?}");
            for line in text
                .lines()
                .filter(|l| !l.contains("a.example") && !l.contains("keyring"))
            {
                assert!(after.contains(line), "lost {line:?}: {after:?}");
            }
            RtokConfig::load(&path).expect("still valid");
        }
    }

    #[test]
    fn an_inline_registry_table_is_edited_inline() {
        let text = "storage = \"file\"\nregistry = { \"https://npm.example.com/\" = { credential-command = [\"gh\", \"auth\", \"token\"] } }\n";
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write(&dir, text);
        edit(&path, |e| {
            e.record_keyring(&url("http://127.0.0.1:18042/"));
            e.record_keyring(&url("https://npm.example.com/"));
            Ok(())
        })
        .expect("record");
        let config = RtokConfig::load(&path).expect("load");
        assert_eq!(config.keyring_registries().count(), 2);
        assert_eq!(config.storage(), Storage::File);
        let command = config
            .at("//npm.example.com/")
            .and_then(|r| r.credential_command.clone());
        assert_eq!(command.map(|c| c.len()), Some(3));
        edit(&path, |e| {
            assert!(e.forget_keyring("//127.0.0.1:18042/"));
            assert!(e.forget_keyring("//npm.example.com/"));
            Ok(())
        })
        .expect("forget");
        assert_eq!(fs::read_to_string(&path).expect("read"), text);
    }
}
