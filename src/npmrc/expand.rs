//! `${VAR}` expansion in `.npmrc` keys and values, as npm does it.

/// The result of expanding one key or value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    pub value: String,
    /// Variables written as `${NAME}` (no `?`) that are not set. npm leaves
    /// the text `${NAME}` in place and would send it as a credential; rtok
    /// refuses to use a credential that still names an unset variable.
    pub unset: Vec<String>,
    /// Every variable the text refers to (`${NAME}` or `${NAME?}`, not
    /// escaped), set or not, in order.
    pub names: Vec<String>,
}

/// What a value written in an `.npmrc` (or a variable) is, as far as
/// secrets go: the one rule for "literal secret or `${VAR}` reference",
/// which the file-mode warning, `doctor`, the keyring import, `exec` and
/// the credential resolver all ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// No `${...}` (or only escaped ones): the text is the value itself.
    Literal,
    /// It refers to a variable (`${NAME}`, or `${NAME?}` when `optional`);
    /// when it names several, the first. The secret lives in the variable.
    Variable { name: String, optional: bool },
    /// A `${` that no `}` closes, or `${}`: npm would send the text as it
    /// is, which is never what the user meant. Never sent.
    Malformed,
}

impl Reference {
    /// Classifies `raw`, the value as written (before expansion).
    pub fn classify(raw: &str) -> Reference {
        let mut first = None;
        for expression in expressions(raw) {
            match expression {
                Expression::Malformed => return Reference::Malformed,
                Expression::Valid {
                    name,
                    optional,
                    escaped: false,
                    ..
                } if first.is_none() => {
                    first = Some(Reference::Variable {
                        name: name.to_string(),
                        optional,
                    })
                }
                Expression::Valid { .. } => {}
            }
        }
        first.unwrap_or(Reference::Literal)
    }

    /// Whether the value is a secret in itself (not a reference).
    pub fn is_literal(&self) -> bool {
        matches!(self, Reference::Literal)
    }
}

/// One `${` of a text, as npm's `env-replace` reads it.
enum Expression<'a> {
    /// `${NAME}` / `${NAME?}` from `start` (where its escaping backslashes
    /// begin) to `end` (past the `}`), `backslashes` before the `$`.
    Valid {
        name: &'a str,
        optional: bool,
        escaped: bool,
        start: usize,
        dollar: usize,
        end: usize,
        backslashes: usize,
    },
    /// A `${` that starts no expression (not escaped).
    Malformed,
}

/// Every `${` of `text`, in order.
fn expressions(text: &str) -> Vec<Expression<'_>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut previous_end = 0;
    let mut search_from = 0;
    while let Some(offset) = text[search_from..].find("${") {
        let dollar = search_from + offset;
        search_from = dollar + 1;
        let mut start = dollar;
        while start > previous_end && bytes[start - 1] == b'\\' {
            start -= 1;
        }
        let backslashes = dollar - start;
        let escaped = backslashes % 2 == 1;
        match parse_expression(text, dollar) {
            Some((name, optional, end)) => {
                found.push(Expression::Valid {
                    name,
                    optional,
                    escaped,
                    start,
                    dollar,
                    end,
                    backslashes,
                });
                previous_end = end;
                search_from = end;
            }
            None if escaped => {}
            None => found.push(Expression::Malformed),
        }
    }
    found
}

/// Expands `${NAME}` and `${NAME?}` from `lookup`, following npm's
/// `env-replace`: NAME is any run of characters other than `$ { } ?`; an
/// unset `${NAME}` stays as written, an unset `${NAME?}` becomes empty; a set
/// but empty variable expands to empty. Backslashes right before the `$`:
/// an odd number escapes the expression (half of them, rounded down, are
/// kept); an even number keeps half of them and expands.
pub fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Expanded {
    let mut value = String::new();
    let mut unset = Vec::new();
    let mut names = Vec::new();
    let mut copied_up_to = 0;
    for expression in expressions(text) {
        let Expression::Valid {
            name,
            optional,
            escaped,
            start,
            dollar,
            end,
            backslashes,
        } = expression
        else {
            continue;
        };
        value.push_str(&text[copied_up_to..start]);
        value.push_str(&"\\".repeat(backslashes / 2));
        if escaped {
            // Escaped: the expression stays literal.
            value.push_str(&text[dollar..end]);
        } else {
            names.push(name.to_string());
            match lookup(name) {
                Some(found) => value.push_str(&found),
                None if optional => {}
                None => {
                    value.push_str(&text[dollar..end]);
                    unset.push(name.to_string());
                }
            }
        }
        copied_up_to = end;
    }
    value.push_str(&text[copied_up_to..]);
    Expanded {
        value,
        unset,
        names,
    }
}

