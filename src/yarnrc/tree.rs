//! The YAML structure of a `.yarnrc.yml` with where each node starts, read
//! through `yaml-rust2`'s event parser: a real parser decides what the file
//! means, and the editor (`edit.rs`) uses these positions to change lines.

use yaml_rust2::Event;
use yaml_rust2::parser::{MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::Error;

/// A place in the text: 1-based line, 0-based column in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mark {
    pub(super) line: usize,
    pub(super) col: usize,
}

impl From<Marker> for Mark {
    fn from(marker: Marker) -> Mark {
        Mark {
            line: marker.line(),
            col: marker.col(),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) kind: Kind,
    /// A scalar's first character (its quote, if quoted); a flow map's `{`;
    /// a block map's first `:` (as the parser reports it).
    pub(super) start: Mark,
}

#[derive(Debug, Clone)]
pub(super) enum Kind {
    Scalar {
        text: String,
        style: TScalarStyle,
    },
    Map(Map),
    /// A sequence's items: nothing rtok edits, but a `${VAR}` in one is
    /// still a use of the variable (`uses.rs`).
    Sequence(Vec<Node>),
    /// An alias: nothing rtok reads or edits (its anchor is read where it
    /// is defined).
    Other,
}

#[derive(Debug, Clone)]
pub(super) struct Map {
    pub(super) flow: bool,
    pub(super) entries: Vec<(Node, Node)>,
    /// Where the next thing after the map starts (a block map's end is the
    /// next token's position; a flow map's is its `}`).
    pub(super) end: Mark,
}

impl Node {
    pub(super) fn map(&self) -> Option<&Map> {
        match &self.kind {
            Kind::Map(map) => Some(map),
            _ => None,
        }
    }

    pub(super) fn scalar(&self) -> Option<(&str, TScalarStyle)> {
        match &self.kind {
            Kind::Scalar { text, style } => Some((text, *style)),
            _ => None,
        }
    }

    /// `key:` with nothing after it: YAML's null, written as nothing.
    pub(super) fn is_nothing(&self) -> bool {
        matches!(self.scalar(), Some(("", TScalarStyle::Plain)))
    }
}

impl Node {
    /// Any spelling of YAML's null (`~`, `null`, or nothing).
    pub(super) fn is_null(&self) -> bool {
        matches!(
            self.scalar(),
            Some(("" | "~" | "null" | "Null" | "NULL", TScalarStyle::Plain))
        )
    }
}

impl Map {
    /// The value of the first entry whose key is the string `key`.
    pub(super) fn get(&self, key: &str) -> Option<(usize, &Node)> {
        self.entries
            .iter()
            .position(|(k, _)| k.scalar().map(|(text, _)| text) == Some(key))
            .map(|index| (index, &self.entries[index].1))
    }

    /// The keys' strings (a key that is not a scalar is `None`).
    pub(super) fn keys(&self) -> Vec<Option<&str>> {
        self.entries
            .iter()
            .map(|(k, _)| k.scalar().map(|(text, _)| text))
            .collect()
    }
}

/// Parses `text` (without a byte-order mark): `None` for a file without a
/// document (empty, or comments only).
pub(super) fn parse(text: &str) -> Result<Option<Node>, Error> {
    let mut events = Events(Vec::new());
    Parser::new_from_str(text)
        .load(&mut events, true)
        .map_err(|error| Error::Invalid {
            line: error.marker().line(),
            message: error.info().to_string(),
        })?;
    let events = events.0;
    let documents: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, (event, _))| *event == Event::DocumentStart)
        .map(|(index, _)| index)
        .collect();
    match documents.as_slice() {
        [] => Ok(None),
        [start] => {
            let lines: Vec<&str> = split_lines(text).map(|(line, _)| line).collect();
            let mut position = start + 1;
            let root = build(&events, &mut position, &lines);
            check_duplicates(&root)?;
            Ok(Some(root))
        }
        [_, second, ..] => Err(Error::Unsupported {
            line: events[*second].1.line(),
            what: "a second YAML document",
        }),
    }
}

