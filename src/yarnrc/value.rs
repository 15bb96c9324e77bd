//! A `.yarnrc.yml` string as yarn berry reads it: its `${VAR}` interpolation
//! (clients-2026.md §1.6: `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
//! nestable; `\\`, `\$` and `\}` escape), and how rtok writes a new value as
//! a YAML scalar.

use crate::secret::Secret;

/// What a setting's value is, before the environment is consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// No interpolation: the text yarn uses (escapes resolved).
    Literal(Secret),
    /// One or more `${…}` references (the whole value or part of it), in
    /// order of appearance, nested ones included.
    Reference(Vec<Variable>),
    /// A `${` yarn cannot read (`Usage Error` for every yarn command), a
    /// stray `}`, or a value that is not a string at all (a list, a map).
    Malformed,
}

/// One `${NAME…}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Variable {
    pub name: String,
    /// `None` for `${NAME}`: yarn stops with an error while `NAME` is unset.
    pub fallback: Option<Fallback>,
}

/// The default of `${NAME:-text}` (`when_empty`: also used when `NAME` is
/// set but empty) or `${NAME-text}` (only when unset). The text may itself
/// hold references, listed after this one in [`Value::Reference`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fallback {
    pub text: Secret,
    pub when_empty: bool,
}

impl Value {
    /// Reads a string as yarn berry's interpolation does.
    pub(crate) fn classify(text: &str) -> Value {
        let Some(pieces) = pieces(text) else {
            return Value::Malformed;
        };
        let mut variables = Vec::new();
        collect(&pieces, &mut variables);
        if variables.is_empty() {
            Value::Literal(Secret::new(text_of(&pieces)))
        } else {
            Value::Reference(variables)
        }
    }

    /// A reference yarn can always resolve: every variable has a default.
    pub(super) fn always_resolves(&self) -> bool {
        match self {
            Value::Literal(_) => true,
            Value::Reference(variables) => variables.iter().all(|v| v.fallback.is_some()),
            Value::Malformed => false,
        }
    }
}

/// A string as yarn's interpolation reads it: the one parser of its
/// grammar, which `classify` (what a value is) and `resolve::resolve` (what
/// yarn makes of it in an environment) both walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    /// Text, escapes resolved.
    Text(String),
    /// `${NAME}`, `${NAME:-default}` or `${NAME-default}`.
    Var {
        name: String,
        default: Option<DefaultText>,
    },
}

/// The default of a reference: used when the variable is unset, or also
/// when it is empty (`when_empty`, for `:-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DefaultText {
    pub when_empty: bool,
    pub pieces: Vec<Piece>,
}

/// The pieces of `text`, or `None` for what yarn rejects (a `${` that is
/// not a reference, an unclosed one, a stray `}`).
pub(super) fn pieces(text: &str) -> Option<Vec<Piece>> {
    let mut chars = text.chars().peekable();
    read(&mut chars, false)
}

/// Reads up to the end (or, `nested`, up to the `}` closing a default,
/// which is consumed).
fn read(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, nested: bool) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let flush = |text: &mut String, pieces: &mut Vec<Piece>| {
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(text)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&next @ ('\\' | '$' | '}')) => {
                    chars.next();
                    text.push(next);
                }
                _ => text.push('\\'),
            },
            '$' if chars.peek() == Some(&'{') => {
                chars.next();
                let mut name = String::new();
                while let Some(&c) = chars.peek() {
                    let fits = if name.is_empty() {
                        c.is_ascii_alphabetic()
                    } else {
                        c.is_alphanumeric() || c == '_'
                    };
                    if !fits {
                        break;
                    }
                    name.push(c);
                    chars.next();
                }
                if name.is_empty() {
                    return None;
                }
                let default = match chars.next()? {
                    '}' => None,
                    ':' if chars.next()? == '-' => Some(DefaultText {
                        when_empty: true,
                        pieces: read(chars, true)?,
                    }),
                    '-' => Some(DefaultText {
                        when_empty: false,
                        pieces: read(chars, true)?,
                    }),
                    _ => return None,
                };
                flush(&mut text, &mut pieces);
                pieces.push(Piece::Var { name, default });
            }
            // Closes a default; outside one, yarn's pattern meets a `}` it
            // has no variable for (taken as an error, so rtok never builds
            // on it).
            '}' if nested => {
                flush(&mut text, &mut pieces);
                return Some(pieces);
            }
            '}' => return None,
            c => text.push(c),
        }
    }
    if nested {
        return None;
    }
    flush(&mut text, &mut pieces);
    Some(pieces)
}

/// The references in order of appearance, nested ones after theirs.
fn collect(pieces: &[Piece], variables: &mut Vec<Variable>) {
    for piece in pieces {
        if let Piece::Var { name, default } = piece {
            variables.push(Variable {
                name: name.clone(),
                fallback: default.as_ref().map(|d| Fallback {
                    text: Secret::new(text_of(&d.pieces)),
                    when_empty: d.when_empty,
                }),
            });
            if let Some(default) = default {
                collect(&default.pieces, variables);
            }
        }
    }
}

