//! Where a `.yarnrc.yml` would send an environment variable's value: every
//! scalar of the file (key or value, anywhere, not only credential
//! settings) that refers to `${NAME}`, with its line in the tree and the
//! registry yarn gives it to. `rtok exec` asks this before it sets
//! `YARN_NPM_AUTH_TOKEN` or `NODE_AUTH_TOKEN` for a child.

use std::path::Path;

use url::Url;

use super::Value;
use super::read::Field;
use super::tree::{self, Kind, Node};

/// yarn's registry when `npmRegistryServer` is not set.
pub(crate) const DEFAULT_REGISTRY: &str = "https://registry.yarnpkg.com";

/// One scalar that refers to the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VarUse {
    /// 1-based line where the scalar starts.
    pub line: usize,
    /// The registry the value is given to as its credential (a full URL
    /// ending in `/`); `None` when it is not a registry's credential, or
    /// the registry is not a plain URL rtok can name.
    pub registry: Option<Url>,
}

/// The uses of `${name}` in the file at `path`; a missing file has none.
/// Read as every other file rtok reads (`private_file::read_regular`): a
/// folder or a FIFO is an error, never a hang. Bytes that are not UTF-8
/// are read as replacement characters, so a reference elsewhere still
/// counts.
pub(crate) fn references_in_file(path: &Path, name: &str) -> anyhow::Result<Vec<VarUse>> {
    let Some(bytes) = crate::private_file::read_regular(path)? else {
        return Ok(Vec::new());
    };
    Ok(references_to(&String::from_utf8_lossy(&bytes), name))
}

/// Every use of `${name}` (`${NAME}`, `${NAME:-x}`, `${NAME-x}`, nested in
/// a default) in a `.yarnrc.yml`'s text. A value gives it to a registry
/// only as `npmAuthToken`/`npmAuthIdent`: at the top level to the top
/// `npmRegistryServer` (yarn's default when unset); under
/// `npmScopes.<scope>` to that scope's `npmRegistryServer`, else the top
/// one; under `npmRegistries.<url>` to that URL. A key, any other setting
/// and a registry named through a variable give it to none. Text yarn
/// cannot parse, but that mentions the variable, is one use for no
/// registry, on the first line that mentions it.
pub(crate) fn references_to(text: &str, name: &str) -> Vec<VarUse> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = match tree::parse(text) {
        Ok(Some(root)) => root,
        Ok(None) => return Vec::new(),
        Err(_) => return unparsed(text, name).into_iter().collect(),
    };
    let top_server = root
        .map()
        .map_or(Server::Default, |map| server(map_get(map)));
    let mut walk = Walk {
        name,
        root: &root,
        top_server: top_server.url(),
        uses: Vec::new(),
    };
    walk.node(&root, &mut Vec::new());
    walk.uses
}

/// What a `npmRegistryServer` setting says.
enum Server {
    /// Not set: yarn's default.
    Default,
    /// A URL written out.
    Url(String),
    /// A reference, a map, a list: no registry rtok can name.
    Unknown,
}

impl Server {
    fn url(&self) -> Option<Url> {
        match self {
            Server::Default => registry_url(DEFAULT_REGISTRY),
            Server::Url(text) => registry_url(text),
            Server::Unknown => None,
        }
    }
}

fn map_get(map: &tree::Map) -> Option<&Node> {
    map.get(Field::RegistryServer.key()).map(|(_, node)| node)
}

fn server(node: Option<&Node>) -> Server {
    let Some(node) = node else {
        return Server::Default;
    };
    match node.scalar().map(|(text, _)| Value::classify(text)) {
        Some(Value::Literal(url)) if !node.is_null() => Server::Url(url.expose().to_string()),
        _ => Server::Unknown,
    }
}

struct Walk<'a> {
    name: &'a str,
    root: &'a Node,
    top_server: Option<Url>,
    uses: Vec<VarUse>,
}

