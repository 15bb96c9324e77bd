//! A `.yarnrc.yml` value as yarn berry makes it in an environment: its
//! `${VAR}` interpolation resolved (clients-2026.md §1.6), and every scalar
//! of a file that yarn cannot resolve, for `doctor` (an unset `${VAR}`
//! without a default stops every yarn command: `Usage Error: Environment
//! variable not found`).

use super::tree::{self, Kind, Node};
use super::value::{Piece, pieces};
use super::{Error, Field};

/// Why yarn cannot resolve a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unresolved {
    /// `${NAME}` without a default, while `NAME` is unset.
    Unset(String),
    /// A `${` or `}` yarn cannot read.
    Malformed,
}

/// The text yarn makes of `text`: `${NAME}` is the variable (an error when
/// unset, fine when empty), `${NAME:-x}` is x when it is unset or empty,
/// `${NAME-x}` x only when it is unset; a default is only read when it is
/// used; `\\`, `\$` and `\}` escape.
pub(crate) fn resolve(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Unresolved> {
    let pieces = pieces(text).ok_or(Unresolved::Malformed)?;
    evaluate(&pieces, lookup, true)
}

/// `used`: whether the pieces are part of the result (an unused default's
/// unset variables are no error).
fn evaluate(
    pieces: &[Piece],
    lookup: &dyn Fn(&str) -> Option<String>,
    used: bool,
) -> Result<String, Unresolved> {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Var { name, default } => {
                let value = if used { lookup(name) } else { None };
                match default {
                    None => match value {
                        Some(value) => out.push_str(&value),
                        None if used => return Err(Unresolved::Unset(name.clone())),
                        None => {}
                    },
                    Some(default) => {
                        let takes_default = if default.when_empty {
                            value.as_deref().is_none_or(str::is_empty)
                        } else {
                            value.is_none()
                        };
                        let text = evaluate(&default.pieces, lookup, used && takes_default)?;
                        match (takes_default, value) {
                            (true, _) => out.push_str(&text),
                            (false, Some(value)) => out.push_str(&value),
                            (false, None) => {}
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A variable yarn needs and does not have: the 1-based line of the scalar
/// that names it, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Missing {
    pub line: usize,
    pub name: String,
    /// The setting it is in, when it is a credential setting
    /// (`npmAuthToken`), for messages.
    pub setting: Option<&'static str>,
}

/// Every scalar of `text` (keys and values, anywhere) that names a
/// variable yarn would not find: each stops every yarn command.
pub(crate) fn missing_variables(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Missing>, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut found = Vec::new();
    if let Some(root) = tree::parse(text)? {
        walk(&root, None, lookup, &mut found);
    }
    Ok(found)
}

fn walk(
    node: &Node,
    key: Option<&str>,
    lookup: &dyn Fn(&str) -> Option<String>,
    found: &mut Vec<Missing>,
) {
    match &node.kind {
        Kind::Scalar { text, .. } => {
            if let Err(Unresolved::Unset(name)) = resolve(text, lookup) {
                found.push(Missing {
                    line: node.start.line,
                    name,
                    setting: [Field::AuthToken, Field::AuthIdent]
                        .into_iter()
                        .find(|f| Some(f.key()) == key)
                        .map(Field::key),
                });
            }
        }
        Kind::Map(map) => {
            for (k, value) in &map.entries {
                walk(k, None, lookup, found);
                walk(value, k.scalar().map(|(text, _)| text), lookup, found);
            }
        }
        Kind::Sequence(items) => {
            for item in items {
                walk(item, None, lookup, found);
            }
        }
        Kind::Other => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SET" => Some("value".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn resolves_as_yarn_does() {
        let r = |text: &str| resolve(text, &env);
        assert_eq!(r("plain"), Ok("plain".into()));
        assert_eq!(r("${SET}"), Ok("value".into()));
        assert_eq!(r("${EMPTY}"), Ok(String::new()), "set but empty is fine");
        assert_eq!(r("${UNSET}"), Err(Unresolved::Unset("UNSET".into())));
        assert_eq!(r("${UNSET:-x}"), Ok("x".into()));
        assert_eq!(r("${EMPTY:-x}"), Ok("x".into()));
        assert_eq!(r("${EMPTY-x}"), Ok(String::new()));
        assert_eq!(r("${UNSET-x}"), Ok("x".into()));
        assert_eq!(r("${SET:-${UNSET}}"), Ok("value".into()), "unused default");
        assert_eq!(
            r("${UNSET:-${UNSET2}}"),
            Err(Unresolved::Unset("UNSET2".into()))
        );
        assert_eq!(r("${UNSET:-}"), Ok(String::new()));
        assert_eq!(r("a\\${SET\\}b"), Ok("a${SET}b".into()));
        assert_eq!(r("${SET"), Err(Unresolved::Malformed));
        assert_eq!(r("x}"), Err(Unresolved::Malformed));
    }

    #[test]
    fn every_scalar_that_needs_an_unset_variable_is_found() {
        let text = "npmRegistryServer: \"${HOST:-https://r}\"\nnpmAuthToken: ${TOKEN}\nnpmScopes:\n  s:\n    npmAuthToken: \"${SET}\"\nlist:\n  - ${ITEM}\n";
        let missing = missing_variables(text, &env).expect("parses");
        let summary: Vec<_> = missing
            .iter()
            .map(|m| (m.line, m.name.as_str(), m.setting))
            .collect();
        assert_eq!(
            summary,
            [(2, "TOKEN", Some("npmAuthToken")), (7, "ITEM", None)]
        );
    }
}