/// The text of `pieces` with references left out.
fn text_of(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Text(text) => Some(text.as_str()),
            Piece::Var { .. } => None,
        })
        .collect()
}

/// A value for rtok to write.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NewValue<'a> {
    /// A token meant literally: escaped so yarn's interpolation leaves it
    /// as it is.
    Literal(&'a Secret),
    /// yarn's syntax, written as it is (say `${NPM_TOKEN:-}`); refused
    /// unless every variable in it has a default. No command writes one
    /// (rtok writes tokens, never references); the editor's tests hold it to
    /// the rule that a reference without a default is never written.
    #[cfg_attr(not(test), allow(dead_code))]
    Reference(&'a str),
}

impl NewValue<'_> {
    /// The string to store in the YAML scalar.
    pub(super) fn yaml_string(&self) -> String {
        match self {
            NewValue::Literal(secret) => {
                let mut out = String::new();
                for c in secret.expose().chars() {
                    if matches!(c, '\\' | '$' | '}') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out
            }
            NewValue::Reference(text) => (*text).to_string(),
        }
    }

    pub(super) fn is_literal(&self) -> bool {
        matches!(self, NewValue::Literal(_))
    }
}

/// A scalar written without quotes: only what YAML reads back as the same
/// string in any context (no number, boolean or null look-alike, no
/// indicator, no `: ` or ` #`).
pub(super) fn plain_is_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    let lower = text.to_ascii_lowercase();
    (first.is_ascii_alphabetic() || first == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '+' | '='))
        && !matches!(
            lower.as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
}

/// `text` as a double-quoted YAML scalar.
pub(super) fn double_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` as a single-quoted YAML scalar, when one can hold it.
pub(super) fn single_quoted(text: &str) -> Option<String> {
    if text.chars().any(|c| c.is_control()) {
        return None;
    }
    Some(format!("'{}'", text.replace('\'', "''")))
}

/// `text` as a scalar: plain where that is safe, else double-quoted.
pub(super) fn scalar(text: &str) -> String {
    if plain_is_safe(text) {
        text.to_string()
    } else {
        double_quoted(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variable(name: &str, fallback: Option<(&str, bool)>) -> Variable {
        Variable {
            name: name.to_string(),
            fallback: fallback.map(|(text, when_empty)| Fallback {
                text: Secret::new(text),
                when_empty,
            }),
        }
    }

    #[test]
    fn classifies_yarns_interpolation() {
        assert_eq!(
            Value::classify("npm_abc"),
            Value::Literal(Secret::new("npm_abc"))
        );
        assert_eq!(
            Value::classify(r"a\$\{b\}\\c\d"),
            Value::Literal(Secret::new(r"a$\{b}\c\d"))
        );
        assert_eq!(
            Value::classify("${NPM_TOKEN}"),
            Value::Reference(vec![variable("NPM_TOKEN", None)])
        );
        assert_eq!(
            Value::classify("${NPM_TOKEN:-}"),
            Value::Reference(vec![variable("NPM_TOKEN", Some(("", true)))])
        );
        assert_eq!(
            Value::classify("${A-x}"),
            Value::Reference(vec![variable("A", Some(("x", false)))])
        );
        assert_eq!(
            Value::classify("Bearer ${A:-${B}}"),
            Value::Reference(vec![variable("A", Some(("", true))), variable("B", None)])
        );
        for malformed in ["${", "${1A}", "${A", "${A:-x", "${A:x}", "a}b", "${}"] {
            assert_eq!(Value::classify(malformed), Value::Malformed, "{malformed}");
        }
    }

    #[test]
    fn only_references_with_defaults_always_resolve() {
        assert!(Value::classify("${A:-}").always_resolves());
        assert!(Value::classify("${A-${B:-x}}").always_resolves());
        assert!(!Value::classify("${A}").always_resolves());
        assert!(!Value::classify("${A:-${B}}").always_resolves());
        assert!(!Value::classify("${").always_resolves());
    }

    #[test]
    fn a_literal_token_is_escaped_for_interpolation() {
        let secret = Secret::new(r"a$b}c\d");
        let written = NewValue::Literal(&secret).yaml_string();
        assert_eq!(written, r"a\$b\}c\\d");
        assert_eq!(Value::classify(&written), Value::Literal(secret));
    }

    #[test]
    fn scalars_are_plain_only_when_safe() {
        assert_eq!(scalar("npm_AbC-1.2/3+4="), "npm_AbC-1.2/3+4=");
        for quoted in [
            "123", "true", "No", "", "a b", "a: b", "-x", "${A:-}", "@s", "a#b",
        ] {
            assert!(scalar(quoted).starts_with('"'), "{quoted}");
        }
        assert_eq!(double_quoted("a\"b\\c\u{1}"), r#""a\"b\\c\u0001""#);
        assert_eq!(single_quoted("it's"), Some("'it''s'".to_string()));
    }
}
