//! The credential settings of one `.yarnrc.yml`, and which of them yarn
//! berry uses for a registry and scope (clients-2026.md §1.6,
//! `getAuthConfiguration` in berry's `npmConfigUtils.ts`).

use std::path::{Path, PathBuf};

use super::tree::{self, Node};
use super::{Error, Value};
use crate::secret::Secret;

/// Where a setting sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// At the top level: yarn's fallback for any registry.
    TopLevel,
    /// Under `npmRegistries`, keyed by the URL as the file spells it (with
    /// or without scheme and trailing slash).
    Registry(String),
    /// Under `npmScopes`, keyed by the scope name without `@`.
    Scope(String),
}

/// The settings rtok reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    /// `npmAuthToken`, sent as `Bearer`.
    AuthToken,
    /// `npmAuthIdent`: `user:password`, or already base64, sent as `Basic`.
    AuthIdent,
    /// `npmAlwaysAuth`.
    AlwaysAuth,
    /// `npmRegistryServer` (top level or a scope's).
    RegistryServer,
}

impl Field {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Field::AuthToken => "npmAuthToken",
            Field::AuthIdent => "npmAuthIdent",
            Field::AlwaysAuth => "npmAlwaysAuth",
            Field::RegistryServer => "npmRegistryServer",
        }
    }

    fn from_key(key: &str) -> Option<Field> {
        [
            Field::AuthToken,
            Field::AuthIdent,
            Field::AlwaysAuth,
            Field::RegistryServer,
        ]
        .into_iter()
        .find(|field| field.key() == key)
    }
}

/// One credential setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub place: Place,
    pub field: Field,
    /// 1-based line of the value (of the key when the value is empty).
    pub line: usize,
    pub value: Value,
    /// The string as written (escapes and `${…}` unresolved), for
    /// `yarnrc::resolve` in an environment.
    pub raw: Secret,
}

/// The settings yarn takes a registry's credential from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Auth<'a> {
    pub place: Place,
    /// yarn sends the token when there is one, else the ident.
    pub token: Option<&'a Entry>,
    pub ident: Option<&'a Entry>,
}

/// A `.yarnrc.yml`'s credential settings, in file order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Yarnrc {
    entries: Vec<Entry>,
}

/// A file that could not be read, in one line: `<path>: line N: …`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub(crate) struct FileError {
    pub path: PathBuf,
    pub source: Error,
}

/// Reads `path`; a missing file is `None` (yarn reads it as no settings).
/// Only a regular file is read (`private_file::read_regular`): a folder or
/// a FIFO is an error, never a hang.
pub(crate) fn read_file(path: &Path) -> anyhow::Result<Option<Yarnrc>> {
    let Some(bytes) = crate::private_file::read_regular(path)? else {
        return Ok(None);
    };
    let located = |source| FileError {
        path: path.to_path_buf(),
        source,
    };
    let text = String::from_utf8(bytes).map_err(|_| located(Error::NotUtf8))?;
    Ok(Some(Yarnrc::parse(&text).map_err(located)?))
}

impl Yarnrc {
    pub(crate) fn parse(text: &str) -> Result<Yarnrc, Error> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut entries = Vec::new();
        let Some(root) = tree::parse(text)? else {
            return Ok(Yarnrc { entries });
        };
        let Some(map) = root.map() else {
            if root.is_null() {
                return Ok(Yarnrc { entries });
            }
            return Err(Error::NotAMap {
                line: root.start.line,
            });
        };
        for (key, value) in &map.entries {
            let Some((key_text, _)) = key.scalar() else {
                continue;
            };
            let section = match key_text {
                "npmRegistries" => Place::Registry,
                "npmScopes" => Place::Scope,
                _ => {
                    push(&mut entries, Place::TopLevel, key, value);
                    continue;
                }
            };
            for (name, settings) in value.map().map(|m| m.entries.as_slice()).unwrap_or(&[]) {
                let Some((name_text, _)) = name.scalar() else {
                    continue;
                };
                for (key, value) in settings.map().map(|m| m.entries.as_slice()).unwrap_or(&[]) {
                    push(&mut entries, section(name_text.to_string()), key, value);
                }
            }
        }
        Ok(Yarnrc { entries })
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Settings merged from several files (or the environment) by the
    /// caller, in the order yarn would list them, asked as one file.
    pub(crate) fn from_entries(entries: Vec<Entry>) -> Yarnrc {
        Yarnrc { entries }
    }