/// Parses `${NAME}` or `${NAME?}` starting at `dollar`; returns the name,
/// whether it had `?`, and the byte index just past the closing brace.
fn parse_expression(text: &str, dollar: usize) -> Option<(&str, bool, usize)> {
    let rest = &text[dollar + 2..];
    let name_len = rest.find(['$', '{', '}', '?']).unwrap_or(rest.len());
    if name_len == 0 {
        return None;
    }
    let name = &rest[..name_len];
    let after = &rest[name_len..];
    let (optional, tail) = match after.strip_prefix('?') {
        Some(tail) => (true, tail),
        None => (false, after),
    };
    tail.starts_with('}').then(|| {
        let consumed = name_len + usize::from(optional) + 1;
        (name, optional, dollar + 2 + consumed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("aa".into()),
            "EMPTY" => Some(String::new()),
            " A " => Some("spaced".into()),
            "NPM_TOKEN" => Some("tok".into()),
            _ => None,
        }
    }

    fn run(text: &str) -> (String, Vec<String>) {
        let out = expand(text, &env);
        (out.value, out.unset)
    }

    #[test]
    fn set_variables_expand() {
        assert_eq!(run("x${A}y").0, "xaay");
        assert_eq!(run("${NPM_TOKEN}").0, "tok");
        assert_eq!(run("${EMPTY}").0, "");
        assert_eq!(run("${ A }").0, "spaced");
    }

    #[test]
    fn unset_variables_stay_and_are_reported() {
        assert_eq!(
            run("${MISSING}"),
            ("${MISSING}".into(), vec!["MISSING".into()])
        );
        assert_eq!(run("a${MISSING?}b"), ("ab".into(), vec![]));
        assert_eq!(run("${A?}").0, "aa");
    }

    #[test]
    fn dollar_without_braces_is_literal() {
        assert_eq!(run("$A ${} ${A").0, "$A ${} ${A");
        assert_eq!(run("${A${A}}").0, "${Aaa}");
    }

    #[test]
    fn backslashes_escape_as_npm_does() {
        assert_eq!(run(r"\${A}").0, "${A}");
        assert_eq!(run(r"\\${A}").0, r"\aa");
        assert_eq!(run(r"\\\${A}").0, r"\${A}");
        // An escaped unset variable is not reported: it is literal on purpose.
        assert_eq!(run(r"\${MISSING}").1, Vec::<String>::new());
    }

    #[test]
    fn every_referenced_name_is_listed() {
        assert_eq!(
            expand("${A}-${MISSING}-${B?}-\\${C}", &env).names,
            vec!["A", "MISSING", "B"]
        );
    }

    #[test]
    fn references_are_classified_once() {
        let variable = |name: &str, optional| Reference::Variable {
            name: name.into(),
            optional,
        };
        assert_eq!(Reference::classify("npm_abc"), Reference::Literal);
        assert_eq!(Reference::classify("$A"), Reference::Literal);
        assert_eq!(Reference::classify(r"\${A}"), Reference::Literal);
        assert_eq!(Reference::classify(r"\${A"), Reference::Literal);
        assert_eq!(
            Reference::classify("${NPM_TOKEN}"),
            variable("NPM_TOKEN", false)
        );
        assert_eq!(Reference::classify(" ${T?} "), variable("T", true));
        assert_eq!(
            Reference::classify("Bearer ${A}-${B}"),
            variable("A", false)
        );
        assert_eq!(Reference::classify("${NPM_TOKEN"), Reference::Malformed);
        assert_eq!(Reference::classify("${}"), Reference::Malformed);
        assert_eq!(Reference::classify("${A}${B"), Reference::Malformed);
        assert_eq!(Reference::classify("x${A${B}}"), Reference::Malformed);
    }

    #[test]
    fn several_expressions() {
        assert_eq!(
            run("//${A}/:_authToken=${NPM_TOKEN}").0,
            "//aa/:_authToken=tok"
        );
    }
}