impl<'a> Walk<'a> {
    /// Visits `node`, whose keys from the top are `path` (`None` for a key
    /// that is not a scalar, or a list item).
    fn node(&mut self, node: &'a Node, path: &mut Vec<Option<&'a str>>) {
        match &node.kind {
            Kind::Scalar { text, .. } => {
                if refers(text, self.name) {
                    let registry = self.registry_at(path);
                    self.uses.push(VarUse {
                        line: node.start.line,
                        registry,
                    });
                }
            }
            Kind::Map(map) => {
                for (key, value) in &map.entries {
                    // A key is never a credential: a reference in one goes
                    // to no registry.
                    self.node_without_registry(key);
                    path.push(key.scalar().map(|(text, _)| text));
                    self.node(value, path);
                    path.pop();
                }
            }
            Kind::Sequence(items) => {
                for item in items {
                    path.push(None);
                    self.node(item, path);
                    path.pop();
                }
            }
            Kind::Other => {}
        }
    }

    fn node_without_registry(&mut self, node: &'a Node) {
        // A path no credential can sit at.
        let mut path = vec![None];
        self.node(node, &mut path);
    }

    /// The registry a value at `path` is given to.
    fn registry_at(&self, path: &[Option<&str>]) -> Option<Url> {
        let is_auth =
            |field: &str| field == Field::AuthToken.key() || field == Field::AuthIdent.key();
        match path {
            [Some(field)] if is_auth(field) => self.top_server.clone(),
            [Some("npmScopes"), Some(scope), Some(field)] if is_auth(field) => {
                let settings = self
                    .root
                    .map()?
                    .get("npmScopes")?
                    .1
                    .map()?
                    .get(scope)?
                    .1
                    .map()?;
                match map_get(settings) {
                    None => self.top_server.clone(),
                    found => server(found).url(),
                }
            }
            [Some("npmRegistries"), Some(url), Some(field)] if is_auth(field) => {
                match Value::classify(url) {
                    Value::Literal(url) => registry_url(url.expose()),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// Whether a scalar refers to `${name}`, as yarn's interpolation reads it;
/// a scalar yarn cannot read counts when it mentions the name at all.
fn refers(text: &str, name: &str) -> bool {
    match Value::classify(text) {
        Value::Reference(variables) => variables.iter().any(|v| v.name == name),
        Value::Literal(_) => false,
        Value::Malformed => mentions(text, name),
    }
}

/// Whether `text` holds `${name}`, `${name:…` or `${name-…`, read as plain
/// text: for what yarn's interpolation or its YAML parser cannot read, so
/// rtok errs on the side of "it refers".
fn mentions(text: &str, name: &str) -> bool {
    let needle = format!("${{{name}");
    text.match_indices(&needle).any(|(at, _)| {
        matches!(
            text[at + needle.len()..].chars().next(),
            Some('}' | ':' | '-')
        )
    })
}

/// Text that does not parse: one use for no registry, on the first line
/// that mentions the name.
fn unparsed(text: &str, name: &str) -> Option<VarUse> {
    if !mentions(text, name) {
        return None;
    }
    let line = tree::split_lines(text)
        .position(|(line, _)| mentions(line, name))
        .map_or(1, |index| index + 1);
    Some(VarUse {
        line,
        registry: None,
    })
}

/// A registry as yarn spells it (`https://host/path`, or `//host/path`,
/// which yarn matches with either scheme) as a URL ending in `/`.
fn registry_url(server: &str) -> Option<Url> {
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
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses(text: &str) -> Vec<(usize, Option<String>)> {
        references_to(text, "NODE_AUTH_TOKEN")
            .into_iter()
            .map(|u| (u.line, u.registry.map(String::from)))
            .collect()
    }

    fn registries(text: &str) -> Vec<Option<String>> {
        uses(text)
            .into_iter()
            .map(|(_, registry)| registry)
            .collect()
    }

    fn some(url: &str) -> Option<String> {
        Some(url.to_string())
    }

    #[test]
    fn yarn_references_name_their_registry() {
        assert_eq!(
            registries(
                "npmRegistries:\n  \"//npm.pkg.github.com\":\n    npmAuthToken: \"${NODE_AUTH_TOKEN}\"\n"
            ),
            [some("https://npm.pkg.github.com/")]
        );
        assert_eq!(
            registries(
                "npmRegistryServer: https://a.example/npm\nnpmAuthToken: ${NODE_AUTH_TOKEN}\nnpmScopes:\n  acme:\n    npmRegistryServer: http://127.0.0.1:8/\n    npmAuthToken: ${NODE_AUTH_TOKEN:-x}\n"
            ),
            [some("https://a.example/npm/"), some("http://127.0.0.1:8/")]
        );
        assert_eq!(
            registries("npmAuthToken: ${NODE_AUTH_TOKEN}\n"),
            [some("https://registry.yarnpkg.com/")]
        );
        // A scope without its own server uses the top one; a default that
        // holds the reference counts too.
        assert_eq!(
            registries(
                "npmScopes:\n  s:\n    npmAuthIdent: \"${A:-${NODE_AUTH_TOKEN}}\"\nnpmRegistryServer: \"https://t.example\"\n"
            ),
            [some("https://t.example/")]
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
        assert!(
            registries("npmAuthToken: \\${NODE_AUTH_TOKEN\\}\n").is_empty(),
            "escaped, so a literal"
        );
        assert_eq!(uses("a: 1\nunknown: ${NODE_AUTH_TOKEN}\n"), [(2, None)]);
    }

    #[test]
    fn a_reference_under_an_unrelated_key_names_no_registry() {
        assert_eq!(
            uses(
                "npmRegistryServer: https://r.example/\nhttpProxy: \"http://${NODE_AUTH_TOKEN}@proxy.example\"\n"
            ),
            [(2, None)]
        );
        // In a key, in a list, or as the credential of a registry named
        // through the variable itself or through another one.
        assert_eq!(
            uses(
                "npmRegistries:\n  \"https://${NODE_AUTH_TOKEN}.example\":\n    npmAuthToken: ${NODE_AUTH_TOKEN}\n  \"https://${HOST}\":\n    npmAuthToken: ${NODE_AUTH_TOKEN}\nunsafeHttpWhitelist:\n  - ok.example\n  - \"${NODE_AUTH_TOKEN}\"\nnpmScopes:\n  s:\n    npmRegistryServer: \"${HOST}\"\n    npmAuthToken: ${NODE_AUTH_TOKEN}\n"
            ),
            [(2, None), (3, None), (5, None), (8, None), (12, None)]
        );
    }

    #[test]
    fn the_line_is_exact_when_the_same_value_appears_twice() {
        assert_eq!(
            uses(
                "npmScopes:\n  a:\n    npmRegistryServer: https://a.example/\n    npmAuthToken: ${NODE_AUTH_TOKEN}\n  b:\n    npmRegistryServer: https://b.example/\n    npmAuthToken: ${NODE_AUTH_TOKEN}\n"
            ),
            [
                (4, some("https://a.example/")),
                (7, some("https://b.example/"))
            ]
        );
        // The same text in a comment above is not a use.
        assert_eq!(
            uses("# npmAuthToken: ${NODE_AUTH_TOKEN}\nnpmAuthToken: ${NODE_AUTH_TOKEN}\n"),
            [(2, some("https://registry.yarnpkg.com/"))]
        );
    }

    #[test]
    fn text_that_does_not_parse_is_one_use_for_no_registry() {
        assert_eq!(
            uses("a: 1\nb: [\nc: ${NODE_AUTH_TOKEN}\nd: ${NODE_AUTH_TOKEN}\n"),
            [(3, None)]
        );
        assert_eq!(
            uses("npmScopes:\n  s: {npmAuthToken: x}\n  s: {npmAuthToken: ${NODE_AUTH_TOKEN}}\n"),
            [(3, None)],
            "a duplicate key: yarn refuses the file"
        );
        assert!(uses("a: [\n").is_empty());
    }

    #[test]
    fn a_file_is_read_only_when_it_is_a_regular_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(".yarnrc.yml");
        assert!(
            references_in_file(&path, "NODE_AUTH_TOKEN")
                .expect("missing is fine")
                .is_empty()
        );
        std::fs::create_dir(&path).expect("a folder");
        assert!(references_in_file(&path, "NODE_AUTH_TOKEN").is_err());
        std::fs::remove_dir(&path).expect("rm");
        std::fs::write(&path, b"x: \xff\nnpmAuthToken: ${NODE_AUTH_TOKEN}\n").expect("write");
        assert_eq!(
            references_in_file(&path, "NODE_AUTH_TOKEN").expect("reads"),
            [VarUse {
                line: 2,
                registry: registry_url(DEFAULT_REGISTRY)
            }]
        );
    }
}