    /// The settings yarn berry takes the credential for `registry` (and the
    /// package's `scope`, with or without `@`) from: the scope's entry if it
    /// holds a token or an ident; else the `npmRegistries` entry naming the
    /// registry, even one without a credential; else the top level. Only
    /// this file is consulted; yarn merges every `.yarnrc.yml` from the
    /// working folder up and the home one, nearer files first, and
    /// `YARN_NPM_AUTH_TOKEN` replaces only the top-level token.
    ///
    /// A value that yarn would find empty (a literal `""`, or a reference
    /// that resolves to nothing) does not count for a scope in yarn; rtok
    /// can tell only the literal case without the environment.
    pub(crate) fn auth_for(&self, registry: &str, scope: Option<&str>) -> Auth<'_> {
        if let Some(scope) = scope {
            let place = Place::Scope(scope.trim_start_matches('@').to_string());
            let auth = self.auth_at(place);
            let counts = |entry: Option<&Entry>| {
                entry.is_some_and(|e| !matches!(&e.value, Value::Literal(v) if v.is_empty()))
            };
            if counts(auth.token) || counts(auth.ident) {
                return auth;
            }
        }
        let keys = self.registry_keys();
        match registry_key(&keys, registry) {
            Some(index) => self.auth_at(Place::Registry(keys[index].to_string())),
            None => self.auth_at(Place::TopLevel),
        }
    }

    fn auth_at(&self, place: Place) -> Auth<'_> {
        Auth {
            token: self.find(&place, Field::AuthToken),
            ident: self.find(&place, Field::AuthIdent),
            place,
        }
    }

    fn find(&self, place: &Place, field: Field) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|entry| entry.place == *place && entry.field == field)
    }

    fn registry_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for entry in &self.entries {
            if let Place::Registry(key) = &entry.place
                && !keys.contains(&key.as_str())
            {
                keys.push(key);
            }
        }
        keys
    }
}

fn push(entries: &mut Vec<Entry>, place: Place, key: &Node, value: &Node) {
    let Some(field) = key.scalar().and_then(|(text, _)| Field::from_key(text)) else {
        return;
    };
    let (line, value, raw) = match value.scalar() {
        Some(_) if value.is_nothing() => (
            key.start.line,
            Value::Literal(Secret::new("")),
            Secret::new(""),
        ),
        Some((text, _)) => (value.start.line, Value::classify(text), Secret::new(text)),
        None => (value.start.line, Value::Malformed, Secret::new("")),
    };
    entries.push(Entry {
        place,
        field,
        line,
        value,
        raw,
    });
}

/// yarn drops one trailing `/` from registry URLs and from the keys of
/// `npmRegistries`.
fn normalise(url: &str) -> &str {
    url.strip_suffix('/').unwrap_or(url)
}

/// `url` without its `scheme:`, as berry's `/^[a-z]+:/` strips it.
fn without_scheme(url: &str) -> &str {
    match url.find(':') {
        Some(colon) if colon > 0 && url[..colon].bytes().all(|b| b.is_ascii_lowercase()) => {
            &url[colon + 1..]
        }
        _ => url,
    }
}