/// The lines of `text` and their endings (`\r\n`, `\n`, `\r` or none), as
/// YAML counts lines.
pub(super) fn split_lines(text: &str) -> impl Iterator<Item = (&str, &'static str)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let ending = if rest[end..].starts_with("\r\n") {
            "\r\n"
        } else if rest[end..].starts_with('\r') {
            "\r"
        } else if rest[end..].starts_with('\n') {
            "\n"
        } else {
            ""
        };
        let line = &rest[..end];
        rest = &rest[end + ending.len()..];
        Some((line, ending))
    })
}

struct Events(Vec<(Event, Marker)>);

impl MarkedEventReceiver for Events {
    fn on_event(&mut self, event: Event, marker: Marker) {
        self.0.push((event, marker));
    }
}

fn build(events: &[(Event, Marker)], position: &mut usize, lines: &[&str]) -> Node {
    let Some((event, marker)) = events.get(*position) else {
        return Node {
            kind: Kind::Other,
            start: Mark { line: 0, col: 0 },
        };
    };
    *position += 1;
    let start = Mark::from(*marker);
    let kind = match event {
        Event::Scalar(text, style, ..) => Kind::Scalar {
            text: text.clone(),
            style: *style,
        },
        Event::MappingStart(..) => {
            let flow = char_at(lines, start) == Some('{');
            let mut entries = Vec::new();
            let end = loop {
                match events.get(*position) {
                    Some((Event::MappingEnd, marker)) => {
                        *position += 1;
                        break Mark::from(*marker);
                    }
                    None => break start,
                    Some(_) => {
                        let key = build(events, position, lines);
                        let value = build(events, position, lines);
                        entries.push((key, value));
                    }
                }
            };
            Kind::Map(Map { flow, entries, end })
        }
        Event::SequenceStart(..) => {
            let mut items = Vec::new();
            while !matches!(events.get(*position), Some((Event::SequenceEnd, _)) | None) {
                items.push(build(events, position, lines));
            }
            *position += 1;
            Kind::Sequence(items)
        }
        _ => Kind::Other,
    };
    Node { kind, start }
}

pub(super) fn char_at(lines: &[&str], mark: Mark) -> Option<char> {
    lines.get(mark.line.checked_sub(1)?)?.chars().nth(mark.col)
}

/// A key written twice in one of the maps rtok reads: YAML parsers differ on
/// which one counts, so rtok neither trusts nor edits such a file.
fn check_duplicates(root: &Node) -> Result<(), Error> {
    let Some(map) = root.map() else {
        return Ok(());
    };
    check_map(map)?;
    for section in ["npmRegistries", "npmScopes"] {
        if let Some((_, node)) = map.get(section)
            && let Some(section) = node.map()
        {
            check_map(section)?;
            for (_, value) in &section.entries {
                if let Some(entry) = value.map() {
                    check_map(entry)?;
                }
            }
        }
    }
    Ok(())
}

fn check_map(map: &Map) -> Result<(), Error> {
    let keys = map.keys();
    for (index, key) in keys.iter().enumerate() {
        if key.is_some() && keys[..index].contains(key) {
            return Err(Error::DuplicateKey {
                line: map.entries[index].0.start.line,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_lines_and_character_columns() {
        let text = "a: é\nnpmRegistries:\n  \"//h\": {npmAuthToken: x}\n";
        let root = parse(text).expect("parses").expect("a document");
        let map = root.map().expect("map");
        assert!(!map.flow);
        let (_, registries) = map.get("npmRegistries").expect("registries");
        let (key, value) = &registries.map().expect("map").entries[0];
        assert_eq!(key.start, Mark { line: 3, col: 2 });
        let inner = value.map().expect("flow map");
        assert!(inner.flow);
        assert_eq!(inner.entries[0].1.start, Mark { line: 3, col: 24 });
    }

    #[test]
    fn empty_and_comment_only_files_have_no_document() {
        assert!(parse("").expect("parses").is_none());
        assert!(parse("# nothing\n\n").expect("parses").is_none());
    }

    #[test]
    fn errors_name_the_line() {
        let Err(Error::Invalid { line, .. }) = parse("a: 1\nb: [\n") else {
            panic!("not an error")
        };
        assert!(line >= 2, "{line}");
        assert!(matches!(
            parse("npmScopes:\n  s: {}\n  s: {}\n"),
            Err(Error::DuplicateKey { line: 3 })
        ));
    }
}
