//! Lossless edits of the credential keys of a `.yarnrc.yml`: one scalar
//! replaced in place, or whole lines of a block-style map inserted or
//! removed; every other byte stays. Each edit is checked by parsing the
//! result: it must mean the original plus exactly the intended change.

use yaml_rust2::scanner::TScalarStyle;
use yaml_rust2::{Yaml, YamlLoader};

use super::Error;
use super::read::{Field, registry_key};
use super::tree::{self, Map, Node};
use super::value::{self, NewValue, Value};

/// An edit rtok makes to a `.yarnrc.yml`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change<'a> {
    /// `npmRegistries[<registry>].npmAuthToken`: in the entry that already
    /// names the registry (with or without scheme or trailing slash; the
    /// one yarn uses), else in a new entry keyed by the URL without its
    /// trailing slash.
    SetRegistryToken {
        registry: &'a str,
        token: NewValue<'a>,
    },
    /// Removes `npmAuthToken` and `npmAuthIdent` from the entry yarn uses
    /// for the registry (as `yarn npm logout` does), then the entry and
    /// `npmRegistries` if that left them empty.
    RemoveRegistryToken { registry: &'a str },
    /// `npmScopes.<scope>` (with or without `@`): `npmRegistryServer` (kept
    /// when it already names the registry) and `npmAuthToken`.
    SetScopeToken {
        scope: &'a str,
        registry: &'a str,
        token: NewValue<'a>,
    },
    /// Removes the scope's `npmAuthToken` and `npmAuthIdent`; its route
    /// (`npmRegistryServer`) stays, so its packages keep their registry.
    RemoveScopeToken { scope: &'a str },
    /// Removes the scope's whole entry, route included (for an entry rtok
    /// made), then `npmScopes` if that left it empty.
    // No command removes a whole scope entry (logout keeps the route);
    // the editor's own tests take back a new entry with it.
    #[cfg_attr(not(test), allow(dead_code))]
    RemoveScope { scope: &'a str },
}

/// `text` with `change` made; `text` itself when there was nothing to do
/// (a removal of what is not there). The caller writes the result through
/// `crate::private_file`.
pub(crate) fn edit(text: &str, change: &Change<'_>) -> Result<String, Error> {
    let mut document = Lines::parse(text);
    let original = document.body();
    let mut log = Vec::new();
    match *change {
        Change::SetRegistryToken { registry, token } => {
            check_new_value(&token)?;
            let path = [
                Key::Named("npmRegistries"),
                Key::Registry(registry),
                field(Field::AuthToken),
            ];
            set(
                &mut document,
                &path,
                &token.yaml_string(),
                token.is_literal(),
                &mut log,
            )?;
        }
        Change::RemoveRegistryToken { registry } => {
            for credential in [Field::AuthToken, Field::AuthIdent] {
                let path = [
                    Key::Named("npmRegistries"),
                    Key::Registry(registry),
                    field(credential),
                ];
                remove(&mut document, &path, &mut log)?;
            }
        }
        Change::SetScopeToken {
            scope,
            registry,
            token,
        } => {
            check_new_value(&token)?;
            let server = [
                Key::Named("npmScopes"),
                Key::Scope(scope),
                field(Field::RegistryServer),
            ];
            if !names_registry(&document, &server, registry)? {
                set(&mut document, &server, registry, true, &mut log)?;
            }
            let path = [
                Key::Named("npmScopes"),
                Key::Scope(scope),
                field(Field::AuthToken),
            ];
            set(
                &mut document,
                &path,
                &token.yaml_string(),
                token.is_literal(),
                &mut log,
            )?;
        }
        Change::RemoveScopeToken { scope } => {
            for credential in [Field::AuthToken, Field::AuthIdent] {
                let path = [
                    Key::Named("npmScopes"),
                    Key::Scope(scope),
                    field(credential),
                ];
                remove(&mut document, &path, &mut log)?;
            }
        }
        Change::RemoveScope { scope } => {
            remove(
                &mut document,
                &[Key::Named("npmScopes"), Key::Scope(scope)],
                &mut log,
            )?;
        }
    }
    if log.is_empty() {
        return Ok(text.to_string());
    }
    verify(&original, &document.body(), &log)?;
    Ok(document.render())
}

fn field(field: Field) -> Key<'static> {
    Key::Named(field.key())
}

fn check_new_value(value: &NewValue<'_>) -> Result<(), Error> {
    let NewValue::Reference(text) = value else {
        return Ok(());
    };
    match Value::classify(text) {
        Value::Malformed => Err(Error::MalformedReference),
        value if !value.always_resolves() => Err(Error::ReferenceWithoutDefault),
        _ => Ok(()),
    }
}

/// Whether the setting at `path` already names `registry` (trailing slash
/// aside), so rewriting it would change nothing but its spelling.
fn names_registry(document: &Lines, path: &[Key<'_>], registry: &str) -> Result<bool, Error> {
    let body = document.body();
    let root = tree::parse(&body)?;
    let mut node = root.as_ref();
    for key in path {
        let Some(map) = node.and_then(Node::map) else {
            return Ok(false);
        };
        node = key.find(map).map(|index| &map.entries[index].1);
    }
    let same =
        |a: &str, b: &str| a.strip_suffix('/').unwrap_or(a) == b.strip_suffix('/').unwrap_or(b);
    Ok(node
        .and_then(Node::scalar)
        .is_some_and(|(text, _)| matches!(Value::classify(text), Value::Literal(v) if same(v.expose(), registry))))
}

/// One key of a path through the settings.
#[derive(Debug, Clone, Copy)]
enum Key<'a> {
    /// A setting's own name.
    Named(&'a str),
    /// An `npmRegistries` key for this URL.
    Registry(&'a str),
    /// An `npmScopes` key for this scope.
    Scope(&'a str),
}

impl Key<'_> {
    /// The entry of `map` this key names (for a registry, the one yarn uses).
    fn find(&self, map: &Map) -> Option<usize> {
        let keys = map.keys();
        match self {
            Key::Named(_) | Key::Scope(_) => {
                let wanted = self.text();
                keys.iter().position(|key| *key == Some(wanted.as_str()))
            }
            Key::Registry(url) => {
                let written: Vec<(usize, &str)> = keys
                    .iter()
                    .enumerate()
                    .filter_map(|(index, key)| Some((index, (*key)?)))
                    .collect();
                let texts: Vec<&str> = written.iter().map(|(_, key)| *key).collect();
                registry_key(&texts, url).map(|found| written[found].0)
            }
        }
    }

    /// The key's string, for a new entry.
    fn text(&self) -> String {
        match self {
            Key::Named(name) => (*name).to_string(),
            Key::Registry(url) => url.strip_suffix('/').unwrap_or(url).to_string(),
            Key::Scope(scope) => scope.trim_start_matches('@').to_string(),
        }
    }

    /// The key as written in a new line: URLs quoted as yarn writes them.
    fn written(&self) -> String {
        match self {
            Key::Registry(_) => value::double_quoted(&self.text()),
            _ => value::scalar(&self.text()),
        }
    }
}

/// What the edit means, in YAML terms; checked against the result.
#[derive(Debug)]
enum Logical {
    Set(Vec<String>, String),
    Remove(Vec<String>),
}

/// The file as lines with their endings, and its byte-order mark.
struct Lines {
    bom: bool,
    lines: Vec<(String, &'static str)>,
}

impl Lines {
    fn parse(text: &str) -> Lines {
        let (bom, body) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let lines = tree::split_lines(body)
            .map(|(line, ending)| (line.to_string(), ending))
            .collect();
        Lines { bom, lines }
    }

    fn body(&self) -> String {
        self.lines
            .iter()
            .map(|(line, ending)| format!("{line}{ending}"))
            .collect()
    }

    fn render(&self) -> String {
        let body = self.body();
        if self.bom {
            format!("\u{feff}{body}")
        } else {
            body
        }
    }

    fn is_content(&self, index: usize) -> bool {
        let trimmed = self.lines[index].0.trim_start();
        !trimmed.is_empty() && !trimmed.starts_with('#')
    }

    /// The last line before `bound` (0-based, exclusive) holding more than
    /// blanks and comments, but not before `floor`.
    fn content_end(&self, bound: usize, floor: usize) -> usize {
        let mut end = bound.min(self.lines.len()).max(floor + 1) - 1;
        while end > floor && !self.is_content(end) {
            end -= 1;
        }
        end
    }

    /// The 0-based line where what follows a map begins (exclusive bound of
    /// its lines): the line of the next token, or past the map's last line
    /// when the file ends right after it, without a line break.
    fn bound(&self, map: &Map) -> usize {
        match self.lines.get(map.end.line.saturating_sub(1)) {
            Some((line, _)) if map.end.col >= line.chars().count() => map.end.line,
            _ => map.end.line.saturating_sub(1),
        }
    }

    /// CRLF if the file mostly uses it, else LF.
    fn ending(&self) -> &'static str {
        let crlf = self.lines.iter().filter(|(_, e)| *e == "\r\n").count();
        let lf = self.lines.iter().filter(|(_, e)| *e == "\n").count();
        if crlf > lf { "\r\n" } else { "\n" }
    }

    fn insert(&mut self, at: usize, new: Vec<String>) {
        let ending = self.ending();
        let mut last_ending = ending;
        if at == self.lines.len() && at > 0 && self.lines[at - 1].1.is_empty() {
            // The file ends without a line break: it keeps ending so, and
            // a later removal gives the same bytes back.
            self.lines[at - 1].1 = ending;
            last_ending = "";
        }
        let count = new.len();
        for (offset, line) in new.into_iter().enumerate() {
            let line_ending = if offset + 1 == count {
                last_ending
            } else {
                ending
            };
            self.lines.insert(at + offset, (line, line_ending));
        }
    }

    fn remove(&mut self, first: usize, last: usize) {
        let removed: Vec<_> = self.lines.drain(first..=last).collect();
        if first == self.lines.len()
            && first > 0
            && removed.last().is_some_and(|(_, ending)| ending.is_empty())
        {
            self.lines[first - 1].1 = "";
        }
    }
}

/// Where new entries go.
enum Container<'t> {
    /// A map: new entries go after the content of a block map, at its
    /// entries' indentation; a flow map only has values replaced.
    Map(&'t Map),
    /// Below `key:` with no value, one step deeper.
    Below(&'t Node),
    /// At the end of a file without settings.
    End,
}

fn set(
    document: &mut Lines,
    path: &[Key<'_>],
    text: &str,
    literal: bool,
    log: &mut Vec<Logical>,
) -> Result<(), Error> {
    let body = document.body();
    let root = tree::parse(&body)?;
    let step = indent_step(root.as_ref());
    let mut container = match &root {
        None => Container::End,
        Some(node) if node.is_nothing() => Container::End,
        Some(node) => match node.map() {
            Some(map) => Container::Map(map),
            None => {
                return Err(Error::NotAMap {
                    line: node.start.line,
                });
            }
        },
    };
    let mut used = Vec::new();
    for (depth, key) in path.iter().enumerate() {
        let Container::Map(map) = container else {
            break;
        };
        let Some(index) = key.find(map) else {
            break;
        };
        let (key_node, value_node) = &map.entries[index];
        used.push(
            key_node
                .scalar()
                .map(|(text, _)| text.to_string())
                .unwrap_or_default(),
        );
        if depth + 1 == path.len() {
            replace(document, key_node, value_node, text, literal, map.flow)?;
            log.push(Logical::Set(used, text.to_string()));
            return Ok(());
        }
        container = if value_node.is_nothing() {
            if map.flow {
                return Err(unsupported(key_node, "a flow-style map"));
            }
            Container::Below(key_node)
        } else {
            match value_node.map() {
                Some(inner) => Container::Map(inner),
                None => return Err(unsupported(value_node, "a setting that should be a map")),
            }
        };
    }
    let rest = &path[used.len()..];
    let (indent, at) = match container {
        Container::Map(map) if map.flow => {
            return Err(Error::Unsupported {
                line: map.end.line,
                what: "a flow-style map",
            });
        }
        Container::Map(map) => {
            let last_key = map
                .entries
                .last()
                .map_or(map.end.line, |(k, _)| k.start.line);
            let indent = map.entries.first().map_or(0, |(k, _)| k.start.col);
            (
                indent,
                document.content_end(document.bound(map), last_key - 1) + 1,
            )
        }
        Container::Below(key) => (key.start.col + step, key.start.line),
        Container::End => (0, document.lines.len()),
    };
    let mut new = Vec::new();
    for (offset, key) in rest.iter().enumerate() {
        let pad = " ".repeat(indent + offset * step);
        if offset + 1 == rest.len() {
            new.push(format!("{pad}{}: {}", key.written(), value::scalar(text)));
        } else {
            new.push(format!("{pad}{}:", key.written()));
        }
        used.push(key.text());
    }
    document.insert(at, new);
    log.push(Logical::Set(used, text.to_string()));
    Ok(())
}

/// Replaces the value of `key: value`, keeping its quoting style.
fn replace(
    document: &mut Lines,
    key: &Node,
    value: &Node,
    text: &str,
    literal: bool,
    flow: bool,
) -> Result<(), Error> {
    let Some((old, style)) = value.scalar() else {
        return Err(unsupported(value, "a value that is not a string"));
    };
    if value.is_nothing() {
        // `key:` with nothing after it: the value goes after the colon.
        let line = &document.lines[key.start.line - 1].0;
        let (_, key_style) = key.scalar().unwrap_or(("", TScalarStyle::Plain));
        let colon = scalar_end(line, key.start.col, key_style, flow)
            .map(|end| end + line[end..].len() - line[end..].trim_start().len())
            .filter(|&at| line[at..].starts_with(':'))
            .ok_or_else(|| unsupported(key, "this key's layout"))?;
        let line = &mut document.lines[key.start.line - 1].0;
        line.insert_str(colon + 1, &format!(" {}", value::scalar(text)));
        return Ok(());
    }
    if literal && !matches!(Value::classify(old), Value::Literal(_)) {
        return Err(Error::KeepsReference {
            line: value.start.line,
        });
    }
    let line = &document.lines[value.start.line - 1].0;
    let start = byte_offset(line, value.start.col);
    let end = scalar_end(line, value.start.col, style, flow)
        .filter(|&end| style != TScalarStyle::Plain || &line[start..end] == old)
        .ok_or_else(|| unsupported(value, "a value written over several lines"))?;
    let written = match style {
        TScalarStyle::DoubleQuoted => value::double_quoted(text),
        TScalarStyle::SingleQuoted => {
            value::single_quoted(text).unwrap_or_else(|| value::double_quoted(text))
        }
        _ => value::scalar(text),
    };
    document.lines[value.start.line - 1]
        .0
        .replace_range(start..end, &written);
    Ok(())
}

/// Removes the entry at `path` and then each map on the path that this
/// left empty. `Ok` without a change when there is no such entry.
fn remove(document: &mut Lines, path: &[Key<'_>], log: &mut Vec<Logical>) -> Result<(), Error> {
    for depth in (1..=path.len()).rev() {
        let removed = remove_one(document, &path[..depth], depth < path.len(), log)?;
        if !removed {
            return Ok(());
        }
    }
    Ok(())
}

/// Removes the entry at `path`; with `only_if_empty`, only when its value
/// is now nothing (its last entry just went).
fn remove_one(
    document: &mut Lines,
    path: &[Key<'_>],
    only_if_empty: bool,
    log: &mut Vec<Logical>,
) -> Result<bool, Error> {
    let body = document.body();
    let Some(root) = tree::parse(&body)? else {
        return Ok(false);
    };
    let mut map = match root.map() {
        Some(map) => map,
        None => return Ok(false),
    };
    let mut used = Vec::new();
    for (depth, key) in path.iter().enumerate() {
        let Some(index) = key.find(map) else {
            return Ok(false);
        };
        let (key_node, value_node) = &map.entries[index];
        used.push(
            key_node
                .scalar()
                .map(|(text, _)| text.to_string())
                .unwrap_or_default(),
        );
        if depth + 1 < path.len() {
            map = match value_node.map() {
                Some(inner) => inner,
                None => return Ok(false),
            };
            continue;
        }
        if only_if_empty && !value_node.is_nothing() {
            return Ok(false);
        }
        if map.flow {
            return Err(unsupported(key_node, "a flow-style map"));
        }
        let first = key_node.start.line - 1;
        let before_key =
            &document.lines[first].0[..byte_offset(&document.lines[first].0, key_node.start.col)];
        if !before_key.trim().is_empty() {
            return Err(unsupported(key_node, "this key's layout"));
        }
        let bound = map
            .entries
            .get(index + 1)
            .map_or(document.bound(map), |(next, _)| next.start.line - 1);
        let last = document.content_end(bound, first);
        document.remove(first, last);
        log.push(Logical::Remove(used));
        return Ok(true);
    }
    Ok(false)
}

/// How far a nested map is indented in this file (2 if nothing shows it).
fn indent_step(root: Option<&Node>) -> usize {
    fn find(map: &Map) -> Option<usize> {
        map.entries.iter().find_map(|(key, value)| {
            let inner = value.map().filter(|inner| !inner.flow)?;
            let (child, _) = inner.entries.first()?;
            child
                .start
                .col
                .checked_sub(key.start.col)
                .filter(|step| *step > 0)
                .or_else(|| find(inner))
        })
    }
    root.and_then(Node::map).and_then(find).unwrap_or(2)
}

fn unsupported(node: &Node, what: &'static str) -> Error {
    Error::Unsupported {
        line: node.start.line,
        what,
    }
}

/// The byte offset of character column `col` in `line`.
fn byte_offset(line: &str, col: usize) -> usize {
    line.char_indices()
        .nth(col)
        .map_or(line.len(), |(at, _)| at)
}

/// Where a one-line scalar starting at `col` ends (a byte offset), or
/// `None` when it goes on past the line or is a block scalar.
fn scalar_end(line: &str, col: usize, style: TScalarStyle, flow: bool) -> Option<usize> {
    let start = byte_offset(line, col);
    let rest = &line[start..];
    let mut chars = rest.char_indices().peekable();
    match style {
        TScalarStyle::DoubleQuoted => {
            chars.next();
            while let Some((at, c)) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' => return Some(start + at + 1),
                    _ => {}
                }
            }
            None
        }
        TScalarStyle::SingleQuoted => {
            chars.next();
            while let Some((at, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().is_some_and(|(_, next)| *next == '\'') {
                        chars.next();
                    } else {
                        return Some(start + at + 1);
                    }
                }
            }
            None
        }
        TScalarStyle::Plain => {
            let mut end = rest.len();
            let mut previous = ' ';
            while let Some((at, c)) = chars.next() {
                let next = chars.peek().map(|(_, next)| *next);
                let stops = match c {
                    '#' => previous.is_whitespace(),
                    ':' => next.is_none_or(|n| n.is_whitespace() || (flow && ",}]".contains(n))),
                    ',' | '}' | ']' => flow,
                    _ => false,
                };
                if stops {
                    end = at;
                    break;
                }
                previous = c;
            }
            Some(start + rest[..end].trim_end().len())
        }
        _ => None,
    }
}

/// Checks that `result` means `original` with `log` applied, and nothing
/// else: the guard that keeps a line edit from ever changing another
/// setting, a value's type or the structure.
fn verify(original: &str, result: &str, log: &[Logical]) -> Result<(), Error> {
    let load = |text: &str| -> Result<Yaml, Error> {
        let documents = YamlLoader::load_from_str(text).map_err(|_| Error::Unverified)?;
        Ok(match documents.into_iter().next() {
            None | Some(Yaml::Null) => Yaml::Hash(Default::default()),
            Some(root) => root,
        })
    };
    let mut expected = load(original)?;
    for change in log {
        match change {
            Logical::Set(path, value) => {
                let Some((last, parents)) = path.split_last() else {
                    return Err(Error::Unverified);
                };
                let mut node = &mut expected;
                for key in parents {
                    node = child(node, key, true).ok_or(Error::Unverified)?;
                }
                *child(node, last, true).ok_or(Error::Unverified)? = Yaml::String(value.clone());
            }
            Logical::Remove(path) => {
                let Some((last, parents)) = path.split_last() else {
                    return Err(Error::Unverified);
                };
                let mut node = &mut expected;
                for key in parents {
                    node = child(node, key, false).ok_or(Error::Unverified)?;
                }
                let Yaml::Hash(map) = node else {
                    return Err(Error::Unverified);
                };
                map.remove(&Yaml::String(last.clone()))
                    .ok_or(Error::Unverified)?;
                if map.is_empty() {
                    *node = Yaml::Null;
                }
            }
        }
    }
    if matches!(expected, Yaml::Null) {
        expected = Yaml::Hash(Default::default());
    }
    if load(result)? == expected {
        Ok(())
    } else {
        Err(Error::Unverified)
    }
}

/// The value at `key` of a map (a null becomes an empty map, and with
/// `create` a missing key a null value at the end).
fn child<'y>(node: &'y mut Yaml, key: &str, create: bool) -> Option<&'y mut Yaml> {
    if matches!(node, Yaml::Null) {
        *node = Yaml::Hash(Default::default());
    }
    let Yaml::Hash(map) = node else {
        return None;
    };
    let key = Yaml::String(key.to_string());
    if create && !map.contains_key(&key) {
        map.insert(key.clone(), Yaml::Null);
    }
    map.get_mut(&key)
}

#[cfg(test)]
mod tests;