/// Which of `keys` (an `npmRegistries` map's, in file order) yarn uses for
/// `registry`: the normalised URL, else the URL without its scheme; of keys
/// that normalise alike, the last (a later map key replaces an earlier one).
pub(super) fn registry_key(keys: &[&str], registry: &str) -> Option<usize> {
    let exact = normalise(registry);
    let bare = without_scheme(exact);
    let last = |wanted: &str| keys.iter().rposition(|key| normalise(key) == wanted);
    last(exact).or_else(|| last(bare))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    const DOC_EXAMPLE: &str = "npmRegistries:\n  \"http://127.0.0.1:48731\":\n    npmAuthToken: npm_reg\n\nnpmScopes:\n  foo:\n    npmAlwaysAuth: true\n    npmAuthToken: npm_foo\n";

    fn literal(text: &str) -> Value {
        Value::Literal(Secret::new(text))
    }

    #[test]
    fn reads_every_credential_with_its_line() {
        let text = "# top\nnpmRegistryServer: \"https://r.example/\"\nnpmAuthToken: ${NPM_TOKEN:-}\nnpmAuthIdent: 'u:p'\nnodeLinker: node-modules\nnpmRegistries:\n  //r.example/npm/:\n    npmAuthIdent: ${IDENT}\n    npmAlwaysAuth: true\n  \"https://other.example\": {npmAuthToken: ot}\nnpmScopes:\n  corp:\n    npmRegistryServer: https://r.example/npm\n    npmAuthToken:\n";
        let yarnrc = Yarnrc::parse(text).expect("parses");
        let summary: Vec<_> = yarnrc
            .entries()
            .iter()
            .map(|e| (e.place.clone(), e.field, e.line))
            .collect();
        use Field::*;
        let registry = |key: &str| Place::Registry(key.to_string());
        let scope = Place::Scope("corp".to_string());
        assert_eq!(
            summary,
            vec![
                (Place::TopLevel, RegistryServer, 2),
                (Place::TopLevel, AuthToken, 3),
                (Place::TopLevel, AuthIdent, 4),
                (registry("//r.example/npm/"), AuthIdent, 8),
                (registry("//r.example/npm/"), AlwaysAuth, 9),
                (registry("https://other.example"), AuthToken, 10),
                (scope.clone(), RegistryServer, 13),
                (scope, AuthToken, 14),
            ]
        );
        let values: Vec<_> = yarnrc.entries().iter().map(|e| e.value.clone()).collect();
        assert_eq!(values[0], literal("https://r.example/"));
        assert!(matches!(&values[1], Value::Reference(v) if v[0].name == "NPM_TOKEN"));
        assert_eq!(values[2], literal("u:p"));
        assert!(matches!(&values[3], Value::Reference(v) if v[0].fallback.is_none()));
        assert_eq!(values[5], literal("ot"));
        assert_eq!(values[7], literal(""));
    }

    #[test]
    fn empty_files_and_other_settings_hold_no_credential() {
        for text in [
            "",
            "\n",
            "# just a comment\n",
            "nodeLinker: node-modules\n",
            "~\n",
        ] {
            assert!(
                Yarnrc::parse(text).expect("parses").entries().is_empty(),
                "{text:?}"
            );
        }
        assert_eq!(
            Yarnrc::parse("- a\n").map(|_| ()),
            Err(Error::NotAMap { line: 1 })
        );
    }

    #[test]
    fn yarns_precedence_scope_then_registry_then_top_level() {
        let yarnrc = Yarnrc::parse(&format!("npmAuthToken: top\n{DOC_EXAMPLE}")).expect("parses");
        let token = |registry: &str, scope: Option<&str>| {
            let auth = yarnrc.auth_for(registry, scope);
            (auth.place, auth.token.map(|e| e.line))
        };
        let registry = Place::Registry("http://127.0.0.1:48731".to_string());
        assert_eq!(
            token("http://127.0.0.1:48731/", None),
            (registry.clone(), Some(4))
        );
        assert_eq!(
            token("http://127.0.0.1:48731", Some("@bar")),
            (registry, Some(4))
        );
        assert_eq!(
            token("http://127.0.0.1:48731/", Some("@foo")),
            (Place::Scope("foo".to_string()), Some(9))
        );
        assert_eq!(
            token("https://registry.yarnpkg.com", None),
            (Place::TopLevel, Some(1))
        );
    }

    #[test]
    fn a_registry_entry_without_a_token_still_hides_the_top_level_one() {
        let yarnrc = Yarnrc::parse(
            "npmAuthToken: top\nnpmRegistries:\n  //r.example:\n    npmAlwaysAuth: true\n",
        )
        .expect("parses");
        let auth = yarnrc.auth_for("https://r.example/", None);
        assert_eq!(auth.place, Place::Registry("//r.example".to_string()));
        assert!(auth.token.is_none());
    }

    #[test]
    fn registry_keys_match_with_or_without_scheme_and_slash_exact_first() {
        let keys = ["//h/npm", "https://h/npm/", "http://h/npm"];
        assert_eq!(registry_key(&keys, "https://h/npm"), Some(1));
        assert_eq!(registry_key(&keys, "https://h/npm/"), Some(1));
        assert_eq!(registry_key(&keys, "http://h/npm/"), Some(2));
        assert_eq!(registry_key(&keys[..1], "https://h/npm/"), Some(0));
        assert_eq!(registry_key(&keys, "https://h/other"), None);
        assert_eq!(
            registry_key(&["https://h", "https://h/"], "https://h"),
            Some(1)
        );
    }

    #[test]
    fn a_scope_with_an_empty_token_falls_through() {
        let yarnrc = Yarnrc::parse("npmScopes:\n  s:\n    npmAuthToken: \"\"\nnpmAuthToken: t\n")
            .expect("parses");
        assert_eq!(
            yarnrc.auth_for("https://r", Some("s")).place,
            Place::TopLevel
        );
    }

    #[test]
    fn read_file_names_the_file_and_line_and_takes_a_missing_file_as_empty() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(".yarnrc.yml");
        assert!(read_file(&path).expect("missing is fine").is_none());
        std::fs::write(&path, "npmAuthToken: npm_secret\nnpmScopes: [\n").expect("write");
        let message = read_file(&path).expect_err("invalid").to_string();
        assert!(
            message.starts_with(&format!("{}: line ", path.display())),
            "{message}"
        );
        assert!(message.contains("invalid YAML"), "{message}");
        assert!(
            !message.contains('\n') && !message.contains("npm_secret"),
            "{message}"
        );
    }
}
